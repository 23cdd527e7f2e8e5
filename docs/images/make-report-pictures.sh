#!/usr/bin/env bash
# Regenerates the pictures in docs/reports.md: runs the demo into a temporary folder,
# writes each report as PDF from its database at 2016-12-30 18:00, renders the first page.
# Needs LibreOffice and poppler-utils (bash .ci/converters.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/cuiban demo --out "$work/demo" > /dev/null
db="sqlite:///$work/demo/cuiban-demo.sqlite3"
now=2016-12-30T18:00+08:00
for report in dept-audit monthly teacher-sheet working-group; do
    extra=()
    [ "$report" = teacher-sheet ] && extra=(--unit news)
    .venv/bin/cuiban report "$report" "${extra[@]}" --db "$db" --now "$now" --format pdf -o "$work/$report.pdf"
    pdftoppm -r 60 -png -f 1 -l 1 -singlefile "$work/$report.pdf" "docs/images/report-$report"
done
ls -l docs/images/report-*.png
