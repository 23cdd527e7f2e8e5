#!/usr/bin/env bash
# The README's two commands: `./dev.sh demo` runs the main job, `./dev.sh test` runs the tests;
# `./dev.sh web` then shows the demo's campaign in a browser (the web pages on its database).
# Each creates .venv and installs the project into it when pyproject.toml (or this script) has changed.
set -euo pipefail
cd "$(dirname "$0")"

venv=.venv
stamp="$venv/.cuiban-installed"

ensure_venv() {
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    want=$(cat pyproject.toml dev.sh | sha256sum | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        # setuptools that builds wheels by itself: tests/e2e/test_wheel_install.py builds one offline
        "$venv/bin/python" -m pip install --quiet --upgrade pip "setuptools>=70.1"
        "$venv/bin/python" -m pip install --quiet -e '.[dev]'
        echo "$want" > "$stamp"
    fi
}

cmd=${1:-}
case "$cmd" in
    demo)
        ensure_venv
        "$venv/bin/cuiban" plan check
        "$venv/bin/cuiban" demo --out demo
        ;;
    web)
        # the demo's database at the demo's last moment, on this machine only; sign-in mails land
        # in demo/outbox next to the campaign's; extra arguments go to `cuiban serve` (e.g. --port 8001)
        if [ ! -f demo/cuiban-demo.sqlite3 ]; then
            echo "no demo database (demo/cuiban-demo.sqlite3): run ./dev.sh demo first" >&2
            exit 2
        fi
        ensure_venv
        shift
        CUIBAN_OUTBOX_DIR=demo/outbox CUIBAN_EVIDENCE_DIR=demo/evidence exec "$venv/bin/cuiban" serve --dev \
            --db sqlite:///demo/cuiban-demo.sqlite3 --plan "${CUIBAN_PLAN:-config/plan.yaml}" \
            --now 2016-12-30T18:00+08:00 "$@"
        ;;
    test)
        ensure_venv
        "$venv/bin/ruff" check .
        shift
        # two workers or more (pytest-xdist; CUIBAN_TEST_WORKERS=0 runs in one process): every test has
        # its own files, ports and PostgreSQL schema, so they run side by side
        "$venv/bin/python" -m pytest -n "${CUIBAN_TEST_WORKERS:-auto}" "$@"
        ;;
    *)
        echo "usage: ./dev.sh demo | ./dev.sh web [cuiban serve options] | ./dev.sh test [pytest args]" >&2
        exit 2
        ;;
esac
