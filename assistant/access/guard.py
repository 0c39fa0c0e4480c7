"""An ASGI middleware that ties Gradio's per-page sessions to the login that opened them.

Gradio keys a page's event queue, its results stream and its state by a `session_hash` the browser makes up, and
only checks that *some* user is logged in: another user who learns the hash could read the results stream
(`/queue/data`), join events into it or read its state. This guard binds each session_hash to the login token of
the first request that uses it and refuses (403) any later request for that hash from another token. It also marks
events (`/queue/join`) as user activity for the idle timeout, and puts the client address where the login check
can read it (`CLIENT`) for per-client throttling.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from assistant.access.logins import LoginSessions

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CLIENT: ContextVar[str] = ContextVar("login_client", default="")
_BODY_PATHS = ("/queue/join", "/cancel")  # session_hash in the JSON body
_PATH_PARTS = ("heartbeat", "stream")  # /heartbeat/{hash}, /stream/{hash}/...
_MAX_BODY = 16 * 1024 * 1024
_MAX_BOUND = 50_000


def _token(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookies = SimpleCookie()
            cookies.load(value.decode("latin-1"))
            for key, morsel in cookies.items():
                if key.startswith("access-token"):
                    return str(morsel.value)
    return ""


def _hash_in_path(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    for i, part in enumerate(parts[:-1]):
        if part in _PATH_PARTS:
            return parts[i + 1]
    return ""


class SessionGuard:
    def __init__(self, app: ASGIApp, sessions: LoginSessions) -> None:
        self.app = app
        self.sessions = sessions
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("", 0)
        CLIENT.set(str(client[0]))
        path = str(scope.get("path", ""))
        token = _token(scope)
        session_hash = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash", [""])[0]
        session_hash = session_hash or _hash_in_path(path)
        body: list[Message] = []
        if not session_hash and path.endswith(_BODY_PATHS):
            body, session_hash = await self._read_body(receive)
        if session_hash and not self._allowed(session_hash, token):
            log.warning("session_hash_refused path=%s", path)
            await _forbidden(send)
            return
        if path.endswith("/queue/join"):
            self.sessions.username(token, active=True)  # a user action: restarts the idle timer
        if body:
            pending = list(body)

            async def replay() -> Message:
                return pending.pop(0) if pending else await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    async def _read_body(self, receive: Receive) -> tuple[list[Message], str]:
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if message.get("type") != "http.request" or not message.get("more_body") or size > _MAX_BODY:
                break
        try:
            data = json.loads(b"".join(m.get("body", b"") for m in messages) or b"{}")
            found = str(data.get("session_hash") or "") if isinstance(data, dict) else ""
        except ValueError:
            found = ""
        return messages, found

    def _allowed(self, session_hash: str, token: str) -> bool:
        """The first live login to use a session_hash owns it; everyone else is refused."""
        with self._lock:
            owner = self._owners.get(session_hash)
        if owner is not None:
            return owner == token
        if token and self.sessions.username(token) is not None:
            with self._lock:
                self._owners.setdefault(session_hash, token)
                if len(self._owners) > _MAX_BOUND:
                    live = set(self.sessions.tokens())
                    self._owners = {h: t for h, t in self._owners.items() if t in live}
                return self._owners[session_hash] == token
        return True  # no live login: Gradio's own login check answers (401)


async def _forbidden(send: Send) -> None:
    body = b'{"detail":"this page session belongs to another login"}'
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
