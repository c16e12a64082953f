# nearby — one command to run, one to test.
GO ?= go

.PHONY: run test services bench fuzz lint cluster cluster-down

## run: start searchd on its embedded demo data (http://localhost:8080)
run:
	$(GO) run ./cmd/searchd

## test: everything CI runs: services up, vet, gofmt, all tests
test: services lint
	$(GO) test -count=1 -timeout 20m ./...

## services: install (if missing) and start PostgreSQL and Redis, and install Chromium and Node, for the tests
services:
	@scripts/services.sh
	@scripts/chromium.sh

# gofmt checks the files git tracks; outside a git checkout (a release
# tarball), every .go file (gofmt with no files would read stdin).
lint:
	@files=$$(git ls-files '*.go' 2>/dev/null) || files=$$(find . -name '*.go' -not -path './tmp/*'); \
	out=$$(gofmt -l $$files); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: the benchmark suites (1M and 10M businesses); rewrites the tables in BENCHMARKS.md
bench:
	scripts/bench.sh

## fuzz: run each fuzz test for a while
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzNearest -fuzztime 60s ./quadtree/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./seeds/
	$(GO) test -run '^$$' -fuzz FuzzCover -fuzztime 60s ./geohash/
	$(GO) test -run '^$$' -fuzz FuzzParseNearby -fuzztime 60s ./internal/httpapi/
	$(GO) test -run '^$$' -fuzz FuzzAppendNearby -fuzztime 60s ./internal/httpapi/
	$(GO) test -run '^$$' -fuzz FuzzSearchRoutes -fuzztime 60s ./internal/httpapi/
	$(GO) test -run '^$$' -fuzz FuzzRandomRequests -fuzztime 60s ./internal/httpapi/
	$(GO) test -run '^$$' -fuzz FuzzParseQuery -fuzztime 60s ./internal/httpx/
	$(GO) test -run '^$$' -fuzz FuzzDecodeInput -fuzztime 60s ./internal/ownerapi/
	$(GO) test -run '^$$' -fuzz 'FuzzDecode$$' -fuzztime 60s ./geohash/
	$(GO) test -run '^$$' -fuzz FuzzCopyDecoder -fuzztime 60s ./internal/postgres/
	$(GO) test -run '^$$' -fuzz 'FuzzReadCSV$$' -fuzztime 60s ./internal/dataset/
	$(GO) test -run '^$$' -fuzz FuzzReadQueriesCSV -fuzztime 60s ./internal/dataset/
	$(GO) test -run '^$$' -fuzz FuzzUnmarshalJSON -fuzztime 60s ./hours/
	$(GO) test -run '^$$' -fuzz FuzzDecodeBinary -fuzztime 60s ./hours/
	$(GO) test -run '^$$' -fuzz FuzzFold -fuzztime 60s ./textmatch/
	$(GO) test -run '^$$' -fuzz FuzzMatch -fuzztime 60s ./textmatch/
	$(GO) test -run '^$$' -fuzz FuzzParseGeoJSON -fuzztime 60s ./geo/
	$(GO) test -run '^$$' -fuzz FuzzParseAnswer -fuzztime 60s ./loadtest/

## cluster: a whole deployment on this machine (Postgres primary + replica, Redis,
## owner-api, indexer, three searchd nodes); cluster-down stops it
cluster:
	scripts/cluster.sh up

cluster-down:
	scripts/cluster.sh down
