#!/usr/bin/env bash
# Install Debian's strace, which tests/test_native_egress.py uses to see every network system call a real ingest and
# question make, native libraries included (docs/security.md). Idempotent: does nothing when strace is present.
set -euo pipefail

if command -v strace >/dev/null 2>&1; then
    echo "strace already installed: $(strace -V | head -1)"
    exit 0
fi
bash "$(dirname "$0")/apt_install.sh" strace
echo "strace installed: $(strace -V | head -1)"
