package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
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

// brokenPipe is a response writer whose connection is gone: every body
// write fails, as a write to a reset socket does.
type brokenPipe struct {
	*httptest.ResponseRecorder
	headers int // WriteHeader calls
}

func (b *brokenPipe) WriteHeader(code int) { b.headers++; b.ResponseRecorder.WriteHeader(code) }
func (b *brokenPipe) Write([]byte) (int, error) {
	if !b.Flushed && b.headers == 0 {
		b.WriteHeader(http.StatusOK)
	}
	return 0, syscall.EPIPE
}

// TestUndeliveredAnswerIsNoServerError: an answer whose body cannot be
// written (the client reset the connection while a large page went out) is
// not logged as an internal error, and no problem document is written after
// the status line that has gone out.
func TestUndeliveredAnswerIsNoServerError(t *testing.T) {
	engine := &search.Engine{}
	region, err := search.BuildRegion("world", 1, dataset.Generate(2000, 1))
	if err != nil {
		t.Fatal(err)
	}
	engine.Swap(search.NewIndex(region))
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	s := NewServer(engine, slog.New(slog.NewTextHandler(&logs, nil)), reg, reg, nil)
	for _, path := range []string{
		"/v1/search/nearby?lat=48.85&lon=2.35&radius=50000",
		"/v1/search/nearby?lat=48.85&lon=2.35&radius=50000&format=geojson",
		"/healthz",
		"/openapi.yaml",
	} {
		w := &brokenPipe{ResponseRecorder: httptest.NewRecorder()}
		s.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.headers != 1 || w.Code != http.StatusOK {
			t.Errorf("%s: %d status lines, the last %d; want one, 200", path, w.headers, w.Code)
		}
	}
	if logs.Len() > 0 {
		t.Errorf("logged:\n%s", logs.String())
	}
}

// failingBody is a request body whose reads fail, as the server's reads of
// a connection do when the read timeout runs out or the peer resets it.
type failingBody struct{ err error }

func (b failingBody) Read([]byte) (int, error) { return 0, b.err }
func (b failingBody) Close() error             { return nil }

// TestBodyReadErrorHidesSockets: a body that cannot be read (too slow for
// the read timeout, a reset connection) is refused without the network
// error's text, which names the server's own address and port (behind a
// balancer, an internal one).
func TestBodyReadErrorHidesSockets(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewServer(&search.Engine{}, slog.New(slog.NewTextHandler(io.Discard, nil)), reg, reg, nil)
	local := &net.TCPAddr{IP: net.IPv4(10, 9, 8, 7), Port: 8080}
	remote := &net.TCPAddr{IP: net.IPv4(203, 0, 113, 9), Port: 50123}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"timeout", &net.OpError{Op: "read", Net: "tcp", Source: local, Addr: remote, Err: os.ErrDeadlineExceeded}, "did not arrive in time"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Source: local, Addr: remote, Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "connection failed"},
	} {
		for _, path := range []string{"/v1/search/within", "/internal/v1/shard/area"} {
			t.Run(tc.name+path, func(t *testing.T) {
				r := httptest.NewRequest("POST", path, nil)
				r.Body = failingBody{tc.err}
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				body := w.Body.String()
				if w.Code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
					t.Errorf("status %d, body %s; want 400 saying %q", w.Code, body, tc.want)
				}
				if strings.Contains(body, "10.9.8.7") || strings.Contains(body, "8080") || strings.Contains(body, "tcp") {
					t.Errorf("the answer names the sockets: %s", body)
				}
			})
		}
	}
}
