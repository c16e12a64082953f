package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nearby/nearby/internal/postgres/pgtest"
)

var (
	benchRate     = flag.Float64("writes.rate", 200, "BenchmarkWrites: requests per second, sent open-loop")
	benchDuration = flag.Duration("writes.duration", 10*time.Second, "BenchmarkWrites: how long the measured load runs")
)

// BenchmarkWrites measures owner-api's write path end to end, against the
// real PostgreSQL on loopback: an open-loop load of --writes.rate requests
// per second (default 200) for --writes.duration (default 10 s), half
// creates (each with an Idempotency-Key, as a careful client sends them)
// and half merge patches of existing businesses (with If-Match). Requests
// are sent on schedule whatever the server's pace, and latency is measured
// from the scheduled time, so a stalled server cannot hide its queue
// (no coordinated omission). A warm-up second is not measured. Run it once:
//
//	go test -run '^$' -bench BenchmarkWrites -benchtime 1x ./cmd/owner-api/
func BenchmarkWrites(b *testing.B) {
	dsn := pgtest.NewDatabase(b)
	srv := startOwnerAPI(b, dsn) // logs at info, one line per write, as in production
	tok := tokenFor(b, 1)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	r := rand.New(rand.NewPCG(1, 2))

	// Businesses to patch, each in the pool while no patch holds it, so
	// that patches never race each other for a version.
	type target struct {
		url     string
		version int
	}
	pool := make(chan target, 1000)
	var seq atomic.Int64
	create := func() (int, string) {
		n := seq.Add(1)
		body := fmt.Sprintf(`{"name":"Bench shop %d","category":"cafe","lat":%.7f,"lon":%.7f,"city":"Paris","country":"FR",`+
			`"description":%q,"photos":["https://img.example/%d.jpg"]}`,
			n, 48.8+float64(n%1000)/10000, 2.3+float64(n%997)/10000, strings.Repeat("Fresh bread. ", 100), n)
		req, _ := http.NewRequest("POST", srv.url+"/v1/businesses", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Idempotency-Key", fmt.Sprint("bench-", n))
		resp, err := hc.Do(req)
		if err != nil {
			return 0, ""
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	for range 200 {
		if st, loc := create(); st == 201 {
			pool <- target{srv.url + loc, 1}
		} else {
			b.Fatalf("seeding: status %d", st)
		}
	}
	patch := func(tg target) (int, target) {
		body := fmt.Sprintf(`{"city":"Paris %d","description":"updated %d"}`, tg.version, seq.Add(1))
		req, _ := http.NewRequest("PATCH", tg.url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/merge-patch+json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("If-Match", fmt.Sprintf(`"%d"`, tg.version))
		resp, err := hc.Do(req)
		if err != nil {
			return 0, tg
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			tg.version++
		}
		return resp.StatusCode, tg
	}

	name := fmt.Sprintf("rate=%g/s/mix=create50-patch50/dur=%v", *benchRate, *benchDuration)
	b.Run(name, func(b *testing.B) {
		for b.Loop() {
			warmup := time.Second
			interval := time.Duration(float64(time.Second) / *benchRate)
			total := int((warmup + *benchDuration) / interval)
			var mu sync.Mutex
			var lat []time.Duration
			var errs, sent int
			var wg sync.WaitGroup
			start := time.Now()
			for i := range total {
				at := start.Add(time.Duration(i) * interval)
				time.Sleep(time.Until(at))
				measured := at.Sub(start) >= warmup
				doPatch := r.IntN(2) == 0
				wg.Go(func() {
					var st int
					if doPatch {
						select {
						case tg := <-pool:
							st, tg = patch(tg)
							select {
							case pool <- tg:
							default: // creates filled the pool meanwhile
							}
						default: // every business is being patched: create instead
							doPatch = false
						}
					}
					if !doPatch {
						var loc string
						if st, loc = create(); st == 201 {
							select {
							case pool <- target{srv.url + loc, 1}:
							default:
							}
						}
					}
					d := time.Since(at)
					if !measured {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					sent++
					if st != 200 && st != 201 {
						errs++
						return
					}
					lat = append(lat, d)
				})
			}
			wg.Wait()
			elapsed := time.Since(start.Add(warmup))
			slices.Sort(lat)
			q := func(p float64) float64 {
				if len(lat) == 0 {
					return 0
				}
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "writes/s")
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.90), "p90-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(q(1), "max-ms")
			b.ReportMetric(float64(errs), "errors")
			b.Logf("%d requests at %.0f/s for %v: %d ok (%.1f/s), %d errors; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms",
				sent, *benchRate, *benchDuration, len(lat), float64(len(lat))/elapsed.Seconds(), errs, q(0.5), q(0.9), q(0.99), q(1))
			if errs > 0 {
				b.Errorf("%d requests failed", errs)
			}
		}
	})
}
