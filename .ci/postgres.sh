#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the tests and print its URL.
# Usage: eval "$(bash .ci/postgres.sh start)"   → exports CUIBAN_TEST_PG_URL and CUIBAN_TEST_PG_DIR
#        bash .ci/postgres.sh stop "$CUIBAN_TEST_PG_DIR"
# initdb refuses to run as root, so as root the server runs as the `postgres` user.
set -euo pipefail

bin_dir() {
    for candidate in "$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")")" /usr/lib/postgresql/*/bin; do
        if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then echo "$candidate"; return; fi
    done
    echo "PostgreSQL server binaries (initdb, pg_ctl) not found" >&2
    exit 1
}

as_owner() {
    # from / so that the server's user need not be able to enter the working folder
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "${1:-}" in
    start)
        bin=$(bin_dir)
        if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
            useradd --system --no-create-home postgres
        fi
        dir=$(mktemp -d /tmp/cuiban-pg.XXXXXX)
        chmod 755 "$dir"
        [ "$(id -u)" = 0 ] && chown postgres "$dir"
        port=$(free_port)
        as_owner "$bin/initdb" -D "$dir/data" -U cuiban --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
        as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U cuiban cuiban_test
        echo "export CUIBAN_TEST_PG_URL=postgresql+psycopg://cuiban@127.0.0.1:$port/cuiban_test"
        echo "export CUIBAN_TEST_PG_DIR=$dir"
        ;;
    stop)
        bin=$(bin_dir)
        dir=${2:?usage: postgres.sh stop DIR}
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
        rm -rf "$dir"
        ;;
    *)
        echo "usage: bash .ci/postgres.sh start | stop DIR" >&2
        exit 2
        ;;
esac
