"""Each user's conversations, per case, on disk: one JSON file per conversation under
`<index_dir>/conversations/<user>/<case>/`, directories 0700 and files 0600 (only the service account reads them).
A conversation holds what the user saw (answers already masked for their role) and the turns the follow-up
resolver needs. Files are replaced atomically; an unreadable file is skipped with a log line, never shown."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.conversation.resolver import Turn
from assistant.errors import AssistantError

log = logging.getLogger(__name__)

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ChatMessage = dict[str, str]


@dataclass(frozen=True)
class Conversation:
    conv_id: str
    user: str
    case: str
    created: str
    updated: str
    turns: tuple[Turn, ...] = ()
    history: tuple[ChatMessage, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        first = self.turns[0].question if self.turns else "(empty)"
        return first if len(first) <= 60 else first[:57] + "…"

    @property
    def label(self) -> str:
        return f"{self.updated[:16].replace('T', ' ')} · {self.title}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _safe(value: str, what: str) -> str:
    if not _SAFE.match(value or ""):
        raise AssistantError(f"{what} {value!r} cannot name a conversation folder")
    return value


class ConversationStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, user: str, case: str) -> Path:
        return self.root / _safe(user, "user") / _safe(case, "case")

    def new(self, user: str, case: str) -> Conversation:
        now = _now()
        return Conversation(f"{now[:10].replace('-', '')}-{secrets.token_hex(4)}", user, case, now, now)

    def save(self, conv: Conversation) -> Conversation:
        folder = self._dir(conv.user, conv.case)
        for d in (self.root, folder.parent, folder):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(d, 0o700)
        path = folder / f"{_safe(conv.conv_id, 'conversation')}.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(_to_json(conv), fh, ensure_ascii=False)
        os.replace(tmp, path)
        log.info("conversation_saved user=%s case=%s conv=%s turns=%d", conv.user, conv.case, conv.conv_id,
                 len(conv.turns))
        return conv

    def append(self, conv: Conversation, turn: Turn, history: list[ChatMessage]) -> Conversation:
        updated = Conversation(conv.conv_id, conv.user, conv.case, conv.created, _now(), (*conv.turns, turn),
                               tuple(history))
        return self.save(updated)

    def load(self, user: str, case: str, conv_id: str) -> Conversation | None:
        path = self._dir(user, case) / f"{_safe(conv_id, 'conversation')}.json"
        return _read(path, user, case)

    def list(self, user: str, case: str) -> list[Conversation]:
        """This user's conversations in `case`, most recently updated first."""
        folder = self._dir(user, case)
        if not folder.is_dir():
            return []
        found = [c for p in folder.glob("*.json") if (c := _read(p, user, case)) is not None]
        return sorted(found, key=lambda c: (c.updated, c.conv_id), reverse=True)

    def latest(self, user: str, case: str) -> Conversation | None:
        convs = self.list(user, case)
        return convs[0] if convs else None


def _to_json(conv: Conversation) -> dict[str, Any]:
    return {"id": conv.conv_id, "user": conv.user, "case": conv.case, "created": conv.created,
            "updated": conv.updated, "turns": [asdict(t) for t in conv.turns], "history": list(conv.history)}


def _read(path: Path, user: str, case: str) -> Conversation | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("user") != user or data.get("case") != case:  # never another user's or case's file
            raise ValueError("owner mismatch")
        turns = tuple(Turn(str(t["question"]), str(t["searched"]), str(t.get("answer", ""))) for t in data["turns"])
        history = tuple({"role": str(m["role"]), "content": str(m["content"])} for m in data["history"])
        return Conversation(str(data["id"]), user, case, str(data["created"]), str(data["updated"]), turns, history)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("conversation_unreadable path_name=%s error=%s", path.name, type(exc).__name__)
        return None
