"""Ingest workers on Celery with a Redis broker: one task per file, run by worker processes that load the models once
(docs/runbook-workers.md). Embedded, single-process ingest (`ingest.pipeline`) stays the default."""
