"""What every tab's events share: the request -> Session resolver, gr.Error for user-fixable errors, and the
private API visibility (no event is exposed as a public API endpoint)."""

import html
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gradio as gr

from assistant.access.session import Session, SessionApp
from assistant.errors import AssistantError

log = logging.getLogger(__name__)

Resolver = Callable[[gr.Request | None], Session]
PRIVATE: Any = {"api_visibility": "private"}


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn errors a user can act on into a visible gr.Error (escaped: Gradio renders its message as HTML), and any
    other error into "internal error, reference <id>": the traceback goes to the log under that id, never to the
    browser (the server runs with show_error=False)."""
    try:
        yield
    except gr.Error:
        raise
    except AssistantError as exc:
        raise gr.Error(html.escape(str(exc), quote=False)) from exc
    except Exception as exc:
        reference = uuid.uuid4().hex[:12]
        log.error("internal_error reference=%s type=%s", reference, type(exc).__name__, exc_info=True)
        raise gr.Error(f"internal error, reference {reference}") from exc


def make_session_resolver(app: SessionApp, local_user: str | None = None) -> Callable[[gr.Request | None], Session]:
    """Request -> Session. With login enabled the user is `request.username` (set by Gradio's auth);
    with login disabled every request acts as `local_user`, and without one everything is refused."""

    def resolve(request: gr.Request | None) -> Session:
        username = getattr(request, "username", None) if app.settings.ui.auth else local_user
        try:
            return Session.for_username(app, username)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc

    return resolve
