package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nearby/nearby/internal/syncbuf"
	"github.com/nearby/nearby/loadtest"
	"github.com/nearby/nearby/loadtest/searchdtest"
)

// testBusinesses is the size of the searchd the tests run against.
const testBusinesses = 20000

func mustThresholds(t *testing.T, s string) []loadtest.Threshold {
	t.Helper()
	ts, err := loadtest.ParseThresholds(s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// checkReport checks what must hold of every report: counts add up,
// percentiles are monotone and within min..max, the series covers the
// requests, and the JSON and HTML render.
func checkReport(t *testing.T, rep *loadtest.Report) {
	t.Helper()
	all, ok := rep.Stats("all")
	if !ok || rep.Requests[0].Name != "all" {
		t.Fatalf("no \"all\" first in %+v", rep.Requests)
	}
	var sum, errs, inSeries int64
	for _, s := range rep.Requests[1:] {
		sum += s.Count
		errs += s.Errors
	}
	for _, s := range rep.Series {
		inSeries += s.Requests
	}
	if sum != all.Count || errs != all.Errors || inSeries != all.Count {
		t.Errorf("all has %d requests (%d errors); by name %d (%d); series %d", all.Count, all.Errors, sum, errs, inSeries)
	}
	var statuses int64
	for _, n := range all.Status {
		statuses += n
	}
	if statuses != all.Count {
		t.Errorf("status counts add up to %d, want %d", statuses, all.Count)
	}
	for _, s := range rep.Requests {
		prev := s.MinMs
		for _, p := range s.Percentiles {
			if p.Ms < prev || p.Ms > s.MaxMs*1.001 {
				t.Errorf("%s: p%g = %gms out of order (previous %g, max %g)", s.Name, p.P, p.Ms, prev, s.MaxMs)
			}
			prev = p.Ms
		}
		for i := 1; i < len(s.Distribution); i++ {
			a, b := s.Distribution[i-1], s.Distribution[i]
			if b.P < a.P || b.Ms < a.Ms {
				t.Errorf("%s: distribution not monotone at %d: %+v then %+v", s.Name, i, a, b)
			}
		}
		if s.Count > 0 && (s.MeanMs < s.MinMs || s.MeanMs > s.MaxMs*1.001) {
			t.Errorf("%s: mean %g outside [%g, %g]", s.Name, s.MeanMs, s.MinMs, s.MaxMs)
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back loadtest.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if b, _ := back.Stats("all"); b.Count != all.Count || back.Scenario != rep.Scenario {
		t.Errorf("JSON round trip: %+v", b)
	}
	var page bytes.Buffer
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{"<svg", "Latency over time", "Latency by percentile", "Throughput over time", "<polyline", rep.Scenario} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://cdn", "https://", "<link"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML report is not self-contained: has %q", bad)
		}
	}
}

func TestOpenLoopAgainstSearchd(t *testing.T) {
	base := searchdtest.Start(t, testBusinesses)
	for _, tc := range []struct {
		scenario string
		names    []string // request names that must appear
	}{
		{"search", []string{"search", "search_page"}},
		{"details", []string{"search", "details"}},
		{"ceiling", []string{"healthz"}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			var progress syncbuf.Buffer
			const rate, dur = 150, 2 * time.Second
			rep, err := loadtest.Run(context.Background(), loadtest.Config{
				Scenario: tc.scenario, Target: base, Rate: rate, Duration: dur,
				Thresholds: mustThresholds(t, "p99<2s,errors<=0%"), Progress: &progress,
			})
			if err != nil {
				t.Fatalf("%v\n%s", err, progress.String())
			}
			checkReport(t, rep)
			all, _ := rep.Stats("all")
			// Open loop: exactly rate*duration iterations, whatever the server did.
			if rep.Iterations != rate*2 || rep.Mode != "open" || rep.Lag == nil {
				t.Errorf("%d iterations in mode %s, want %d open", rep.Iterations, rep.Mode, rate*2)
			}
			if all.Errors != 0 || all.Count < rep.Iterations || !rep.Passed {
				t.Errorf("%d requests, %d errors, passed %v: %+v", all.Count, all.Errors, rep.Passed, rep.ErrorSamples)
			}
			for _, n := range tc.names {
				if s, ok := rep.Stats(n); !ok || s.Count == 0 || s.Status["200"] != s.Count {
					t.Errorf("request %s: %+v", n, s)
				}
			}
			// The requests made are those scenarios.json (and so k6) lists.
			spec, _ := loadtest.LoadSpec()
			sc, _ := spec.Scenario(tc.scenario)
			for _, s := range rep.Requests[1:] {
				if !slices.Contains(sc.Requests, s.Name) {
					t.Errorf("%s made %s requests, which scenarios.json does not list", tc.scenario, s.Name)
				}
			}
			// The last iteration is due 1/rate before the end.
			if rep.ElapsedS < dur.Seconds()-0.1 || rep.ElapsedS > dur.Seconds()+5 {
				t.Errorf("elapsed %gs for a %s run", rep.ElapsedS, dur)
			}
			if !strings.Contains(progress.String(), "req/s") {
				t.Errorf("no progress line: %q", progress.String())
			}
			t.Logf("%s: %d requests, p50 %gms p99 %gms, lag p99 %gms", tc.scenario, all.Count, all.Percentile(50), all.Percentile(99), rep.Lag.P99Ms)
		})
	}
}

func TestClosedLoopAgainstSearchd(t *testing.T) {
	base := searchdtest.Start(t, testBusinesses)
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "mixed", Target: base, Concurrency: 4, Duration: time.Second,
		Thresholds: mustThresholds(t, "errors<0.1%,search:p99<2s"),
	})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep)
	all, _ := rep.Stats("all")
	if rep.Mode != "closed" || rep.Lag != nil || all.Count < 100 || all.Errors != 0 {
		t.Errorf("mode %s, %d requests, %d errors", rep.Mode, all.Count, all.Errors)
	}
	// No owner URL: mixed runs search and details only, renormalised.
	if len(rep.Weights) != 2 || rep.Weights[0].Scenario != "search" || rep.Weights[1].Scenario != "details" {
		t.Errorf("weights in effect %+v", rep.Weights)
	}
	if _, ok := rep.Stats("details"); !ok {
		t.Error("mixed made no details requests")
	}
	if _, ok := rep.Stats("owner_create"); ok {
		t.Error("mixed wrote without an owner URL")
	}
}

