#!/usr/bin/env bash
# Runs the benchmark suites and rewrites their tables in BENCHMARKS.md.
# Usage: scripts/bench.sh [suite ...]   (suites: quadtree seeds geohash; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(quadtree seeds geohash)
go build -o /tmp/nearby-benchreport ./cmd/benchreport
for s in "${suites[@]}"; do
  cmd="go test -run '^\$' -bench . -benchtime 2s -timeout 60m ./$s/"
  echo "== $cmd"
  out=$(mktemp)
  eval "$cmd" | tee "$out"
  /tmp/nearby-benchreport -section "$s" -cmd "$cmd" -file BENCHMARKS.md < "$out"
  rm -f "$out"
done
