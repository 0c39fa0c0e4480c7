"""Settings of the ingest workers, read from the environment like the main tree (ASSISTANT_WORKERS__BROKER_URL=...).

Kept beside the workers rather than in `assistant.config`: only `assistant workers` and `assistant ingest --workers`
read them."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_WORKERS__", extra="ignore")

    broker_url: str = Field("redis://127.0.0.1:6379/0", description="Redis broker and result store of the workers: "
                            "redis://[:PASSWORD@]HOST:PORT/DB, or rediss://... for TLS (docs/runbook-workers.md). "
                            "A host that is not loopback needs allow_remote")
    allow_remote: bool = Field(False, description="Accept a broker that is not on this machine (then use rediss:// and "
                               "a password: docs/runbook-workers.md)")
    tls_ca_file: str = Field("", description="rediss://: CA certificate that signed the broker's certificate")
    queue: str = Field("assistant-ingest", description="Queue the ingest tasks go to")
    max_retries: int = Field(2, ge=0, description="Retries of a file whose task raised an unexpected error (a "
                             "file the pipeline rejects is reported at once, never retried)")
    max_deliveries: int = Field(3, ge=1, description="A file whose worker process died (kill -9, out of memory) this "
                                "many times is reported as failed instead of being run again")
    lock_wait_s: float = Field(600.0, ge=0, description="How long a worker waits for the case lock before its commit")
    visibility_timeout_s: int = Field(7200, ge=60, description="Redis: a task taken by a worker machine that vanished "
                                      "is handed out again after this long (longer than a file may take: "
                                      "ingest.parse_timeout_s plus tagging and embedding)")
    poll_s: float = Field(0.5, gt=0, description="How often `assistant ingest --workers` checks on its tasks")
    part_chunks: int = Field(2000, ge=1, description="A file that makes more chunks than this is split: parsed once, "
                             "then one task per this many chunks and one commit task (assistant.workers.split)")
