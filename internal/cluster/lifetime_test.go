package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/syncbuf"
)

// holdingPeer answers with status and body, flushed, then holds the rest
// of the response open until the request is called off or the test ends.
func holdingPeer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(peer.Close)
	t.Cleanup(func() { close(release) }) // before Close, which waits for the handler
	return peer
}

// TestHeldBodyNotWaitedFor: a peer that has sent its whole answer, or an
// error status, but holds the rest of the body open does not hold the
// search until the shard timeout: the answer is used at once, and after an
// error status the next replica is asked at once.
func TestHeldBodyNotWaitedFor(t *testing.T) {
	const timeout = 5 * time.Second
	answer := `{"region":"europe","version":"1","results":[{"id":"7","name":"Café","category":"cafe","lat":48.85,"lon":2.35,"distance_m":1.5,"price":1}],"total":0,"total_capped":false}` + "\n"
	q := nearby.SearchQuery{Lat: 48.85, Lon: 2.35, RadiusM: 1000, Limit: 10}

	t.Run("answer", func(t *testing.T) {
		peer := holdingPeer(t, http.StatusOK, answer)
		m := &Map{Nodes: map[string]string{"a": "http://127.0.0.1:1", "b": peer.URL}, Regions: map[string][]string{"europe": {"b"}}}
		c := NewClient(m, "a", discard, prometheus.NewRegistry())
		c.ShardTimeout = timeout
		start := time.Now()
		a, err := c.Shard(context.Background(), "europe", q, nil)
		if err != nil || len(a.Results) != 1 || a.Results[0].ID != 7 {
			t.Fatalf("answer %+v, %v", a, err)
		}
		if took := time.Since(start); took > timeout/2 {
			t.Errorf("a whole answer took %v: the rest of its body was waited for", took)
		}
	})

	t.Run("error status", func(t *testing.T) {
		failing := holdingPeer(t, http.StatusServiceUnavailable, `{"title":"unavailable"`)
		good := holdingPeer(t, http.StatusOK, answer)
		m := &Map{Nodes: map[string]string{"a": "http://127.0.0.1:1", "f": failing.URL, "g": good.URL},
			Regions: map[string][]string{"europe": {"f", "g"}}}
		c := NewClient(m, "a", discard, prometheus.NewRegistry())
		c.ShardTimeout, c.HedgeAfter = timeout, time.Hour // g only after f failed
		c.setUp("g", false)                               // asked last: f first
		start := time.Now()
		a, err := c.Shard(context.Background(), "europe", q, nil)
		if err != nil || len(a.Results) != 1 {
			t.Fatalf("answer %+v, %v; want g's after f's 503", a, err)
		}
		if took := time.Since(start); took > timeout/2 {
			t.Errorf("g's answer took %v: f's 503 was seen only at the timeout", took)
		}
	})
}

// TestProbeStoppedIsNotPeerDown: probes called off because probing stops
// (the node shuts down) say nothing of the peers: a peer known up stays
// up, without a "peer health changed" warning or nearby_cluster_node_up
// dropping to 0.
func TestProbeStoppedIsNotPeerDown(t *testing.T) {
	asked := make(chan struct{}, 1)
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer peer.Close()
	var log syncbuf.Buffer
	m := &Map{Nodes: map[string]string{"a": "http://127.0.0.1:1", "b": peer.URL}, Regions: map[string][]string{"europe": {"b"}}}
	c := NewClient(m, "a", slog.New(slog.NewTextHandler(&log, nil)), prometheus.NewRegistry())
	c.setUp("b", true) // a probe before said so
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Probe(ctx, time.Hour) }()
	<-asked
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Probe did not return after its context ended")
	}
	c.mu.Lock()
	up := c.up["b"]
	c.mu.Unlock()
	if !up || testutil.ToFloat64(c.nodeUp.WithLabelValues("b")) != 1 || strings.Contains(log.String(), "peer health changed") {
		t.Errorf("a probe called off at shutdown marked the peer down (up %v); log:\n%s", up, log.String())
	}
}

// TestNoHedgeOnceCalledOff: once the caller has given up (or the shard
// timeout passed), a replica still answering is not hedged: no further
// replica is "asked" with a dead context, which would count a hedge and a
// cancelled or timed-out request against a node never asked.
func TestNoHedgeOnceCalledOff(t *testing.T) {
	m := &Map{Nodes: map[string]string{"a": "http://127.0.0.1:1", "f": "http://127.0.0.1:2", "g": "http://127.0.0.1:3"},
		Regions: map[string][]string{"europe": {"f", "g"}}}
	c := NewClient(m, "a", discard, prometheus.NewRegistry())
	c.ShardTimeout, c.HedgeAfter = 5*time.Second, 10*time.Millisecond
	c.setUp("g", false) // asked last: f first
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gAsked := make(chan struct{})
	_, err := ask(ctx, c, "europe", func(_ context.Context, base string) (int, error) {
		if base == m.Nodes["g"] {
			close(gAsked)
			return 0, context.Canceled
		}
		// f: the caller leaves while f's request is on its way; its
		// cancellation surfaces later than the hedge delay.
		cancel()
		select {
		case <-gAsked:
		case <-time.After(500 * time.Millisecond):
		}
		return 0, context.Canceled
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want the caller's cancellation", err)
	}
	select {
	case <-gAsked:
		t.Error("g was asked after the caller had left")
	default:
	}
	if n := testutil.ToFloat64(c.hedges); n != 0 {
		t.Errorf("%v hedges counted after the caller had left, want 0", n)
	}
}
