#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the history tests.
#
#   export VICTOR_TEST_POSTGRES_URL="$(bash scripts/postgres-test-server.sh)" && pytest ...
#   source scripts/postgres-test-server.sh && pytest ...      # exports the variable itself
#
# Executed, it prints the URL; sourced, it exports VICTOR_TEST_POSTGRES_URL.
# Installs Debian's postgresql when it is missing (scripts/ensure-system-deps.sh, needs root).
# The cluster lives in a temporary folder owned by an unprivileged user (initdb refuses to
# run as root), listens only on loopback on a free port and trusts local connections.
#
# Clean-up: the server runs in its own session with its output in a log file, so it never
# holds the caller's terminal or pipes (CI does not wait for it). A watchdog, also in its
# own session, stops the server and deletes its folder as soon as the shell that started
# this script exits (the Makefile recipe's shell, i.e. after pytest). Set
# VICTOR_TEST_POSTGRES_OWNER_PID to tie it to another process, or to 0 to keep the server
# until `pg_ctl -D DIR stop` (the folder is printed on stderr).

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: run in a child bash (no `set -e` leaks into the caller), owned by the caller.
    VICTOR_TEST_POSTGRES_URL="$(VICTOR_TEST_POSTGRES_OWNER_PID="${VICTOR_TEST_POSTGRES_OWNER_PID:-$$}" \
        bash "${BASH_SOURCE[0]}")" || return 1
    export VICTOR_TEST_POSTGRES_URL
    return 0
fi

set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OWNER_PID="${VICTOR_TEST_POSTGRES_OWNER_PID:-$PPID}"

find_bin() {
    local name=$1
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
    ls /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(find_bin initdb)" ]; then
    bash "$HERE/ensure-system-deps.sh" postgresql >&2
fi
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)
if [ -z "$INITDB" ] || [ -z "$PG_CTL" ]; then
    echo "postgres-test-server: initdb/pg_ctl not found after installing postgresql" >&2
    exit 1
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE=$(mktemp -d /tmp/victor-pg.XXXXXX)
chmod 755 "$BASE"
PGDATA="$BASE/data"

run_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown -R postgres "$BASE"
        (cd "$BASE" && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
    else
        "$@"
    fi
}

run_as_owner "$INITDB" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --no-sync >"$BASE/initdb.log" 2>&1 \
    || { cat "$BASE/initdb.log" >&2; rm -rf "$BASE"; exit 1; }
# pg_ctl starts the server in a new session with stdin from /dev/null and output to the log.
run_as_owner "$PG_CTL" -D "$PGDATA" -l "$BASE/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $BASE -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null 2>"$BASE/pg_ctl.log" \
    || { cat "$BASE/pg_ctl.log" "$BASE/server.log" >&2; rm -rf "$BASE"; exit 1; }

if [ "$OWNER_PID" != "0" ] && kill -0 "$OWNER_PID" 2>/dev/null; then
    # The watchdog: its own session, no inherited descriptors, gone with the server.
    setsid bash -c '
        owner=$1 pg_ctl=$2 pgdata=$3 base=$4
        tail --pid="$owner" -f /dev/null 2>/dev/null \
            || while kill -0 "$owner" 2>/dev/null; do sleep 1; done
        if [ "$(id -u)" -eq 0 ]; then
            su postgres -s /bin/sh -c "\"$pg_ctl\" -D \"$pgdata\" stop -m fast -w" || true
        else
            "$pg_ctl" -D "$pgdata" stop -m fast -w || true
        fi
        rm -rf "$base"
    ' victor-pg-watchdog "$OWNER_PID" "$PG_CTL" "$PGDATA" "$BASE" </dev/null >/dev/null 2>&1 &
    echo "postgres-test-server: port $PORT, data in $PGDATA; stopped when process $OWNER_PID exits" >&2
else
    echo "postgres-test-server: port $PORT, data in $PGDATA (stop with: $PG_CTL -D $PGDATA stop)" >&2
fi
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