func TestMaxRequests(t *testing.T) {
	base := searchdtest.Start(t, testBusinesses)
	for _, cfg := range []loadtest.Config{
		{Scenario: "search", Rate: 1000, Duration: 10 * time.Second, MaxRequests: 37},
		{Scenario: "details", Concurrency: 3, Duration: 10 * time.Second, MaxRequests: 41},
	} {
		cfg.Target = base
		start := time.Now()
		rep, err := loadtest.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, rep)
		if all, _ := rep.Stats("all"); all.Count != cfg.MaxRequests || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %d requests in %s, want %d well before the duration", cfg.Scenario, all.Count, time.Since(start), cfg.MaxRequests)
		}
	}
}

func TestThresholdFailure(t *testing.T) {
	base := searchdtest.Start(t, testBusinesses)
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "search", Target: base, Rate: 100, Duration: 500 * time.Millisecond,
		Thresholds: mustThresholds(t, "p99<1ns,errors<1%,owner_create:p50<1s"),
	})
	if !errors.Is(err, loadtest.ErrThresholds) || rep == nil {
		t.Fatalf("err %v, report %v; want ErrThresholds with a report", err, rep != nil)
	}
	checkReport(t, rep)
	if rep.Passed || len(rep.Thresholds) != 3 {
		t.Fatalf("passed %v, thresholds %+v", rep.Passed, rep.Thresholds)
	}
	p99, errs, owner := rep.Thresholds[0], rep.Thresholds[1], rep.Thresholds[2]
	if p99.Passed || p99.Actual <= 0 || !errs.Passed || owner.Passed || owner.Note != "no requests" {
		t.Errorf("thresholds %+v", rep.Thresholds)
	}
	var sum bytes.Buffer
	rep.WriteSummary(&sum)
	if !strings.Contains(sum.String(), "p99<1ns") || !strings.Contains(sum.String(), "FAIL") {
		t.Errorf("summary does not show the failure:\n%s", sum.String())
	}
}

