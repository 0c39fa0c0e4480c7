#!/usr/bin/env bash
# Install Debian's strace, which tests/test_native_egress.py uses to see every network system call a real ingest and
# question make, native libraries included (docs/security.md). Idempotent: does nothing when strace is present.
set -euo pipefail

bash "$(dirname "$0")/ensure_package.sh" strace strace -V
