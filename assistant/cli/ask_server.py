"""`assistant ask-server`: one warm process (models loaded once) that answers `assistant ask` over loopback, so a
question from the command line costs the answer, not seconds of model loading (benchmarks/bench_cold_start.py).

The server binds 127.0.0.1 on a free port and writes INDEX_DIR/ask-server.json (port, pid and a random token;
readable by its owner only). `assistant ask` reads that file: when the server answers, the question goes there
(the server audits it exactly as the CLI would: OS user, claimed name, purpose); when there is no file or nobody
listens, `ask` answers in its own process as before. `ask --local` always answers in process. Requests are served
one at a time."""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import secrets
import signal
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.app import App

log = logging.getLogger(__name__)
STATE_FILE = "ask-server.json"


def _answer(app: App, request: dict[str, Any]) -> dict[str, Any]:
    from assistant.access.accounts import cli_identity

    # The identity is made here, as the CLI makes it: only the server's OS user can read the token file, so the
    # OS user is this process's; the client's --user stays a claim.
    answer = app.ask(str(request["case"]), str(request["question"]), user=cli_identity(str(request.get("user") or "")),
                     purpose=str(request.get("purpose") or ""))
    role = str(request.get("role") or "")
    if role:
        answer = app.mask_answer(answer, role)
    payload: dict[str, Any] = answer.to_json()
    return payload


def make_handler(app: App, token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/ask":
                self._reply(404, {"error": "unknown path"})
                return
            if not hmac.compare_digest(self.headers.get("X-Ask-Token", ""), token):
                self._reply(403, {"error": "bad token"})
                return
            try:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                self._reply(200, {"answer": _answer(app, request)})
            except AssistantError as exc:
                self._reply(400, {"error": str(exc)})
            except Exception as exc:
                log.warning("ask-server internal error type=%s", type(exc).__name__)
                self._reply(500, {"error": f"internal error: {type(exc).__name__}"})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # never log requests: they hold questions
            return

    return Handler


def warm(app: App) -> None:
    """Load what a question needs: the embedder's model, the PII tagger (question identifiers), the answerer."""
    app.embedder.embed_query("warm up")
    app.pii.query_terms("call 07700 900418")
    _ = app.answerer


def cmd_ask_server(args: argparse.Namespace, app: App) -> int:
    warm(app)
    token = secrets.token_urlsafe(32)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # terminated: still remove the state file
    httpd = HTTPServer(("127.0.0.1", args.port), make_handler(app, token))
    state = app.settings.index_dir / STATE_FILE
    fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"port": httpd.server_address[1], "pid": os.getpid(), "token": token}, fh)
    print(f"ask-server on http://127.0.0.1:{httpd.server_address[1]} for {app.settings.index_dir}; "
          "`assistant ask` now answers through it. Ctrl-C stops it.", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        state.unlink(missing_ok=True)
    return 0


def server_port(index_dir: Path) -> int:
    """The port of the ask-server running for this index (0 when none): the kernel guard must allow it."""
    try:
        return int(json.loads((index_dir / STATE_FILE).read_text(encoding="utf-8"))["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def forward(index_dir: Path, request: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
    """The answer from a running ask-server, or None when none runs for this index (answer in process)."""
    try:
        state = json.loads((index_dir / STATE_FILE).read_text(encoding="utf-8"))
        url = f"http://127.0.0.1:{int(state['port'])}/ask"
        token = str(state["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    req = urllib.request.Request(url, data=json.dumps(request).encode("utf-8"), method="POST",
                                 headers={"Content-Type": "application/json", "X-Ask-Token": token})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            body: dict[str, Any] = json.loads(resp.read())["answer"]
            return body
    except urllib.error.HTTPError as exc:
        message = json.loads(exc.read() or b"{}").get("error", exc.reason)
        if exc.code == 400:
            raise AssistantError(str(message)) from exc
        raise RuntimeError(f"ask-server: {message}") from exc
    except (urllib.error.URLError, ConnectionError):
        log.info("ask-server state file found but nobody answers; answering in process")
        return None


def register(sub: Any) -> None:
    p = sub.add_parser("ask-server", help="keep the models loaded and answer `assistant ask` over loopback")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.set_defaults(func=cmd_ask_server)
