#!/usr/bin/env bash
# Regenerates docs/images/digest-chart.png: runs the demo into a temporary folder with
# matplotlib blind to the system's fonts (MPL_IGNORE_SYSTEM_FONTS, a fresh MPLCONFIGDIR),
# as on a machine with no Chinese font, and takes the progress chart out of the last
# digest email in its outbox, byte for byte as the coordinators receive it.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
MPLCONFIGDIR="$work/mpl" MPL_IGNORE_SYSTEM_FONTS=1 .venv/bin/cuiban demo --out "$work/demo" > "$work/demo.log" 2>&1
echo "glyph warnings: $(grep -c Glyph "$work/demo.log" || true)"
.venv/bin/python - "$work/demo/outbox" docs/images/digest-chart.png <<'PY'
import email
import email.policy
import sys
from pathlib import Path

last = sorted(Path(sys.argv[1]).glob("*-digest.eml"))[-1]
message = email.message_from_bytes(last.read_bytes(), policy=email.policy.default)
chart = next(p for p in message.walk() if p.get_content_type() == "image/png")
Path(sys.argv[2]).write_bytes(chart.get_content())
print(f"{sys.argv[2]} from {last.name}")
PY
