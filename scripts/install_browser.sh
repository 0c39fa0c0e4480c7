#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (tests/browser/). Idempotent: does nothing when it is present.
# Playwright (pip) drives this binary via executable_path; never run `playwright install` (no downloads).
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "chromium already installed: $(command -v chromium)"
    exit 0
fi

bash "$(dirname "$0")/apt_install.sh" chromium fonts-dejavu-core
echo "chromium installed: $(command -v chromium)"
