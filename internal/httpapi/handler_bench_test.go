package httpapi

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/search"
)

// BenchmarkHandler measures the search handler's own cost per request
// without the network: router, middleware, parsing, search, encoding.
func BenchmarkHandler(b *testing.B) {
	engine := &search.Engine{}
	region, err := search.BuildRegion("world", 1, dataset.Generate(1_000_000, 1))
	if err != nil {
		b.Fatal(err)
	}
	engine.Swap(search.NewIndex(region))
	reg := prometheus.NewRegistry()
	s := NewServer(engine, slog.New(slog.NewTextHandler(io.Discard, nil)), reg, reg, nil)
	qs := dataset.Queries(10000, 3)
	reqs := make([]*http.Request, len(qs))
	for i, q := range qs {
		reqs[i] = httptest.NewRequest(http.MethodGet, fmt.Sprintf("/v1/search/nearby?lat=%v&lon=%v&radius=2000&limit=20", q.Lat, q.Lon), nil)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, reqs[i%len(reqs)])
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		i++
	}
}
