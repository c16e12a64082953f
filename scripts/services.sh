#!/usr/bin/env bash
# Installs (when missing) and starts the PostgreSQL and Redis servers the
# tests use, on 127.0.0.1:5432 and 127.0.0.1:6379, and Node (the k6 scripts
# are checked under it). The tests, and the README's examples, connect to
# PostgreSQL as postgres with no password: loopback connections are trusted
# (Debian's default asks for a password). Idempotent: what already works is
# left alone. Debian; root.
set -euo pipefail

need_apt=()
# Server binaries too (initdb, pg_ctl, pg_basebackup): tests run private servers.
{ command -v pg_ctlcluster && ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 || need_apt+=(postgresql)
{ command -v redis-server && command -v redis-cli; } >/dev/null 2>&1 || need_apt+=(redis-server)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  [ "$(id -u)" = 0 ] || { echo "installing ${need_apt[*]} needs root (apt-get)" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The Debian cluster ("VERSION NAME") on port 5432, if any.
pg_cluster() { pg_lsclusters -h 2>/dev/null | awk '$3 == 5432 { print $1, $2; exit }'; }
cluster=$(pg_cluster)
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if [ -z "$cluster" ]; then
    # The package creates one unless told not to; it may also have been dropped.
    ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
    echo "creating PostgreSQL $ver cluster main on port 5432"
    pg_createcluster --port 5432 "$ver" main >/dev/null
    cluster=$(pg_cluster)
  fi
  echo "starting PostgreSQL"
  # shellcheck disable=SC2086 # $cluster is "VERSION NAME"
  pg_ctlcluster --skip-systemctl-redirect $cluster start || true
fi
for _ in $(seq 1 60); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.5; done
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }

dsn='postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable'
pg_ok() { psql -w "$dsn" -Atqc 'SELECT 1' </dev/null >/dev/null 2>&1; }
if ! pg_ok; then
  [ -n "$cluster" ] || {
    echo "PostgreSQL on 127.0.0.1:5432 refuses $dsn and is not a Debian cluster this script can configure;" \
      "set NEARBY_TEST_DB to an admin DSN that works" >&2
    exit 1
  }
  hba=/etc/postgresql/${cluster/ //}/pg_hba.conf
  if ! grep -q '^# nearby: scripts/services.sh' "$hba"; then
    echo "PostgreSQL: trusting loopback connections (first lines of $hba)"
    # First, so they win over Debian's password lines.
    sed -i '1i # nearby: scripts/services.sh (tests connect as postgres with no password)\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  # shellcheck disable=SC2086
  pg_ctlcluster --skip-systemctl-redirect $cluster reload
  for _ in $(seq 1 20); do pg_ok && break; sleep 0.5; done
  pg_ok || { echo "PostgreSQL refuses $dsn:" >&2; psql -w "$dsn" -Atqc 'SELECT 1' </dev/null >&2; exit 1; }
fi

redis_ok() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
if ! redis_ok; then
  if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    echo "127.0.0.1:6379 is taken by something that does not answer PING (a Redis with a password?):" \
      "the tests need a Redis there with no password" >&2
    exit 1
  fi
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
for _ in $(seq 1 60); do redis_ok && break; sleep 0.5; done
redis_ok || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
echo "services: PostgreSQL and Redis are up"
