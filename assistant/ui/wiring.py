"""What every tab's events share: the request -> Session resolver, gr.Error for user-fixable errors, and the
private API visibility (no event is exposed as a public API endpoint)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gradio as gr

from assistant.access.session import Session, SessionApp
from assistant.errors import AssistantError

Resolver = Callable[[gr.Request | None], Session]
PRIVATE: Any = {"api_visibility": "private"}


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn errors a user can act on into a visible gr.Error (never a stack trace)."""
    try:
        yield
    except AssistantError as exc:
        raise gr.Error(str(exc)) from exc


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
