#!/usr/bin/env bash
# Runs the benchmark suites and rewrites their tables in BENCHMARKS.md.
# Usage: scripts/bench.sh [suite ...]
#   suites: quadtree seeds geohash geo searchd engines cluster owner indexer redis live delta filters (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(quadtree seeds geohash geo searchd engines cluster owner indexer redis live delta filters)
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
scripts/services.sh >/dev/null
if [[ " ${suites[*]} " == *" engines "* ]]; then # PostGIS, for the side-by-side comparison
  pkg="postgresql-$(ls /etc/postgresql | sort -n | tail -1)-postgis-3"
  dpkg -s "$pkg" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$pkg" >/dev/null; }
fi
go build -o /tmp/nearby-benchreport ./cmd/benchreport
for s in "${suites[@]}"; do
  case "$s" in
    quadtree|seeds|geohash) cmd="go test -run '^\$' -bench . -benchtime 2s -timeout 60m ./$s/" ;;
    geo) cmd="go test -run '^\$' -bench . -benchtime 1s ./geo/" ;;
    searchd) cmd="go test -run '^\$' -bench Throughput -benchtime 1x ./internal/httpapi/" ;;
    engines) cmd="go test -run '^\$' -bench Engines -benchtime 1x -timeout 30m ./cmd/searchd/" ;;
    cluster) cmd="go test -run '^\$' -bench ClusterFanout -benchtime 1x ./cmd/searchd/" ;;
    owner) cmd="go test -run '^\$' -bench . -benchtime 1x ./cmd/owner-api/" ;;
    redis) cmd="go test -run '^\$' -bench RedisTier -benchtime 1x ./cmd/searchd/" ;;
    live) cmd="go test -run '^\$' -bench LiveVisibility -benchtime 1x ./cmd/indexer/" ;;
    delta) cmd="go test -run '^\$' -bench NearbyDelta -benchtime 300000x ./internal/search/" ;;
    filters) cmd="go test -run '^\$' -bench Filters -benchtime 20000x ./internal/search/" ;;
    # Loads 1M and 10M businesses into throwaway databases (about 2 min for 10M), then times three builds each.
    indexer) cmd="go test -run '^\$' -bench BuildFromDB -benchtime 3x -timeout 60m ./cmd/indexer/ -args -indexer.sizes=1M,10M" ;;
    *) echo "unknown suite $s" >&2; exit 2 ;;
  esac
  echo "== $cmd"
  out=$(mktemp)
  eval "$cmd" | tee "$out"
  /tmp/nearby-benchreport -section "$s" -cmd "$cmd" -file BENCHMARKS.md < "$out"
  rm -f "$out"
done
