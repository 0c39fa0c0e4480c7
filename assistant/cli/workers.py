"""`assistant workers start --n N` (ingest workers in the foreground), `assistant workers broker` (their Redis on
loopback), and the `--workers` path of `assistant ingest` (docs/runbook-workers.md)."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.ingest.pipeline import IngestReport


def _allow_broker_host() -> None:
    """The egress guard admits loopback only; a remote broker the settings allow is added to it."""
    from assistant.offline import egress_guard_installed, install_egress_guard, is_loopback_host
    from assistant.workers.settings import WorkerSettings

    settings = WorkerSettings()
    host = urlsplit(settings.broker_url.strip()).hostname or ""
    if settings.allow_remote and host and not is_loopback_host(host) and egress_guard_installed():
        install_egress_guard([host])


def ingest_with_workers(app: App, paths: list[Path], case: str, progress: bool, actor: str) -> IngestReport:
    from assistant.workers.enqueue import ingest_queued
    from assistant.workers.progress import Progress

    _allow_broker_host()

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc=f"ingest {case} (workers)", unit="file", file=sys.stderr)

    def show(done: int, total: int, out: dict[str, Any]) -> None:
        if bar is not None:
            extra = f"{out['chunks']} chunks" if out["status"] == "ingested" else out.get("reason") or ""
            bar.write(f"[{done}/{total}] {out['status']}: {out['source']}" + (f" ({extra})" if extra else ""),
                      file=sys.stderr)

    def status(now: Progress) -> None:
        if bar is not None:
            bar.total = now.total
            bar.n = now.finished
            bar.set_postfix_str(now.line().split(": ", 1)[1], refresh=True)

    try:
        report = ingest_queued(app, paths, case, on_event=show, on_status=status, actor=actor)
    finally:
        if bar is not None:
            bar.close()
    from assistant.perms import secure_tree

    secure_tree(app.settings.index_dir)  # what the workers' Chroma and SQLite created, as `App.ingest` does
    return report


def attach_queued_ingest(app: App) -> None:
    """`assistant serve --ingest-workers`: the Admin tab's ingest is queued on the workers; its progress bar shows
    the files done, failed, running and queued and the parts of split files (`workers.progress`)."""
    from assistant.perms import secure_tree
    from assistant.workers.celery_app import check_broker_url
    from assistant.workers.enqueue import ingest_queued
    from assistant.workers.progress import Progress
    from assistant.workers.settings import WorkerSettings

    _allow_broker_host()

    def run(paths: Sequence[Path], case: str, on_progress: Any, actor: str) -> IngestReport:
        def status(now: Progress) -> None:
            if on_progress is not None:
                on_progress(now.finished, now.total, now.line())

        report = ingest_queued(app, paths, case, on_status=status, actor=actor)
        secure_tree(app.settings.index_dir)
        return report

    check_broker_url(WorkerSettings())  # a wrong broker URL is refused now; workers may still be loading
    app.queued_ingest = run


def cmd_workers_start(args: argparse.Namespace, app: App) -> int:
    from assistant.workers.celery_app import make_celery
    from assistant.workers.settings import WorkerSettings

    if args.n < 1:
        raise AssistantError("--n must be at least 1")
    _allow_broker_host()
    settings = WorkerSettings()
    celery = make_celery(settings)
    name = args.name or f"assistant-{socket.gethostname()}"
    argv = ["worker", "--pool=prefork", f"--concurrency={args.n}", "-Q", settings.queue, f"--hostname={name}@%h",
            f"--loglevel={args.loglevel}", "--without-gossip", "--without-mingle"]
    print(f"{args.n} ingest worker process(es) for {app.settings.index_dir}, queue {settings.queue}; Ctrl-C stops "
          "them", file=sys.stderr, flush=True)
    celery.worker_main(argv=argv)
    return 0


def cmd_workers_broker(args: argparse.Namespace, app: App) -> int:
    from assistant.workers.broker import RedisServer
    from assistant.workers.celery_app import redacted
    from assistant.workers.settings import WorkerSettings

    url = urlsplit(WorkerSettings().broker_url.strip())
    port = args.port or url.port or 6379
    path = Path(args.path) if args.path else app.settings.index_dir / "broker"
    server = RedisServer(path, port=port, host=args.host, password=url.password or "", persist=not args.no_persist)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a terminated command stops its redis-server too
    with server:
        print(f"Redis broker on {redacted(server.url)} (data {path}); Ctrl-C stops it.", flush=True)
        while server.proc is not None and server.proc.poll() is None:
            time.sleep(1.0)
    return 0 if server.proc is not None and server.proc.returncode in (0, -15) else 1


def register(sub: Any) -> None:
    p = sub.add_parser("workers", help="ingest workers (Celery + Redis): start them, or run their broker")
    wsub = p.add_subparsers(dest="workers_command", required=True)
    start = wsub.add_parser("start", help="run N ingest worker processes in the foreground (models loaded once each)")
    start.add_argument("--n", type=int, default=2, help="worker processes (default 2)")
    start.add_argument("--name", default="", help="node name (default assistant-HOSTNAME)")
    start.add_argument("--loglevel", default="WARNING")
    start.set_defaults(func=cmd_workers_start)
    broker = wsub.add_parser("broker", help="run the workers' Redis broker (redis-server) in the foreground")
    broker.add_argument("--port", type=int, default=0, help="default: the port of ASSISTANT_WORKERS__BROKER_URL")
    broker.add_argument("--host", default="127.0.0.1", help="bind address (loopback unless you set up TLS: runbook)")
    broker.add_argument("--path", default="", help="data folder (default: INDEX_DIR/broker)")
    broker.add_argument("--no-persist", action="store_true", help="keep the queue in memory only")
    broker.set_defaults(func=cmd_workers_broker)
