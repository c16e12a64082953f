#!/usr/bin/env bash
# A whole nearby deployment on one machine, for trying it as an operator would:
#   PostgreSQL primary + streaming replica (private clusters), Redis,
#   owner-api, the indexer (a build every minute), and three searchd nodes
#   holding the five default regions with two replicas each.
# Usage: scripts/cluster.sh up [BUSINESSES] | down | status
# Everything lives under tmp/cluster/ and listens on 127.0.0.1 only.
# Environment (for running a second one, as the tests do):
#   NEARBY_CLUSTER_DIR          the directory instead of tmp/cluster/
#   NEARBY_CLUSTER_PORT_OFFSET  added to every port below (default 0)
#   NEARBY_CLUSTER_REDIS        the Redis URL (default redis://127.0.0.1:6379/0)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
W=${NEARBY_CLUSTER_DIR:-$root/tmp/cluster}
PGBIN=/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -n | tail -1)/bin
P=${NEARBY_CLUSTER_PORT_OFFSET:-0}
PRIMARY_PORT=$((5441 + P)) REPLICA_PORT=$((5442 + P))
OWNER=127.0.0.1:$((8081 + P)) ADMIN=127.0.0.1:$((9090 + P))
N1=127.0.0.1:$((8091 + P)) N2=127.0.0.1:$((8092 + P)) N3=127.0.0.1:$((8093 + P))
REDIS=${NEARBY_CLUSTER_REDIS:-redis://127.0.0.1:6379/0}
PRIMARY="postgres://postgres@127.0.0.1:$PRIMARY_PORT/nearby?sslmode=disable"
REPLICA="postgres://postgres@127.0.0.1:$REPLICA_PORT/nearby?sslmode=disable"
SECRET=cluster-dev-secret-change-me
pg() { runuser -u postgres -- "$@"; }

start_bg() { # name, command...
  local name=$1; shift
  # up run again while this one runs: starting another would fail to bind and
  # write its pid over the running one's, which down could then not stop.
  if running "$name"; then
    echo "$name is already running"
    return 0
  fi
  nohup "$@" >"$W/$name.log" 2>&1 &
  echo $! >"$W/$name.pid"
}

# running NAME: whether NAME's pid file names a live process of our binaries
# (not another that got its pid since).
running() {
  local f=$W/$1.pid
  [ -e "$f" ] && grep -qaF "$W/bin/" "/proc/$(cat "$f")/cmdline" 2>/dev/null
}

wait_http() {
  for _ in $(seq 1 200); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for $1" >&2; return 1
}

up() {
  local n=${1:-200000}
  scripts/services.sh >/dev/null
  mkdir -p "$W/bin"
  echo "building binaries"
  go build -o "$W/bin/" ./cmd/searchd ./cmd/indexer ./cmd/owner-api ./cmd/nearby-gen

  if [ ! -d "$W/primary" ]; then
    echo "creating the primary (port $PRIMARY_PORT)"
    mkdir -p "$W/primary"; chown postgres "$W" "$W/primary"
    pg "$PGBIN/initdb" -D "$W/primary" -U postgres --auth=trust >/dev/null
    cat >>"$W/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
unix_socket_directories = '/tmp'
wal_level = replica
max_wal_senders = 5
EOF
    echo "host replication all 127.0.0.1/32 trust" >>"$W/primary/pg_hba.conf"
  fi
  pg "$PGBIN/pg_ctl" -D "$W/primary" -l "$W/primary.log" -w status >/dev/null 2>&1 ||
    pg "$PGBIN/pg_ctl" -D "$W/primary" -l "$W/primary.log" -w start >/dev/null
  psql -h 127.0.0.1 -p $PRIMARY_PORT -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname='nearby'" | grep -q 1 ||
    psql -h 127.0.0.1 -p $PRIMARY_PORT -U postgres -qc "CREATE DATABASE nearby"

  if [ ! -d "$W/replica" ]; then
    echo "creating the streaming replica (port $REPLICA_PORT)"
    mkdir -p "$W/replica"; chown postgres "$W/replica"; chmod 700 "$W/replica"
    pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p $PRIMARY_PORT -U postgres -D "$W/replica" -R -X stream -c fast
    sed -i "s/^port = .*/port = $REPLICA_PORT/" "$W/replica/postgresql.conf"
  fi
  pg "$PGBIN/pg_ctl" -D "$W/replica" -l "$W/replica.log" -w status >/dev/null 2>&1 ||
    pg "$PGBIN/pg_ctl" -D "$W/replica" -l "$W/replica.log" -w start >/dev/null

  "$W/bin/owner-api" migrate --db "$PRIMARY" >/dev/null
  count=$(psql -h 127.0.0.1 -p $PRIMARY_PORT -U postgres -d nearby -Atc "SELECT count(*) FROM businesses")
  if [ "$count" = 0 ]; then
    echo "loading $n generated businesses into the primary"
    "$W/bin/nearby-gen" -n "$n" -out "$W/businesses.csv"
    "$W/bin/owner-api" import --db "$PRIMARY" --from-csv "$W/businesses.csv"
  fi

  start_bg owner-api "$W/bin/owner-api" --addr $OWNER --db "$PRIMARY" --db-replica "$REPLICA" \
    --jwt-secret "$SECRET" --redis "$REDIS"
  # A running indexer holds the build lock (up run again): it builds anyway.
  if ! running indexer; then
    echo "first index build from the replica"
    # Wait until the replica has replayed everything the primary wrote.
    lsn=$(psql -h 127.0.0.1 -p $PRIMARY_PORT -U postgres -Atc "SELECT pg_current_wal_lsn()")
    for _ in $(seq 1 200); do
      [ "$(psql -h 127.0.0.1 -p $REPLICA_PORT -U postgres -Atc "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && break
      sleep 0.1
    done
    "$W/bin/indexer" build --db "$REPLICA" --out "$W/seeds" >"$W/indexer-first.log"
  fi
  start_bg indexer "$W/bin/indexer" run --db "$REPLICA" --out "$W/seeds" --every 1m --admin-addr $ADMIN

  cat >"$W/cluster.json" <<EOF
{"nodes": {"n1": "http://$N1", "n2": "http://$N2", "n3": "http://$N3"},
 "regions": {"americas-west": ["n1", "n2"], "americas-east": ["n2", "n3"], "europe-africa": ["n1", "n3"],
             "asia-oceania": ["n2", "n3"], "rest": ["n1", "n3"]}}
EOF
  for i in 1 2 3; do
    addr=N$i
    start_bg "searchd-n$i" "$W/bin/searchd" --addr "${!addr}" --seeds "$W/seeds" --cluster "$W/cluster.json" \
      --node "n$i" --db "$REPLICA" --redis "$REDIS"
  done
  for a in $OWNER $N1 $N2 $N3; do
    wait_http "http://$a/readyz"
  done
  token=$("$W/bin/owner-api" token --owner 1 --jwt-secret "$SECRET")
  cat <<EOF

nearby cluster is up (logs and data in $W):
  searchd   http://$N1  http://$N2  http://$N3   (map: open any of them)
  owner-api http://$OWNER    indexer metrics http://$ADMIN/metrics
  postgres  primary 127.0.0.1:$PRIMARY_PORT, replica 127.0.0.1:$REPLICA_PORT;  redis $REDIS

Try:
  curl 'http://$N1/v1/search/nearby?lat=35.6812&lon=139.7671&radius=2000'
  TOKEN=$token
  curl -X POST http://$OWNER/v1/businesses -H "Authorization: Bearer \$TOKEN" \\
    -H 'Content-Type: application/json' -d '{"name":"My Cafe","category":"cafe","lat":35.6812,"lon":139.7671}'
  (it appears in search on every node within a second: searchd follows the replica)
  go run ./cmd/loadtest --target http://$N1 --duration 20s
Stop with: scripts/cluster.sh down
EOF
}

down() {
  for f in "$W"/*.pid; do
    [ -e "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
  for d in replica primary; do
    [ -d "$W/$d" ] && pg "$PGBIN/pg_ctl" -D "$W/$d" -m fast -w stop >/dev/null 2>&1 || true
  done
  echo "stopped (data kept in $W; rm -rf $W to start afresh)"
}

status() {
  for f in "$W"/*.pid; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .pid)
    if kill -0 "$(cat "$f")" 2>/dev/null; then echo "$name: running"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up [BUSINESSES] | down | status" >&2; exit 2 ;;
esac