// TestCoordinatedOmission stalls the server for 300 ms once while the
// runner may have only one iteration in flight, so the iterations due
// during the stall start late. Open loop charges that wait to each of them
// (a fifth of the requests wait more than 100 ms); closed loop, which only
// sends when the last answer is in, sees a single slow request.
func TestCoordinatedOmission(t *testing.T) {
	newServer := func() string {
		var once sync.Once
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { time.Sleep(300 * time.Millisecond) })
			w.Write([]byte(`{"status":"ok"}`))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	open, err := loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "ceiling", Target: newServer(), Rate: 200, Duration: time.Second, MaxInFlight: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "ceiling", Target: newServer(), Concurrency: 1, Duration: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := open.Stats("all")
	c, _ := closed.Stats("all")
	t.Logf("open: %d requests, p50 %gms p90 %gms max %gms, lag max %gms; closed: %d requests, p90 %gms max %gms",
		o.Count, o.Percentile(50), o.Percentile(90), o.MaxMs, open.Lag.MaxMs, c.Count, c.Percentile(90), c.MaxMs)
	// Requests due in the first 200 ms (20%) waited over 100 ms.
	if o.Count != 200 || o.Percentile(90) < 100 || o.MaxMs < 290 || open.Lag.MaxMs < 200 {
		t.Errorf("open loop omitted the stall: %d requests, p90 %gms, max %gms, lag max %gms", o.Count, o.Percentile(90), o.MaxMs, open.Lag.MaxMs)
	}
	if c.Percentile(90) >= 100 || c.MaxMs < 290 {
		t.Errorf("closed loop: p90 %gms, max %gms; want one slow request", c.Percentile(90), c.MaxMs)
	}
}

// TestOverloadCountsUnstartedIterations offers 50 iterations in a second
// to a server that takes 200 ms an answer, with one iteration in flight:
// only some 8 can start before the run is cut off, 1.6 s in. The others
// were due and never sent; leaving them out would report a handful of
// successful requests and pass errors<1% (coordinated omission of the
// whole tail). Each must count as a failed request, charged from when it
// was due.
func TestOverloadCountsUnstartedIterations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		w.Write([]byte(`{"status":"ok"}`))
	}))
	t.Cleanup(srv.Close)
	for _, scenario := range []string{"ceiling", "mixed"} {
		t.Run(scenario, func(t *testing.T) {
			rep, err := loadtest.Run(context.Background(), loadtest.Config{
				Scenario: scenario, Target: srv.URL, Rate: 50, Duration: time.Second, MaxInFlight: 1,
				Timeout: 300 * time.Millisecond, Thresholds: mustThresholds(t, "errors<1%"),
			})
			if !errors.Is(err, loadtest.ErrThresholds) {
				t.Errorf("err %v, want the errors threshold to fail", err)
			}
			checkReport(t, rep)
			all, _ := rep.Stats("all")
			if all.Count < 50 || all.Errors < 35 || all.MaxMs < 500 {
				t.Errorf("%d requests, %d errors, max %gms: want the 50 due, most failed, the last charged over 500ms",
					all.Count, all.Errors, all.MaxMs)
			}
			if len(rep.ErrorSamples) == 0 || !strings.Contains(rep.ErrorSamples[0].Message, "not started") {
				t.Errorf("error samples %+v", rep.ErrorSamples)
			}
		})
	}
}

// TestOpenLoopRate: an open-loop run's requests/s is the rate offered. Its
// last iteration is due 1/rate before the end, and the run used to stop
// there: 5 iterations at 10/s were counted over 0.4 s, 12.5 requests/s.
func TestOpenLoopRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ok"}`))
	}))
	t.Cleanup(srv.Close)
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "ceiling", Target: srv.URL, Rate: 10, Duration: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := rep.Stats("all")
	last := rep.Series[len(rep.Series)-1]
	if all.Count != 5 || rep.ElapsedS < 0.5 || all.RPS < 9 || all.RPS > 10.01 || last.SpanS < 0.5 {
		t.Errorf("%d requests in %gs, %g/s (last second's span %gs); want 5 in 0.5s, 10/s", all.Count, rep.ElapsedS, all.RPS, last.SpanS)
	}
}

