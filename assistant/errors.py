"""The handful of error classes; turned into messages only at the CLI and UI edges."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for every error a user can act on."""


class IngestError(AssistantError):
    """A file could not be loaded; carries the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class BackendUnavailable(AssistantError):
    """An answering backend cannot be reached or started; the message says how to fix it."""


class AccessDenied(AssistantError):
    """The user may not see this case or record."""


class ConfigError(AssistantError):
    """A setting is missing or invalid."""


class EmptyCase(AssistantError):
    """The case exists for the user but holds no indexed material yet."""
