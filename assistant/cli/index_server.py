"""`assistant index-server [--path DIR] [--port N]`: run a Chroma server in the foreground for a shared index.

Point the app, CLI and ingest at it with ASSISTANT_INDEX__CHROMA_URL=http://127.0.0.1:N (printed at start)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.app import App


def cmd_index_server(args: argparse.Namespace, app: App) -> int:
    from assistant.index.client import is_loopback_host
    from assistant.index.server import ChromaServer

    s = app.settings.index
    if not is_loopback_host(args.host) and not s.allow_remote:
        raise AssistantError(f"--host {args.host} is not loopback; Chroma has no authentication or TLS of its own. "
                             "Put a TLS proxy in front and set ASSISTANT_INDEX__ALLOW_REMOTE=true to bind elsewhere")
    path = Path(args.path) if args.path else app.settings.index_dir / "chroma-server"
    cache = args.cache_collections or s.server_cache_collections
    server = ChromaServer(path, port=args.port, host=args.host, cache_collections=cache)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a terminated command stops its Chroma child too
    with server:
        print(f"Chroma server on {server.url} (data {path}, {cache} HNSW indexes cached); "
              f"set ASSISTANT_INDEX__CHROMA_URL={server.url}. Ctrl-C stops it.", flush=True)
        while server.proc is not None and server.proc.poll() is None:
            time.sleep(1.0)
    return 0 if server.proc is not None and server.proc.returncode in (0, -15) else 1


def register(sub: Any) -> None:
    p = sub.add_parser("index-server", help="run a Chroma server on loopback for a shared index (foreground)")
    p.add_argument("--path", default="", help="data folder (default: INDEX_DIR/chroma-server)")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--cache-collections", type=int, default=0,
                   help="HNSW indexes kept in memory (default: ASSISTANT_INDEX__SERVER_CACHE_COLLECTIONS)")
    p.set_defaults(func=cmd_index_server)
