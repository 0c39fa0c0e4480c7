"""The Celery application of the ingest workers: Redis as broker and result store, JSON messages only, and the
settings that make a killed worker's file run again (docs/runbook-workers.md):

- `task_acks_late` + `task_reject_on_worker_lost`: a task is acknowledged only when it returns, and a worker process
  that dies under it (kill -9, out of memory) hands it back to the queue at once;
- `worker_prefetch_multiplier=1`: a worker process reserves one file at a time, so the others stay free for the rest;
- Redis' `visibility_timeout`: a task held by a worker machine that vanished whole is handed out again after it;
- a file is committed under the case lock and skipped when its version is already served, so running it twice never
  duplicates a chunk (`assistant.workers.tasks`)."""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

from assistant.errors import AssistantError
from assistant.offline import is_loopback_host
from assistant.workers.settings import WorkerSettings

TASK = "assistant.ingest_file"


def redacted(url: str) -> str:
    """The broker URL without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def check_broker_url(settings: WorkerSettings) -> str:
    url = settings.broker_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise AssistantError(f"ASSISTANT_WORKERS__BROKER_URL={redacted(url)!r} is not a redis:// or rediss:// URL")
    if not settings.allow_remote and not is_loopback_host(parts.hostname):
        raise AssistantError(
            f"broker {redacted(url)!r} is not on this machine; set ASSISTANT_WORKERS__ALLOW_REMOTE=true only for a "
            "rediss:// broker with a password on a trusted network (docs/runbook-workers.md)")
    if settings.allow_remote and not is_loopback_host(parts.hostname) and (
            parts.scheme != "rediss" or not parts.password):
        raise AssistantError(f"broker {redacted(url)!r} is on another machine: it needs rediss:// (TLS) and a "
                             "password")
    return url


def tls_options(settings: WorkerSettings) -> dict[str, Any] | None:
    if not settings.broker_url.strip().startswith("rediss://"):
        return None
    options: dict[str, Any] = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    if settings.tls_ca_file:
        options["ssl_ca_certs"] = settings.tls_ca_file
    return options


def make_celery(settings: WorkerSettings | None = None) -> Any:
    """A Celery app for `settings` (default: from the environment) with the ingest task registered."""
    from celery import Celery

    from assistant.workers.tasks import register

    settings = settings or WorkerSettings()
    url = check_broker_url(settings)
    app = Celery("assistant", broker=url, backend=url, set_as_current=False)
    transport = {"visibility_timeout": settings.visibility_timeout_s}
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1, task_track_started=True,
        task_serializer="json", result_serializer="json", accept_content=["json"], result_accept_content=["json"],
        task_default_queue=settings.queue, broker_transport_options=transport,
        result_backend_transport_options=transport, result_expires=7 * 86400, result_extended=True,
        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False, worker_send_task_events=False,
        worker_proc_alive_timeout=600.0,  # a worker process loads the models (seconds on a busy machine) at start
        worker_enable_remote_control=True, enable_utc=True)
    tls = tls_options(settings)
    if tls is not None:
        app.conf.update(broker_use_ssl=tls, redis_backend_use_ssl=tls)
    register(app, settings)
    return app
