#!/usr/bin/env bash
# Install Debian's Redis server, the broker of the ingest workers (assistant/workers, docs/runbook-workers.md).
# Idempotent: does nothing when redis-server is present. Called by `make install`. The packaged service is not relied
# on: `assistant workers broker` and the tests start their own redis-server on loopback with a config they write.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    echo "redis-server already installed: $(redis-server --version | head -1)"
    exit 0
fi
bash "$(dirname "$0")/apt_install.sh" redis-server
echo "redis-server installed: $(redis-server --version | head -1)"
