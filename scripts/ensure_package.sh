#!/usr/bin/env bash
# Usage: ensure_package.sh COMMAND PACKAGE [VERSION-FLAG]
# Install the Debian PACKAGE (through apt_install.sh) unless COMMAND is already on the PATH, then print the first line
# of `COMMAND VERSION-FLAG` (default --version). Idempotent; shared by the install_*.sh scripts.
set -euo pipefail

cmd="$1"
package="$2"
flag="${3:---version}"
if command -v "$cmd" >/dev/null 2>&1; then
    echo "$cmd already installed: $("$cmd" "$flag" 2>&1 | head -1)"
    exit 0
fi
bash "$(dirname "$0")/apt_install.sh" "$package"
echo "$cmd installed: $("$cmd" "$flag" 2>&1 | head -1)"
