#!/usr/bin/env bash
# Install Debian's PostgreSQL server: the shared manifest of several machines (index.manifest_url,
# docs/runbook-workers.md) and the throwaway clusters the tests and benchmarks start on loopback
# (assistant/index/sql/cluster.py). Idempotent: does nothing when initdb and postgres are present. Called by
# `make install`. The packaged service is not relied on: a machine that holds the shared manifest configures its own
# cluster as the runbook says.
set -euo pipefail

found=""
for dir in $(command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)") /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then
        found="$dir"
    fi
done
if [ -n "$found" ]; then
    echo "PostgreSQL already installed: $("$found/postgres" --version)"
    exit 0
fi
bash "$(dirname "$0")/apt_install.sh" postgresql
for dir in /usr/lib/postgresql/*/bin; do found="$dir"; done
echo "PostgreSQL installed: $("$found/postgres" --version)"
