package main

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nearby/nearby/internal/postgres/pgtest"
)

// TestDatabaseRestart stops the database under a stream of creates and
// starts it again. While it is down every request fails cleanly (503 with
// Retry-After; liveness stays up); afterwards requests succeed again
// without restarting owner-api. Every create that answered 201 is stored;
// retrying the failed ones with their Idempotency-Key stores each exactly
// once, so nothing is lost, duplicated or half-written.
func TestDatabaseRestart(t *testing.T) {
	pg := pgtest.StartServer(t)
	dsn := pg.DSN("test")
	srv := startOwnerAPI(t, dsn, "--request-timeout", "2s")
	tok := tokenFor(t, 9)
	first := call(t, "POST", srv.url+"/v1/businesses", tok, shop)
	if first.status != 201 {
		t.Fatalf("create: %d %s", first.status, first.body)
	}
	firstURL := srv.url + "/v1/businesses/" + first.json(t)["id"].(string)

	// A writer creates businesses, each with its own key, all along.
	var mu sync.Mutex
	status := map[string]int{} // key → last status
	stop := make(chan struct{})
	var wg sync.WaitGroup
	body := func(key string) string {
		return fmt.Sprintf(`{"name":%q,"category":"cafe","lat":48.85,"lon":2.35,"description":"written during a restart"}`, key)
	}
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprintf("restart-%d", i)
			r := call(t, "POST", srv.url+"/v1/businesses", tok, body(key), "Idempotency-Key", key)
			if r.status != 201 && r.status != 503 {
				t.Errorf("create %s: %d %s", key, r.status, r.body)
			}
			if r.status == 503 && r.header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			mu.Lock()
			status[key] = r.status
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	})

	time.Sleep(300 * time.Millisecond)
	pg.Stop(t)
	time.Sleep(200 * time.Millisecond)
	for _, r := range []struct {
		name string
		resp response
		want int
	}{
		{"create", call(t, "POST", srv.url+"/v1/businesses", tok, shop), 503},
		{"get", call(t, "GET", firstURL, tok, ""), 503},
		{"list", call(t, "GET", srv.url+"/v1/owners/me/businesses", tok, ""), 503},
		{"patch", call(t, "PATCH", firstURL, tok, `{"city":"x"}`, "If-Match", `"1"`), 503},
		{"delete", call(t, "DELETE", firstURL, tok, ""), 503},
		{"readyz", call(t, "GET", srv.url+"/readyz", "", ""), 503},
		{"healthz", call(t, "GET", srv.url+"/healthz", "", ""), 200},
		{"auth still first", call(t, "GET", firstURL, "", ""), 401},
		{"validation still first", call(t, "POST", srv.url+"/v1/businesses", tok, `{}`), 400},
	} {
		if r.resp.status != r.want {
			t.Errorf("database down, %s: %d, want %d (%s)", r.name, r.resp.status, r.want, r.resp.body)
		}
		if r.want == 503 && r.resp.header.Get("Retry-After") != "1" {
			t.Errorf("database down, %s: Retry-After %q", r.name, r.resp.header.Get("Retry-After"))
		}
	}

	pg.Start(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if r := call(t, "GET", srv.url+"/readyz", "", ""); r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready again 20 s after the database came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The writer's creates succeed again by themselves.
	recovered := false
	for !recovered && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		n, ok := 0, 0
		for i := len(status) - 1; i >= 0 && n < 5; i-- {
			n++
			if status[fmt.Sprintf("restart-%d", i)] == 201 {
				ok++
			}
		}
		recovered = n == 5 && ok == 5
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	if !recovered {
		t.Fatalf("creates did not recover: %v", status)
	}
	if r := call(t, "GET", firstURL, tok, ""); r.status != 200 || r.json(t)["name"] != "Blue Bottle" {
		t.Errorf("first business after restart: %d %s", r.status, r.body)
	}

	failed := 0
	for key, st := range status {
		if st == 201 {
			continue
		}
		failed++
		if r := call(t, "POST", srv.url+"/v1/businesses", tok, body(key), "Idempotency-Key", key); r.status != 201 {
			t.Errorf("retry %s: %d %s", key, r.status, r.body)
		}
	}
	if failed == 0 {
		t.Error("no create failed while the database was down: the test did not test anything")
	}
	// One row per key, complete, plus the first business.
	if n := dbCount(t, dsn, "owner_id = 9"); n != len(status)+1 {
		t.Errorf("%d rows for %d keys + 1", n, len(status))
	}
	if n := dbCount(t, dsn, "owner_id = 9 AND name LIKE 'restart-%' AND description = 'written during a restart'"); n != len(status) {
		t.Errorf("%d complete rows for %d keys", n, len(status))
	}
	t.Logf("%d creates, %d failed while the database was down and were retried", len(status), failed)
}
