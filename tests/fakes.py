"""Test doubles that go through the real interfaces. `ScriptedBackend` is a real Backend (it lives in
assistant/backends.py so `ASSISTANT_LLM__BACKEND=fake` works); it is re-exported here for tests."""

from __future__ import annotations

from assistant.backends import ScriptedBackend

__all__ = ["ScriptedBackend"]
