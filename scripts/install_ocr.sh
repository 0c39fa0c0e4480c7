#!/usr/bin/env bash
# Install Debian's Tesseract OCR with the language packs the cases need (eng pol ron ara urd vie + osd for page
# orientation). Idempotent: does nothing when tesseract and every pack are present. Called by `make install`.
set -euo pipefail

LANGS=(eng osd pol ron ara urd vie)
if command -v tesseract >/dev/null 2>&1; then
    have=$(tesseract --list-langs 2>/dev/null | tail -n +2)
    missing=0
    for lang in "${LANGS[@]}"; do
        grep -qx "$lang" <<<"$have" || missing=1
    done
    if [ "$missing" -eq 0 ]; then
        echo "tesseract already installed with ${LANGS[*]}"
        exit 0
    fi
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "error: need root (or sudo) to apt-get install tesseract-ocr" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
packages=(tesseract-ocr libwebpmux3 fonts-dejavu-core)
for lang in "${LANGS[@]}"; do packages+=("tesseract-ocr-$lang"); done
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
echo "tesseract installed: $(tesseract --version 2>&1 | head -1)"
