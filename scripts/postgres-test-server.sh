#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the history tests and print its URL.
#
#   export VICTOR_TEST_POSTGRES_URL="$(bash scripts/postgres-test-server.sh)"
#
# Installs Debian's postgresql when initdb is missing (needs root). The cluster lives in a
# temporary folder owned by an unprivileged user (initdb refuses to run as root), listens
# only on loopback on a free port, trusts local connections and is stopped with
#   pg_ctl -D "$PGDATA" stop   (the folder is printed on stderr).
set -euo pipefail

find_bin() {
    local name=$1
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
    ls /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(find_bin initdb)" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "postgres-test-server: PostgreSQL is missing and installing it needs root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
fi
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)

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
    || { cat "$BASE/initdb.log" >&2; exit 1; }
run_as_owner "$PG_CTL" -D "$PGDATA" -l "$BASE/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $BASE -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2 || { cat "$BASE/server.log" >&2; exit 1; }

echo "postgres-test-server: data in $PGDATA (stop with: $PG_CTL -D $PGDATA stop)" >&2
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
