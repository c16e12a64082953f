// Package searchdtest starts a real searchd HTTP API (internal/search and
// internal/httpapi over generated businesses, seed 1) on a loopback port,
// for tests and benchmarks of the load-test runner, as net/http/httptest
// does for handlers. Indexes are built once per size and shared.
package searchdtest

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby/api"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/httpapi"
	"github.com/nearby/nearby/internal/search"
)

// engines caches one index per size: building is the slow part.
var (
	mu      sync.Mutex
	engines = map[int]*search.Engine{}
)

// Start serves searchd's API over n generated businesses (seed 1) on
// 127.0.0.1 and returns its base URL; the server stops when the test ends.
func Start(t testing.TB, n int) string {
	t.Helper()
	mu.Lock()
	engine := engines[n]
	if engine == nil {
		region, err := search.BuildRegion("world", 1, dataset.Generate(n, 1))
		if err != nil {
			mu.Unlock()
			t.Fatal(err)
		}
		engine = &search.Engine{}
		engine.Swap(search.NewIndex(region))
		engines[n] = engine
	}
	mu.Unlock()
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv := httptest.NewServer(httpapi.NewServer(engine, logger, reg, reg, api.OpenAPI))
	t.Cleanup(srv.Close)
	return srv.URL
}
