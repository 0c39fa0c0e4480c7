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
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing=1  # the OCR tests render pages with it
    if [ "$missing" -eq 0 ]; then
        echo "tesseract already installed with ${LANGS[*]}"
        exit 0
    fi
fi

packages=(tesseract-ocr libwebpmux3 fonts-dejavu-core)
for lang in "${LANGS[@]}"; do packages+=("tesseract-ocr-$lang"); done
bash "$(dirname "$0")/apt_install.sh" "${packages[@]}"
echo "tesseract installed: $(tesseract --version 2>&1 | head -1)"
