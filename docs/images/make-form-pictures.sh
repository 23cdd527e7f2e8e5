#!/usr/bin/env bash
# Regenerates the pictures of the forms in docs/reports.md: runs the demo into a temporary folder,
# writes each form as xlsx and docx from its database as of 2016-12-09 18:00, converts both to PDF
# with LibreOffice the way cuiban does (reports/pdf.py: the packaged Song face for 宋体) and renders
# the first page. Needs LibreOffice Writer and Calc and poppler-utils (bash .ci/converters.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/cuiban demo --out "$work/demo" > /dev/null
db="sqlite:///$work/demo/cuiban-demo.sqlite3"
now=2016-12-09T18:00+08:00
for report in dept-audit monthly teacher-sheet working-group; do
    extra=()
    [ "$report" = dept-audit ] && extra=(--unit 公共基础教研室)
    [ "$report" = teacher-sheet ] && extra=(--unit news)
    for fmt in xlsx docx; do
        .venv/bin/cuiban report "$report" "${extra[@]}" --plan config/plan.yaml --db "$db" --now "$now" \
            --format "$fmt" -o "$work/form-$report-$fmt.$fmt" > /dev/null
    done
done
.venv/bin/python -c 'import sys; from pathlib import Path; from cuiban.reports.pdf import to_pdfs
to_pdfs([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]))' "$work/pdf" "$work"/form-*.xlsx "$work"/form-*.docx
for pdf in "$work"/pdf/form-*.pdf; do
    pdftoppm -r 60 -png -f 1 -l 1 -singlefile "$pdf" "docs/images/$(basename "$pdf" .pdf)"
done
ls -l docs/images/form-*.png
