package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/promtest"
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
	if methods := promtest.LabelValues(t, reg, "nearby_http_requests_total", "method"); !slices.Equal(methods, []string{http.MethodGet, "OTHER"}) {
		t.Errorf("method labels %v, want GET and OTHER", methods)
	}
}

// waitingDetails answers when its caller gives up, with the caller's error,
// as a database read does when the request's context ends.
type waitingDetails struct{}

func (waitingDetails) Detail(ctx context.Context, id int64) (*nearby.BusinessRecord, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("reading business %d: %w", id, ctx.Err())
}

// TestClientGoneIsNoServerError: a request whose client went away is
// counted with status 499 (nginx's "client closed request"), and not
// logged or counted as a server error.
func TestClientGoneIsNoServerError(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	s := NewServer(&search.Engine{}, slog.New(slog.NewTextHandler(&logs, nil)), reg, reg, nil, WithDetails(waitingDetails{}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/businesses/1", nil).WithContext(ctx))
	if strings.Contains(logs.String(), "error") {
		t.Errorf("logged:\n%s", logs.String())
	}
	if statuses := promtest.LabelValues(t, reg, "nearby_http_requests_total", "status"); !slices.Equal(statuses, []string{"499"}) {
		t.Errorf("counted with statuses %v, want [499]", statuses)
	}
}
