package ratelimit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nearby/nearby/internal/problem"
	"github.com/nearby/nearby/internal/redis"
	"github.com/nearby/nearby/internal/redis/redistest"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestRules(t *testing.T) {
	for _, svc := range []string{"searchd", "owner-api"} {
		rs := Defaults(svc)
		if !*rs.ExemptLoopback {
			t.Errorf("%s defaults do not exempt loopback", svc)
		}
		for _, c := range rs.Classes {
			if c.Limit > 128 {
				t.Errorf("%s class %s: limit %d exceeds the compact encoding", svc, c.Name, c.Limit)
			}
		}
	}
	rs := Defaults("searchd")
	for _, tc := range []struct{ method, path, class string }{
		{"GET", "/v1/search/nearby", "search"},
		{"HEAD", "/v1/search/nearby", "search"},
		{"GET", "/v1/search/box", "search"},
		{"POST", "/v1/search/within", "search"},
		{"GET", "/v1/businesses/42", "details"},
		{"GET", "/internal/v1/shard/nearby", "internal"},
		{"GET", "/healthz", "other"},
		{"POST", "/v1/search/nearby", "other"},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		if c := rs.match(r); c == nil || c.Name != tc.class {
			t.Errorf("%s %s: class %v, want %s", tc.method, tc.path, c, tc.class)
		}
	}
	for _, bad := range []string{
		"",
		"classes: []",
		"classes: [{name: a, routes: ['/x'], limit: 1}]",                                        // no window
		"classes: [{name: a, routes: ['x'], limit: 1, window: 1s}]",                             // path without /
		"classes: [{name: a, routes: ['FETCH /x'], limit: 1, window: 1s}]",                      // unknown method
		"classes: [{name: a, routes: ['/v1/*/photos'], limit: 1, window: 1s}]",                  // * inside a path
		"classes: [{name: a, routes: ['GET /x**'], limit: 1, window: 1s}]",                      // * twice
		"classes: [{name: a, routes: ['/x'], limit: -1, window: 1s}]",                           // negative
		"classes: [{name: 'a:b', routes: ['/x'], limit: 1, window: 1s}]",                        // colon in the name
		"classes: [{name: a, routes: ['/x'], limit: 1, window: 1s, burst: 3}]",                  // unknown field
		"classes: [{name: a, routes: ['/x'], limit: 1, window: 1s}, {name: a, routes: ['/y']}]", // twice
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
	if rs, err := FromFlag("off", "searchd"); rs != nil || err != nil {
		t.Errorf("off: %v %v", rs, err)
	}
	if _, err := FromFlag("/no/such/file", "searchd"); err == nil {
		t.Error("a missing rules file was accepted")
	}
}

// TestLocal: the per-process log admits at most limit in any window, and
// again as the window slides.
func TestLocal(t *testing.T) {
	l := NewLocal()
	var now time.Duration
	l.now = func() time.Duration { return now }
	ctx := context.Background()
	for i := range 3 {
		ok, rem, retry, _ := l.Allow(ctx, "k", 3, time.Second)
		if !ok || rem != 2-i {
			t.Fatalf("request %d: %v %d", i, ok, rem)
		}
		if (rem == 0) != (retry > 0) {
			t.Errorf("request %d: remaining %d, retry %v", i, rem, retry)
		}
		now += 100 * time.Millisecond
	}
	ok, _, retry, _ := l.Allow(ctx, "k", 3, time.Second)
	if ok || retry != 700*time.Millisecond {
		t.Fatalf("4th: %v, retry %v; want refused, 700ms", ok, retry)
	}
	now += 700 * time.Millisecond // the first admission leaves the window
	if ok, _, _, _ := l.Allow(ctx, "k", 3, time.Second); !ok {
		t.Fatal("not admitted once the window slid")
	}
	if ok, _, _, _ := l.Allow(ctx, "k", 3, time.Second); ok {
		t.Fatal("admitted a 4th within a window")
	}
	if ok, _, _, _ := l.Allow(ctx, "other", 3, time.Second); !ok {
		t.Fatal("clients share a log")
	}

	// Concurrency: exactly the limit.
	l = NewLocal()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 50 {
				if ok, _, _, _ := l.Allow(ctx, "k", 100, time.Hour); ok {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if admitted.Load() != 100 {
		t.Errorf("%d admitted by 32 clients against a limit of 100", admitted.Load())
	}
}

// TestLocalMemory: a client's log takes memory for the requests it made,
// not for the limit, so a large limit (1,000,000 allowed) and many one-shot
// clients (IPv6 /64s, API keys) cannot exhaust the process while Redis is
// down.
func TestLocalMemory(t *testing.T) {
	l := NewLocal()
	ctx := context.Background()
	const clients, limit = 200, 1_000_000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range clients {
		if ok, rem, _, _ := l.Allow(ctx, "ip:"+strconv.Itoa(i), limit, time.Hour); !ok || rem != limit-1 {
			t.Fatalf("client %d: %v, remaining %d", i, ok, rem)
		}
	}
	runtime.ReadMemStats(&after)
	if perClient := (after.TotalAlloc - before.TotalAlloc) / clients; perClient > 1024 {
		t.Errorf("%d bytes allocated per new client at a limit of %d; want at most 1 KiB", perClient, limit)
	}
	// The log still grows to the limit and slides as it should.
	var now time.Duration
	l.now = func() time.Duration { return now }
	for i := range 1000 {
		if ok, rem, _, _ := l.Allow(ctx, "k", 1000, time.Second); !ok || rem != 999-i {
			t.Fatalf("request %d: %v, remaining %d", i, ok, rem)
		}
		now += time.Millisecond / 2
	}
	if ok, _, retry, _ := l.Allow(ctx, "k", 1000, time.Second); ok || retry != 500*time.Millisecond {
		t.Fatalf("1001st: %v, retry %v; want refused, 500ms", ok, retry)
	}
	now += 500 * time.Millisecond
	for i := range 2 {
		if ok, _, _, _ := l.Allow(ctx, "k", 1000, time.Second); ok != (i == 0) {
			t.Fatalf("after the first left the window, request %d: %v", i, ok)
		}
	}
}

var seedFlag = flag.Uint64("seed", 0, "random seed for property tests (0: time-based)")

// TestLocalOracle compares Local with a plain list of admission times over
// random clients, limits and arrivals, limit changes included.
func TestLocalOracle(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-seed to repeat)", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	l := NewLocal()
	var now time.Duration
	l.now = func() time.Duration { return now }
	ctx := context.Background()
	type state struct {
		limit int
		times []time.Duration
	}
	oracle := map[string]*state{}
	const window = time.Second
	for i := range 200_000 {
		now += time.Duration(r.IntN(int(20 * time.Millisecond)))
		key := strconv.Itoa(r.IntN(5))
		limit := 1 + r.IntN(40)
		if r.IntN(1000) != 0 { // mostly a key's own limit
			limit = 1 + len(key)*7 + int(key[0]-'0')*9
		}
		o := oracle[key]
		if o == nil || o.limit != limit {
			o = &state{limit: limit}
			oracle[key] = o
		}
		o.times = slices.DeleteFunc(o.times, func(at time.Duration) bool { return at <= now-window })
		wantOK, wantRem, wantRetry := len(o.times) < limit, 0, time.Duration(0)
		if wantOK {
			o.times = append(o.times, now)
			wantRem = limit - len(o.times)
		}
		if wantRem == 0 {
			wantRetry = o.times[0] + window - now
		}
		ok, rem, retry, _ := l.Allow(ctx, key, limit, window)
		if ok != wantOK || rem != wantRem || retry != wantRetry {
			t.Fatalf("call %d, key %s, limit %d at %v: %v %d %v, want %v %d %v", i, key, limit, now, ok, rem, retry, wantOK, wantRem, wantRetry)
		}
	}
}

func mustParse(t *testing.T, yaml string) *Rules {
	t.Helper()
	rs, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

const testRules = `
exempt_loopback: false
client_ip_header: X-Forwarded-For
api_key_header: X-Api-Key
api_keys: [good-key]
classes:
  - name: search
    routes: ["GET /search"]
    limit: 5
    window: 1m
  - name: free
    routes: ["/free"]
    limit: 0
`

func handler(t *testing.T, cfg Config) http.Handler {
	t.Helper()
	if cfg.Local == nil {
		cfg.Local = NewLocal()
	}
	cfg.Logger, cfg.Registerer = quietLogger(), prometheus.NewRegistry()
	if cfg.Service == "" {
		cfg.Service = "test"
	}
	return Middleware(cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
}

func get(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil) // from 192.0.2.1
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddleware(t *testing.T) {
	h := handler(t, Config{Rules: mustParse(t, testRules)})
	for i := range 5 {
		w := get(h, "/search")
		if w.Code != 200 || w.Header().Get(HeaderLimit) != "5" || w.Header().Get(HeaderRemaining) != strconv.Itoa(4-i) {
			t.Fatalf("request %d: %d %v", i, w.Code, w.Header())
		}
		wantRetry := "0"
		if i == 4 {
			wantRetry = "60"
		}
		if got := w.Header().Get(HeaderRetryAfter); got != wantRetry {
			t.Errorf("request %d: %s = %q, want %s", i, HeaderRetryAfter, got, wantRetry)
		}
	}
	w := get(h, "/search")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" ||
		w.Header().Get(HeaderRetryAfter) != "60" || w.Header().Get(HeaderRemaining) != "0" || w.Header().Get(HeaderLimit) != "5" {
		t.Fatalf("6th: %d %v", w.Code, w.Header())
	}
	var p problem.Problem
	if w.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &p) != nil ||
		p.Status != 429 || !strings.Contains(p.Detail, "5 search requests per 1m0s") {
		t.Errorf("429 body: %s", w.Body)
	}
	// Another address, from the trusted header (its last entry), has its own allowance.
	if w := get(h, "/search", "X-Forwarded-For", "192.0.2.1, 198.51.100.7"); w.Code != 200 {
		t.Errorf("another client: %d", w.Code)
	}
	// A known API key has its own; an unknown one is the address.
	if w := get(h, "/search", "X-Api-Key", "good-key"); w.Code != 200 || w.Header().Get(HeaderRemaining) != "4" {
		t.Errorf("known API key: %d %v", w.Code, w.Header())
	}
	for _, k := range []string{"made-up", "good-ke", "good-key2", "GOOD-KEY"} {
		if w := get(h, "/search", "X-Api-Key", k); w.Code != 429 {
			t.Errorf("unknown API key %q: %d, want the address's 429", k, w.Code)
		}
	}
	// Unlimited classes and unmatched routes carry no headers.
	for _, path := range []string{"/free", "/unmatched"} {
		if w := get(h, path); w.Code != 200 || w.Header().Get(HeaderLimit) != "" {
			t.Errorf("%s: %d %v", path, w.Code, w.Header())
		}
	}
	// IPv6 clients are limited per /64.
	h6 := handler(t, Config{Rules: mustParse(t, testRules)})
	for i := range 6 {
		w := get(h6, "/search", "X-Forwarded-For", "2001:db8::"+strconv.Itoa(i+1))
		if want := 200; i == 5 {
			if w.Code != 429 {
				t.Errorf("6th address of one /64: %d", w.Code)
			}
		} else if w.Code != want {
			t.Errorf("address %d of one /64: %d", i, w.Code)
		}
	}
}

// TestClientIPWithPort: proxies that write the client's port into the
// header (Azure Application Gateway: "203.0.113.9:50123") still name the
// client, not the proxy, which would put every client in one allowance (or
// exempt them all, for a proxy on loopback).
func TestClientIPWithPort(t *testing.T) {
	h := handler(t, Config{Rules: mustParse(t, testRules)})
	for range 5 {
		get(h, "/search") // the peer, 192.0.2.1, uses up its allowance
	}
	for i, xff := range []string{"203.0.113.9:50123", "192.0.2.1, 203.0.113.9:443", "203.0.113.9", "[2001:db8::1]:8443", "2001:db8::2", "[2001:db8::3]"} {
		want := strconv.Itoa(4 - i)
		if i >= 3 {
			want = strconv.Itoa(4 - (i - 3)) // another client: an IPv6 /64
		}
		if w := get(h, "/search", "X-Forwarded-For", xff); w.Code != 200 || w.Header().Get(HeaderRemaining) != want {
			t.Errorf("X-Forwarded-For %q: %d, remaining %s; want 200, %s", xff, w.Code, w.Header().Get(HeaderRemaining), want)
		}
	}
	rs := mustParse(t, strings.Replace(testRules, "exempt_loopback: false", "exempt_loopback: true", 1))
	h = handler(t, Config{Rules: rs})
	r := httptest.NewRequest("GET", "/search", nil)
	r.RemoteAddr = "127.0.0.1:40000" // a proxy on the same host
	r.Header.Set("X-Forwarded-For", "203.0.113.9:50123")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Header().Get(HeaderLimit) != "5" {
		t.Errorf("a client behind a loopback proxy was exempt: %v", w.Header())
	}
}

// TestTrustedProxies: with trusted_proxies, the header is believed only
// from those peers, and the client is the nearest address in it that is
// not a trusted proxy: a client that reaches the service directly cannot
// pose as another, and one behind two proxies is told apart from both.
func TestTrustedProxies(t *testing.T) {
	rs := mustParse(t, testRules+"trusted_proxies: [198.51.100.0/24, 10.0.0.7, '::ffff:172.16.0.0/108', 'fe80::/10']\n")
	for _, tc := range []struct {
		peer   string
		xff    []string // X-Forwarded-For lines
		client string
	}{
		{"192.0.2.1:1", []string{"203.0.113.9"}, "ip:192.0.2.1"},                             // not from a proxy: the header is ignored
		{"198.51.100.4:1", []string{"203.0.113.9"}, "ip:203.0.113.9"},                        // from a proxy
		{"198.51.100.4:1", []string{"203.0.113.9, 10.0.0.7"}, "ip:203.0.113.9"},              // through two proxies
		{"198.51.100.4:1", []string{"6.6.6.6, 203.0.113.9:443, 10.0.0.7"}, "ip:203.0.113.9"}, // a forged first hop is passed over
		{"198.51.100.4:1", []string{"6.6.6.6", "203.0.113.9"}, "ip:203.0.113.9"},             // lines count as one list
		{"198.51.100.4:1", []string{"10.0.0.7, 198.51.100.9"}, "ip:10.0.0.7"},                // every hop a proxy: the first
		{"198.51.100.4:1", nil, "ip:198.51.100.4"},                                           // no header: the peer
		{"[::ffff:198.51.100.4]:1", []string{"203.0.113.9"}, "ip:203.0.113.9"},               // a mapped IPv4 peer
		{"172.16.0.1:1", []string{"203.0.113.9"}, "ip:203.0.113.9"},                          // a proxy listed as a mapped prefix
		{"198.51.100.4:1", []string{"203.0.113.9, ::ffff:172.16.9.9"}, "ip:203.0.113.9"},     // ... and as a hop
		{"[fe80::1%eth0]:1", []string{"203.0.113.9"}, "ip:203.0.113.9"},                      // a link-local proxy, with its zone
		{"198.51.100.4:1", []string{"[2001:db8::5]"}, "ip:2001:db8::/64"},                    // IPv6 in brackets, no port
	} {
		r := httptest.NewRequest("GET", "/search", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got, _ := rs.client(r, nil); got != tc.client {
			t.Errorf("peer %s, X-Forwarded-For %q: client %s, want %s", tc.peer, tc.xff, got, tc.client)
		}
	}
	for _, bad := range []string{
		"trusted_proxies: [10.0.0.0/33]\n",
		"trusted_proxies: [proxy.internal]\n",
	} {
		if _, err := Parse([]byte(testRules + bad)); err == nil {
			t.Errorf("Parse accepted %q", bad)
		}
	}
	noHeader := strings.Replace(testRules, "client_ip_header: X-Forwarded-For\n", "", 1)
	if _, err := Parse([]byte(noHeader + "trusted_proxies: [10.0.0.7]\n")); err == nil {
		t.Error("trusted_proxies without client_ip_header was accepted")
	}
}

func TestMiddlewareExemptions(t *testing.T) {
	rs := mustParse(t, strings.Replace(testRules, "exempt_loopback: false", "exempt_loopback: true", 1))
	h := handler(t, Config{Rules: rs})
	for range 10 {
		if w := get(h, "/search", "X-Forwarded-For", "127.0.0.1"); w.Code != 200 || w.Header().Get(HeaderLimit) != "" {
			t.Fatalf("loopback: %d %v", w.Code, w.Header())
		}
	}
	// Owners are limited per verified owner, not per address.
	verify := func(tok string) (int64, error) {
		if n, err := strconv.ParseInt(strings.TrimPrefix(tok, "valid-"), 10, 64); err == nil && strings.HasPrefix(tok, "valid-") {
			return n, nil
		}
		return 0, errors.New("invalid")
	}
	h = handler(t, Config{Rules: mustParse(t, testRules), ClientKey: BearerKey(verify)})
	for range 5 {
		get(h, "/search", "Authorization", "Bearer valid-1")
	}
	if w := get(h, "/search", "Authorization", "Bearer valid-1"); w.Code != 429 {
		t.Errorf("owner 1's 6th: %d", w.Code)
	}
	if w := get(h, "/search", "Authorization", "Bearer valid-2"); w.Code != 200 {
		t.Errorf("owner 2 from the same address: %d", w.Code)
	}
	if w := get(h, "/search", "Authorization", "Bearer forged-1"); w.Code != 200 || w.Header().Get(HeaderRemaining) != "4" {
		t.Errorf("an invalid token is limited by address: %d %v", w.Code, w.Header())
	}
}

// failing is a shared limiter that is down.
type failing struct{}

func (failing) Allow(context.Context, string, int, time.Duration) (bool, int, time.Duration, error) {
	return false, 0, 0, redis.ErrUnavailable
}

// TestMiddlewareFallback: with the shared limiter down, each process
// limits alone.
func TestMiddlewareFallback(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := Middleware(Config{Service: "t", Rules: mustParse(t, testRules), Shared: failing{}, Local: NewLocal(),
		Logger: quietLogger(), Registerer: reg})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	codes := map[int]int{}
	for range 8 {
		codes[get(h, "/search").Code]++
	}
	if codes[200] != 5 || codes[429] != 3 {
		t.Errorf("codes %v, want 5 × 200 and 3 × 429 from the local limiter", codes)
	}
	n, err := testutil.GatherAndCount(reg, "nearby_ratelimit_requests_total")
	if err != nil || n != 2 { // {search, allowed, local} and {search, limited, local}
		t.Errorf("%d series (%v)", n, err)
	}
}

// TestMiddlewareRedisConcurrent: 40 clients from one address hammer a
// limit of 50 per minute shared through Redis, spread over three
// "processes" (middleware instances with their own local limiters): 50
// requests succeed in total, and every response carries the headers.
func TestMiddlewareRedisConcurrent(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	rc, err := redis.Open(context.Background(), redis.Config{URL: url, Timeout: 2 * time.Second}, quietLogger(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rs := mustParse(t, strings.Replace(testRules, "limit: 5", "limit: 50", 1))
	var hs []http.Handler
	for range 3 {
		hs = append(hs, handler(t, Config{Service: "svc", Prefix: prefix, Rules: rs, Shared: rc}))
	}
	var ok, limited, missing atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			for range 5 {
				w := get(hs[i%3], "/search")
				switch w.Code {
				case 200:
					ok.Add(1)
				case 429:
					limited.Add(1)
				}
				if w.Header().Get(HeaderLimit) != "50" || w.Header().Get(HeaderRemaining) == "" || w.Header().Get(HeaderRetryAfter) == "" {
					missing.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() != 50 || limited.Load() != 150 || missing.Load() != 0 {
		t.Errorf("%d ok, %d limited, %d without headers; want 50, 150, 0", ok.Load(), limited.Load(), missing.Load())
	}
	if !rc.Available() {
		t.Error("Redis circuit opened")
	}
}

// TestRulesFileLimitsLoopback: a rules file that does not say
// exempt_loopback limits loopback clients too, with the headers on every
// response (what it states applies to every client); the built-in rules
// exempt them.
func TestRulesFileLimitsLoopback(t *testing.T) {
	rs := mustParse(t, "classes:\n  - name: search\n    routes: [\"GET /search\"]\n    limit: 3\n    window: 1m\n")
	h := handler(t, Config{Rules: rs})
	for i := range 4 {
		r := httptest.NewRequest("GET", "/search", nil)
		r.RemoteAddr = "127.0.0.1:40000"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		want, remaining := 200, strconv.Itoa(2-i)
		if i == 3 {
			want, remaining = 429, "0"
		}
		if w.Code != want || w.Header().Get(HeaderLimit) != "3" || w.Header().Get(HeaderRemaining) != remaining {
			t.Errorf("request %d from loopback: %d, limit %q, remaining %q; want %d, 3, %s",
				i+1, w.Code, w.Header().Get(HeaderLimit), w.Header().Get(HeaderRemaining), want, remaining)
		}
	}
}

// TestWarnsOfSelfChosenClients: rules under which a client picks the
// address or key it is limited by (a header believed from any peer; keys
// trusted without a list) are allowed, as documented, but warned about at
// start, naming the way out; rules without that say nothing.
func TestWarnsOfSelfChosenClients(t *testing.T) {
	warnings := func(yaml string) string {
		var out bytes.Buffer
		Middleware(Config{Rules: mustParse(t, yaml), Local: NewLocal(), Service: "test",
			Logger: slog.New(slog.NewTextHandler(&out, nil)), Registerer: prometheus.NewRegistry()})
		return out.String()
	}
	if out := warnings(testRules); !strings.Contains(out, "client_ip_header") || strings.Contains(out, "127.0.0.1") || strings.Contains(out, "api_key_header") {
		t.Errorf("header believed from any peer, loopback not exempt, keys listed: %s", out)
	}
	open := strings.Replace(strings.Replace(testRules, "api_keys: [good-key]\n", "", 1), "exempt_loopback: false", "exempt_loopback: true", 1)
	out := warnings(open)
	for _, want := range []string{"level=WARN", "trusted_proxies", "127.0.0.1", "api_keys"} {
		if !strings.Contains(out, want) {
			t.Errorf("warnings lack %q:\n%s", want, out)
		}
	}
	if out := warnings(testRules + "trusted_proxies: [10.0.0.0/8]\n"); strings.Contains(out, "client_ip_header") {
		t.Errorf("with trusted proxies: %s", out)
	}
}
