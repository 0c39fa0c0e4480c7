"""Login sessions and login throttling, independent of the web framework.

`LoginSessions` is the server's table of login tokens: each remembers its user, the user's epoch at login (the
store moves it on every password change and disable, from any process, the CLI included), when it started and when
its user last acted. A token is alive only while the user exists, is enabled, has the same epoch, has acted within
the idle timeout and is younger than the absolute timeout. `TokenMap` lets Gradio use it as its `app.tokens`.

`LoginThrottle` counts failed logins per username and per client address: after `backoff_after` failures each
further attempt must wait (1 s, 2 s, 4 s ... up to `backoff_max_s`) and is refused unchecked inside the wait, so a
flood costs no bcrypt work; `lockout_after_*` failures lock the account, or the client, for `lockout_minutes`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass

from assistant.access.audit import AuditLog
from assistant.access.auth import UserStore
from assistant.config import AccessSettings

log = logging.getLogger(__name__)

Clock = Callable[[], float]
_MAX_TRACKED = 10_000  # throttle entries kept (oldest dropped first): bounded memory under a spray of names


@dataclass
class _Login:
    username: str
    epoch: int
    started: float
    active: float


class LoginSessions:
    """Live login tokens with idle and absolute timeouts and revocation through the user store."""

    def __init__(self, users: UserStore, settings: AccessSettings, clock: Clock = time.time) -> None:
        self.users = users
        self.idle_s = settings.session_idle_minutes * 60
        self.max_s = settings.session_max_hours * 3600
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, _Login] = {}

    def start(self, token: str, username: str) -> None:
        state = self.users.session_state(username)
        if state is None or state[1]:
            raise KeyError(f"no enabled user {username!r}")
        now = self.clock()
        with self._lock:
            self._tokens[token] = _Login(username.strip().lower(), state[0], now, now)
        log.info("login_session_started user=%s sessions=%d", username, len(self._tokens))

    def username(self, token: str | None, *, active: bool = False) -> str | None:
        """The token's user while the session lives, else None (and the token is forgotten). `active=True` marks
        a user action, which restarts the idle timer."""
        if not token:
            return None
        with self._lock:
            login = self._tokens.get(token)
        if login is None:
            return None
        reason = self._dead(login)
        if reason:
            self.end(token)
            log.info("login_session_ended user=%s reason=%s", login.username, reason)
            return None
        if active:
            login.active = self.clock()
        return login.username

    def _dead(self, login: _Login) -> str:
        now = self.clock()
        if now - login.active > self.idle_s:
            return "idle"
        if now - login.started > self.max_s:
            return "expired"
        state = self.users.session_state(login.username)
        if state is None:
            return "removed"
        if state[1]:
            return "disabled"
        return "revoked" if state[0] != login.epoch else ""

    def end(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def tokens(self) -> list[str]:
        with self._lock:
            return list(self._tokens)


class TokenMap(MutableMapping[str, str]):
    """Gradio's `app.tokens` (token -> username), answered by `LoginSessions`."""

    def __init__(self, sessions: LoginSessions) -> None:
        self.sessions = sessions

    def __getitem__(self, token: str) -> str:
        name = self.sessions.username(token)
        if name is None:
            raise KeyError(token)
        return name

    def __setitem__(self, token: str, username: str) -> None:
        self.sessions.start(token, username)

    def __delitem__(self, token: str) -> None:
        self.sessions.end(token)

    def __iter__(self) -> Iterator[str]:
        return iter([t for t in self.sessions.tokens() if self.sessions.username(t) is not None])

    def __len__(self) -> int:
        return len(self.sessions.tokens())


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """Back-off and lock-out per username and per client address (in memory, per server process)."""

    def __init__(self, settings: AccessSettings, clock: Clock = time.monotonic) -> None:
        self.s = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], _Failures] = {}

    def _keys(self, username: str, client: str) -> list[tuple[tuple[str, str], int]]:
        return [(("user", username.strip().lower()), self.s.lockout_after_user),
                (("client", client), self.s.lockout_after_client)]

    def refusal(self, username: str, client: str) -> str:
        """Why this attempt is refused without checking the password ("" when it may be checked)."""
        now = self.clock()
        with self._lock:
            for key, _ in self._keys(username, client):
                f = self._seen.get(key)
                if f is None:
                    continue
                if f.locked_until > now:
                    return f"{key[0]} locked after {f.count} failed logins; try again in {f.locked_until - now:.0f} s"
                if f.locked_until:  # a lock-out that has run out starts the count again
                    self._seen[key] = _Failures()
                    continue
                if f.count >= self.s.backoff_after:
                    wait = min(self.s.backoff_base_s * 2 ** (f.count - self.s.backoff_after), self.s.backoff_max_s)
                    if now - f.last < wait:
                        return f"too many failed logins for this {key[0]}; wait {wait - (now - f.last):.0f} s"
        return ""

    def failed(self, username: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            for key, limit in self._keys(username, client):
                f = self._seen.setdefault(key, _Failures())
                f.count, f.last = f.count + 1, now
                if f.count >= limit:
                    f.locked_until = now + self.s.lockout_minutes * 60
                    log.warning("login_locked kind=%s failures=%d", key[0], f.count)
            while len(self._seen) > _MAX_TRACKED:
                self._seen.pop(next(iter(self._seen)))

    def succeeded(self, username: str) -> None:
        """A correct password clears that user's count (not the client's: one good account must not reset a
        client that sprays others)."""
        with self._lock:
            self._seen.pop(("user", username.strip().lower()), None)


def make_login_check(users: UserStore, audit: AuditLog, settings: AccessSettings, throttle: LoginThrottle,
                     client: Callable[[], str] = lambda: "") -> Callable[[str, str], Awaitable[bool]]:
    """An async `(username, password) -> bool` for Gradio's `auth=`: Gradio awaits it, so the bcrypt check and the
    audit write run in worker threads (at most `max_concurrent_checks` at once) and the event loop stays free for
    every other user. Throttled attempts are refused before any bcrypt work and recorded as "denied"."""
    gate = asyncio.Semaphore(max(1, settings.max_concurrent_checks))

    def attempt(username: str, password: str, where: str) -> bool:
        user = users.authenticate(username, password)
        known = user or users.get(username)  # never record a typed name that is not a user (it may be a password)
        name = known.username if known else "<unknown>"
        audit.append("login", name, "", {"ok": user is not None, "client": where})
        if user is None:
            throttle.failed(username, where)
        else:
            throttle.succeeded(username)
        return user is not None

    def refused(username: str, where: str, reason: str) -> None:
        known = users.get(username)
        audit.append("denied", known.username if known else "<unknown>", "",
                     {"action": "login", "reason": reason, "client": where})

    async def check(username: str, password: str) -> bool:
        where = client() or "unknown"
        reason = throttle.refusal(username, where)
        if not reason:
            async with gate:  # asked again once a slot is free: a concurrent flood is cut off as failures land
                reason = throttle.refusal(username, where)
                if not reason:
                    return await asyncio.to_thread(attempt, username, password, where)
        await asyncio.to_thread(refused, username, where, reason)
        return False

    return check
