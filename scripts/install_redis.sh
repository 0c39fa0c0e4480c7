#!/usr/bin/env bash
# Install Debian's Redis server, the broker of the ingest workers (assistant/workers, docs/runbook-workers.md).
# Idempotent: does nothing when redis-server is present. Called by `make install`. The packaged service is not relied
# on: `assistant workers broker` and the tests start their own redis-server on loopback with a config they write.
set -euo pipefail

bash "$(dirname "$0")/ensure_package.sh" redis-server redis-server
