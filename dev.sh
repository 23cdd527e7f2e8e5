#!/usr/bin/env bash
# The README's two commands: `./dev.sh demo` runs the main job, `./dev.sh test` runs the tests.
# Both create .venv and install the project into it when pyproject.toml (or this script) has changed.
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
    test)
        ensure_venv
        "$venv/bin/ruff" check .
        shift
        "$venv/bin/python" -m pytest "$@"
        ;;
    *)
        echo "usage: ./dev.sh demo | ./dev.sh test [pytest args]" >&2
        exit 2
        ;;
esac
