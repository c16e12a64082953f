package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby/internal/search"
)

// TestMetricsMethodsBounded: the request counter's method label takes the
// standard methods only, so clients inventing methods cannot grow the
// metrics without bound.
func TestMetricsMethodsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewServer(&search.Engine{}, slog.New(slog.NewTextHandler(io.Discard, nil)), reg, reg, nil)
	for _, m := range []string{"GET", "BREW", "ZZ1", "ZZ2", "ZZ3"} {
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(m, "/healthz", nil))
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "nearby_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" {
					methods[l.GetValue()] = true
				}
			}
		}
	}
	if len(methods) != 2 || !methods[http.MethodGet] || !methods["OTHER"] {
		t.Errorf("method labels %v, want GET and OTHER", methods)
	}
}
