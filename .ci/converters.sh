#!/usr/bin/env bash
# Install what PDF reports need: LibreOffice (headless Writer for docx, Calc for xlsx), a font with Chinese glyphs,
# and poppler's pdfinfo/pdftotext/pdftoppm (the tests read page counts and text).
# Usage: bash .ci/converters.sh    (as root on Debian; does nothing when all are present)
set -euo pipefail

if command -v soffice >/dev/null && [ -e /usr/lib/libreoffice/program/libsclo.so ] \
    && command -v pdfinfo >/dev/null && fc-list :lang=zh | grep -q .; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "PDF reports need: apt install libreoffice-writer-nogui libreoffice-calc-nogui fonts-wqy-zenhei poppler-utils" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui libreoffice-calc-nogui fonts-wqy-zenhei poppler-utils >/dev/null
