#!/usr/bin/env bash
# Install the Debian packages the test suite needs, with at most one `apt-get update`:
#   chromium    headless browser for the HTML trace report tests and benchmarks
#   postgresql  server binaries for the PostgreSQL history tests (scripts/postgres-test-server.sh)
#
#   bash scripts/ensure-system-deps.sh                 # both
#   bash scripts/ensure-system-deps.sh postgresql      # only what is named
#
# Idempotent: installs only what is missing, and does nothing when everything is there.
# Needs root only when something is missing. PostgreSQL is installed without its default
# `main` cluster, so no system server is left running; the tests start their own.
set -euo pipefail

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(chromium postgresql)

have_postgres() {
    command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

packages=()
for component in "${wanted[@]}"; do
    case "$component" in
        chromium)
            command -v chromium >/dev/null 2>&1 || packages+=(chromium fonts-dejavu-core)
            ;;
        postgresql)
            have_postgres || packages+=(postgresql)
            ;;
        *)
            echo "ensure-system-deps: unknown component '$component' (use chromium, postgresql)" >&2
            exit 2
            ;;
    esac
done

if [ ${#packages[@]} -eq 0 ]; then
    echo "ensure-system-deps: ${wanted[*]} already installed" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-system-deps: missing Debian packages: ${packages[*]}; install them as root" \
        "(apt-get install ${packages[*]}) or run this script as root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [[ " ${packages[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    # postgresql-common reads this before creating (and starting) a `main` cluster.
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
fi
echo "ensure-system-deps: installing ${packages[*]}" >&2
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${packages[@]}" >&2
echo "ensure-system-deps: installed ${packages[*]}" >&2
