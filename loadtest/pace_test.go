package loadtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nearby/nearby/loadtest"
)

// TestPaceSendsEveryRequestOnce runs Pace against a server that answers
// in both framings (a Content-Length and chunked bodies) and sometimes
// closes the connection: every request due is sent once, in turn over
// the paths, and answered.
func TestPaceSendsEveryRequestOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.RequestURI()]++
		mu.Unlock()
		switch n.Add(1) % 3 {
		case 0:
			w.Write([]byte(strings.Repeat("x", 5000))) // chunked: over net/http's buffer
		case 1:
			w.Header().Set("Connection", "close")
			w.Write([]byte("short"))
		default:
			w.Write([]byte(`{"results":[]}`))
		}
	}))
	defer srv.Close()
	paths := []string{"/a?x=1", "/b", "/c?y=2&z=3"}
	res, err := loadtest.Pace(context.Background(), loadtest.PaceConfig{
		Target: srv.URL, Paths: paths, Rate: 1500, Duration: 800 * time.Millisecond, Conns: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Requests are due at i/1500 s for every i with i/1500 < 0.8.
	if res.Requests != 1200 || res.Errors != 0 || n.Load() != 1200 {
		t.Fatalf("%d answered, %d errors (%s); the server saw %d; want 1200", res.Requests, res.Errors, res.FirstError, n.Load())
	}
	for _, p := range paths {
		if seen[p] != 400 {
			t.Errorf("%s sent %d times, want 400 (%v)", p, seen[p], seen)
		}
	}
	if !(0 < res.P50 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.P999 && res.P999 <= res.Max) {
		t.Errorf("percentiles out of order: %+v", res)
	}
	// The last request was due at 1199/1500 s: the run cannot be shorter.
	if res.Elapsed < 799*time.Millisecond || res.Rate > 1500 {
		t.Errorf("elapsed %v, answered %.0f/s", res.Elapsed, res.Rate)
	}
}

// TestPaceChargesStalls stalls the server for 200 ms on one connection:
// the requests due meanwhile wait for it, and their latency counts from
// when they were due, not from when they could be sent. A client that
// timed from the send would see one slow request in 500.
func TestPaceChargesStalls(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 100 {
			time.Sleep(200 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	res, err := loadtest.Pace(context.Background(), loadtest.PaceConfig{
		Target: srv.URL, Paths: []string{"/"}, Rate: 1000, Duration: 500 * time.Millisecond, Conns: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 500 || res.Errors != 0 {
		t.Fatalf("%d answered, %d errors (%s)", res.Requests, res.Errors, res.FirstError)
	}
	// The requests due from 0.1 s to 0.25 s (30%) waited at least 50 ms.
	if res.P90 < 50*time.Millisecond || res.Max < 190*time.Millisecond {
		t.Errorf("the stall was not charged to the requests it delayed: p90 %v, max %v", res.P90, res.Max)
	}
	if res.LagMax < 150*time.Millisecond {
		t.Errorf("lag max %v: requests waiting for the stalled connection were not counted late", res.LagMax)
	}
}

// TestPaceCountsErrors: answers other than 200 and a server that is gone
// are errors, each counted, with a sample.
func TestPaceCountsErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	}))
	res, err := loadtest.Pace(context.Background(), loadtest.PaceConfig{
		Target: srv.URL, Paths: []string{"/"}, Rate: 1000, Duration: 200 * time.Millisecond, Conns: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 150 || res.Errors != 50 || !strings.Contains(res.FirstError, "status 500") {
		t.Errorf("%d answered, %d errors (%q); want 150 and 50 with status 500", res.Requests, res.Errors, res.FirstError)
	}
	srv.Close()
	res, err = loadtest.Pace(context.Background(), loadtest.PaceConfig{
		Target: srv.URL, Paths: []string{"/"}, Rate: 500, Duration: 100 * time.Millisecond, Conns: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 0 || res.Errors != 50 || res.FirstError == "" {
		t.Errorf("against a closed server: %d answered, %d errors (%q)", res.Requests, res.Errors, res.FirstError)
	}
	// Nothing answered, nothing sent: no latency, not the empty
	// histogram's "max 1µs".
	if res.Max != 0 || res.P99 != 0 || res.LagMax != 0 {
		t.Errorf("against a closed server: max %v, p99 %v, lag max %v; want 0", res.Max, res.P99, res.LagMax)
	}
}

// TestPaceTimesOut: a request the server never answers is an error once
// its timeout has passed, its connection is dropped, and the run goes on
// over the others without waiting for it.
func TestPaceTimesOut(t *testing.T) {
	var n atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 10 {
			<-release
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	res, err := loadtest.Pace(context.Background(), loadtest.PaceConfig{
		Target: srv.URL, Paths: []string{"/"}, Rate: 200, Duration: 500 * time.Millisecond, Conns: 4,
		Timeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 99 || res.Errors != 1 || !strings.Contains(res.FirstError, "no answer within 300ms") {
		t.Errorf("%d answered, %d errors (%q); want 99 and 1 timeout", res.Requests, res.Errors, res.FirstError)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the run took %v: it waited for the hung request", took)
	}
}

// TestPaceCountsUnsentRequests: a server that answers every request, but
// in 100 ms, over one connection, takes some 14 of the 100 requests due
// before the run is cut off, two timeouts after its duration. The others
// were due and never sent: each is an error, not left out of the counts.
func TestPaceCountsUnsentRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	res, err := loadtest.Pace(context.Background(), loadtest.PaceConfig{
		Target: srv.URL, Paths: []string{"/"}, Rate: 100, Duration: time.Second, Conns: 1,
		Timeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests+res.Errors != 100 || res.Errors < 80 {
		t.Errorf("%d answered, %d errors (%q); want 100 in all, the unsent ones errors", res.Requests, res.Errors, res.FirstError)
	}
}

// TestPaceTinyRate: at a rate so low that the second request would be due
// centuries after the start, Pace sends the first request and ends. That
// due time used to overflow a Duration to the distant past: every later
// request was due at once, and the run never ended.
func TestPaceTinyRate(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	type outcome struct {
		res *loadtest.PaceResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := loadtest.Pace(context.Background(), loadtest.PaceConfig{
			Target: srv.URL, Paths: []string{"/"}, Rate: 1e-12, Duration: 100 * time.Millisecond,
			Conns: 1, Timeout: 100 * time.Millisecond,
		})
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.res.Requests != 1 || o.res.Errors != 0 || n.Load() != 1 {
			t.Errorf("%d answered, %d errors (%q); the server saw %d; want 1, 0 and 1", o.res.Requests, o.res.Errors, o.res.FirstError, n.Load())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no end after 5s; the server saw %d requests", n.Load())
	}
}

// TestPaceTargetBaseURL: Pace sends its paths under the target's path, as
// Run does, and dials a target without a port on the scheme's, 80.
func TestPaceTargetBaseURL(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.RequestURI()]++
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	res, err := loadtest.Pace(context.Background(), loadtest.PaceConfig{
		Target: srv.URL + "/base/", Paths: []string{"/healthz?x=1"}, Rate: 100, Duration: 100 * time.Millisecond, Conns: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	n, saw := seen["/base/healthz?x=1"], fmt.Sprint(seen)
	mu.Unlock()
	if res.Requests != 10 || res.Errors != 0 || n != 10 {
		t.Errorf("%d answered, %d errors (%q); the server saw %s; want /base/healthz?x=1 10 times", res.Requests, res.Errors, res.FirstError, saw)
	}

	// Nothing need listen on port 80: the request must only be sent there.
	res, err = loadtest.Pace(context.Background(), loadtest.PaceConfig{
		Target: "http://127.0.0.1", Paths: []string{"/"}, Rate: 10, Duration: 100 * time.Millisecond, Conns: 1,
		Timeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.FirstError, "port") {
		t.Errorf("http://127.0.0.1 was not dialed on port 80: %q", res.FirstError)
	}
}

func TestPaceRefusesBadConfig(t *testing.T) {
	ok := loadtest.PaceConfig{Target: "http://127.0.0.1:1", Paths: []string{"/"}, Rate: 10, Duration: time.Second}
	for name, mod := range map[string]func(*loadtest.PaceConfig){
		"no rate":      func(c *loadtest.PaceConfig) { c.Rate = 0 },
		"huge rate":    func(c *loadtest.PaceConfig) { c.Rate = 2e6 },
		"no duration":  func(c *loadtest.PaceConfig) { c.Duration = 0 },
		"no paths":     func(c *loadtest.PaceConfig) { c.Paths = nil },
		"negative":     func(c *loadtest.PaceConfig) { c.Conns = -1 },
		"https":        func(c *loadtest.PaceConfig) { c.Target = "https://127.0.0.1:1" },
		"remote":       func(c *loadtest.PaceConfig) { c.Target = "http://192.0.2.1:80" },
		"not base URL": func(c *loadtest.PaceConfig) { c.Target = "http://127.0.0.1:1/?q=1" },
	} {
		cfg := ok
		mod(&cfg)
		if res, err := loadtest.Pace(context.Background(), cfg); err == nil {
			t.Errorf("%s: no error (%+v)", name, res)
		}
	}
}