// TestTinyRate: at a rate so low that the second iteration would be due
// centuries after the start, the run starts the first iteration at once
// and no other. Converting that due time to a Duration used to overflow to
// the distant past, so the run skipped the first and counted every later
// one as not started, without end but for the request budget.
func TestTinyRate(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Write([]byte(`{"status":"ok"}`))
	}))
	t.Cleanup(srv.Close)
	start := time.Now()
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "ceiling", Target: srv.URL, Rate: 1e-12, Duration: 200 * time.Millisecond,
		Timeout: 200 * time.Millisecond, MaxRequests: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := rep.Stats("all")
	if rep.Iterations != 1 || all.Count != 1 || all.Errors != 0 || n.Load() != 1 {
		t.Errorf("%d iterations, %d requests, %d errors (%+v); the server saw %d; want one of each, no error",
			rep.Iterations, all.Count, all.Errors, rep.ErrorSamples, n.Load())
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the run took %v", took)
	}
}

func TestOwnerScenario(t *testing.T) {
	owner := newFakeOwner(t, "s3cret")
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "owner", Target: "http://127.0.0.1:1", OwnerURL: owner.srv.URL, Token: "s3cret",
		Rate: 40, Duration: 500 * time.Millisecond, Thresholds: mustThresholds(t, "errors<=0%"),
	})
	if err != nil {
		t.Fatalf("%v: %+v", err, rep)
	}
	checkReport(t, rep)
	for _, n := range []string{"owner_create", "owner_read", "owner_update", "owner_delete"} {
		if s, ok := rep.Stats(n); !ok || s.Count != 20 || s.Errors != 0 {
			t.Errorf("%s: %+v", n, s)
		}
	}
	owner.mu.Lock()
	if len(owner.shops) != 0 || owner.created != 20 {
		t.Errorf("%d shops created, %d left behind", owner.created, len(owner.shops))
	}
	owner.mu.Unlock()

	// A wrong token: every request fails, and the thresholds say so.
	rep, err = loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "owner", Target: "http://127.0.0.1:1", OwnerURL: owner.srv.URL, Token: "wrong",
		Rate: 20, Duration: 200 * time.Millisecond, Thresholds: mustThresholds(t, "errors<1%"),
	})
	if !errors.Is(err, loadtest.ErrThresholds) {
		t.Fatalf("wrong token: err %v", err)
	}
	if len(rep.ErrorSamples) != 1 || !strings.Contains(rep.ErrorSamples[0].Message, "HTTP 401") {
		t.Errorf("error samples %+v", rep.ErrorSamples)
	}

	// Mixed with an owner URL writes too.
	base := searchdtest.Start(t, testBusinesses)
	rep, err = loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "mixed", Target: base, OwnerURL: owner.srv.URL, Token: "s3cret",
		Concurrency: 2, Duration: 10 * time.Second, MaxRequests: 3000,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Weights) != 3 {
		t.Errorf("weights %+v", rep.Weights)
	}
	if s, ok := rep.Stats("owner_delete"); !ok || s.Errors != 0 {
		t.Errorf("mixed with owner: owner_delete %+v", s)
	}
}

// fakeOwner is a minimal owner-api: bearer auth, create with ETag, read,
// PATCH and DELETE with If-Match.
type fakeOwner struct {
	srv     *httptest.Server
	mu      sync.Mutex
	shops   map[int]int // id -> version
	created int
}

