package redis

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	goredis "github.com/redis/go-redis/v9"

	"github.com/nearby/nearby/internal/redis/redistest"
	"github.com/nearby/nearby/internal/syncbuf"
)

// TestCallsAfterClose: calls in flight when the client is closed, or made
// after (a cache fill finishing as the service shuts down), fail without
// being taken for a Redis outage: no error counted, no circuit opened, no
// "redis unavailable" warning. Closing twice is no error.
func TestCallsAfterClose(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	var log syncbuf.Buffer
	c, err := Open(context.Background(), Config{URL: url, Timeout: 2 * time.Second},
		slog.New(slog.NewTextHandler(&log, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var calls atomic.Int64
	for g := range 4 {
		wg.Go(func() {
			key := prefix + ":k" + strconv.Itoa(g)
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.Set(ctx, key, []byte("v"), time.Minute)
				c.Get(ctx, key)
				calls.Add(1)
			}
		})
	}
	for calls.Load() < 20 { // calls in flight as it closes
		time.Sleep(time.Millisecond)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, _, err := c.Get(ctx, prefix+":k0"); !errors.Is(err, goredis.ErrClosed) {
			t.Errorf("Get after Close: %v, want ErrClosed", err)
		}
	}
	close(stop)
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if !c.Available() || strings.Contains(log.String(), "redis unavailable") {
		t.Errorf("closing the client was taken for a Redis outage (circuit open: %v); log:\n%s", !c.Available(), log.String())
	}
	if n := testutil.CollectAndCount(c.errors); n != 0 {
		t.Errorf("%d series of nearby_redis_errors_total after calls on a closed client, want none", n)
	}
}