func newFakeOwner(t *testing.T, token string) *fakeOwner {
	f := &fakeOwner{shops: map[int]int{}}
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(401)
				w.Write([]byte(`{"status":401,"detail":"bad token"}`))
				return
			}
			h(w, r)
		}
	}
	etag := func(v int) string { return `"v` + strconv.Itoa(v) + `"` }
	mux.HandleFunc("POST /v1/businesses", auth(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Name     string  `json:"name"`
			Category string  `json:"category"`
			Lat      float64 `json:"lat"`
			Lon      float64 `json:"lon"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.Name == "" || b.Category == "" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(400)
			return
		}
		f.mu.Lock()
		f.created++
		id := 1000 + f.created
		f.shops[id] = 1
		f.mu.Unlock()
		w.Header().Set("ETag", etag(1))
		w.Header().Set("Location", fmt.Sprintf("/v1/businesses/%d", id))
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"id":"%d","name":%q}`, id, b.Name)
	}))
	withShop := func(h func(w http.ResponseWriter, r *http.Request, id, version int)) http.HandlerFunc {
		return auth(func(w http.ResponseWriter, r *http.Request) {
			id, _ := strconv.Atoi(r.PathValue("id"))
			f.mu.Lock()
			defer f.mu.Unlock()
			v, ok := f.shops[id]
			if !ok {
				w.WriteHeader(404)
				return
			}
			if m := r.Header.Get("If-Match"); r.Method != "GET" && m != etag(v) {
				w.WriteHeader(412)
				return
			}
			h(w, r, id, v)
		})
	}
	mux.HandleFunc("GET /v1/businesses/{id}", withShop(func(w http.ResponseWriter, r *http.Request, id, v int) {
		w.Header().Set("ETag", etag(v))
		fmt.Fprintf(w, `{"id":"%d"}`, id)
	}))
	mux.HandleFunc("PATCH /v1/businesses/{id}", withShop(func(w http.ResponseWriter, r *http.Request, id, v int) {
		f.shops[id] = v + 1
		w.Header().Set("ETag", etag(v+1))
		fmt.Fprintf(w, `{"id":"%d"}`, id)
	}))
	mux.HandleFunc("DELETE /v1/businesses/{id}", withShop(func(w http.ResponseWriter, r *http.Request, id, v int) {
		delete(f.shops, id)
		w.WriteHeader(204)
	}))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func TestRefusesRemoteTargets(t *testing.T) {
	for _, target := range []string{"http://10.0.0.1:8080", "http://example.com", "https://192.168.1.10", "http://[2001:db8::1]:80", "http://127.0.0.1.example.com"} {
		_, err := loadtest.Run(context.Background(), loadtest.Config{Scenario: "search", Target: target, Rate: 1, Duration: time.Second})
		if !errors.Is(err, loadtest.ErrRemoteTarget) {
			t.Errorf("%s: err %v, want ErrRemoteTarget", target, err)
		}
		_, err = loadtest.Run(context.Background(), loadtest.Config{Scenario: "owner", Target: "http://127.0.0.1:1", OwnerURL: target, Rate: 1, Duration: time.Second})
		if !errors.Is(err, loadtest.ErrRemoteTarget) {
			t.Errorf("owner %s: err %v, want ErrRemoteTarget", target, err)
		}
	}
}

func TestCheckTarget(t *testing.T) {
	for _, tc := range []struct {
		url    string
		remote bool
		ok     bool
	}{
		{"http://127.0.0.1:8080", false, true},
		{"http://127.8.9.10", false, true},
		{"http://localhost:8080/", false, true},
		{"http://LOCALHOST", false, true},
		{"http://[::1]:8080", false, true},
		{"https://127.0.0.1:8443/base", false, true},
		{"http://10.0.0.1:8080", false, false},
		{"http://example.com", false, false},
		{"http://0.0.0.0:8080", false, false},
		{"http://localhost.example.com", false, false},
		{"http://example.com", true, true},
		{"ftp://127.0.0.1", false, false},
		{"127.0.0.1:8080", false, false},
		{"http://127.0.0.1:8080?x=1", false, false},
		{"http://user:pw@127.0.0.1", false, false},
	} {
		_, err := loadtest.CheckTarget(tc.url, tc.remote)
		if (err == nil) != tc.ok {
			t.Errorf("CheckTarget(%q, %v) = %v, want ok %v", tc.url, tc.remote, err, tc.ok)
		}
	}
}

func TestBadConfigs(t *testing.T) {
	for name, cfg := range map[string]loadtest.Config{
		"no load":       {Scenario: "search", Target: "http://127.0.0.1:1", Duration: time.Second},
		"both loads":    {Scenario: "search", Target: "http://127.0.0.1:1", Rate: 1, Concurrency: 1, Duration: time.Second},
		"no duration":   {Scenario: "search", Target: "http://127.0.0.1:1", Rate: 1},
		"unknown":       {Scenario: "browse", Target: "http://127.0.0.1:1", Rate: 1, Duration: time.Second},
		"owner no url":  {Scenario: "owner", Target: "http://127.0.0.1:1", Rate: 1, Duration: time.Second},
		"negative max":  {Scenario: "search", Target: "http://127.0.0.1:1", Rate: 1, Duration: time.Second, MaxRequests: -1},
		"absurd rate":   {Scenario: "search", Target: "http://127.0.0.1:1", Rate: 1e9, Duration: time.Second},
		"negative rate": {Scenario: "search", Target: "http://127.0.0.1:1", Rate: -5, Duration: time.Second},
	} {
		if rep, err := loadtest.Run(context.Background(), cfg); err == nil || rep != nil {
			t.Errorf("%s: err %v, report %v", name, err, rep != nil)
		}
	}
}

// TestServerDown: connection errors are counted, sampled once, and fail
// the error threshold.
func TestServerDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "search", Target: url, Rate: 50, Duration: 300 * time.Millisecond, Timeout: time.Second,
		Thresholds: mustThresholds(t, "errors<0.1%"),
	})
	if !errors.Is(err, loadtest.ErrThresholds) {
		t.Fatalf("err %v", err)
	}
	all, _ := rep.Stats("all")
	if all.Errors != all.Count || all.Count != 15 || all.Status["error"] != all.Count || len(rep.ErrorSamples) != 1 {
		t.Errorf("%+v, samples %+v", all, rep.ErrorSamples)
	}
	if !strings.Contains(rep.ErrorSamples[0].Message, "refused") {
		t.Errorf("sample %q", rep.ErrorSamples[0].Message)
	}
}

// TestTimeoutsAreOneError: a server that stalls before its headers and one
// that stalls in the middle of its body both time out, and the report says
// so in the same words: the second used to be "context deadline exceeded
// (Client.Timeout or context cancellation while reading body)", a separate
// error sample that did not say "timeout".
func TestTimeoutsAreOneError(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			w.Header().Set("Content-Length", "100")
			w.Write([]byte(`{"status":`))
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	rep, err := loadtest.Run(context.Background(), loadtest.Config{
		Scenario: "ceiling", Target: srv.URL, Rate: 10, Duration: 200 * time.Millisecond, Timeout: 200 * time.Millisecond,
		Thresholds: mustThresholds(t, "errors<1%"),
	})
	if !errors.Is(err, loadtest.ErrThresholds) {
		t.Fatalf("err %v", err)
	}
	all, _ := rep.Stats("all")
	if all.Count != 2 || all.Errors != 2 || len(rep.ErrorSamples) != 1 || rep.ErrorSamples[0].Message != "healthz: timeout" {
		t.Errorf("%d requests, %d errors; samples %+v; want 2 timeouts as one sample", all.Count, all.Errors, rep.ErrorSamples)
	}
}

func TestInterrupt(t *testing.T) {
	base := searchdtest.Start(t, testBusinesses)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := loadtest.Run(ctx, loadtest.Config{Scenario: "search", Target: base, Rate: 100, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || time.Since(start) > 5*time.Second {
		t.Errorf("interrupted %v after %s", rep.Interrupted, time.Since(start))
	}
	checkReport(t, rep)
}

func TestWaitReady(t *testing.T) {
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n < 3 {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(200)
	}))
	defer srv.Close()
	if err := loadtest.WaitReady(context.Background(), srv.URL, false, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d polls", n)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	if err := loadtest.WaitReady(context.Background(), down.URL, false, 10*time.Second); err == nil || !strings.Contains(err.Error(), "not answering") {
		t.Errorf("down server: %v", err)
	}
	if err := loadtest.WaitReady(context.Background(), "http://10.0.0.1", false, time.Second); !errors.Is(err, loadtest.ErrRemoteTarget) {
		t.Errorf("remote: %v", err)
	}
}
