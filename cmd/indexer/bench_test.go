package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/postgres"
	"github.com/nearby/nearby/internal/postgres/pgtest"
	"github.com/nearby/nearby/seeds"
)

var benchSizes = flag.String("indexer.sizes", "1M,10M", "comma-separated table sizes of BenchmarkBuildFromDB (suffix k or M)")

func parseSize(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "M"):
		mult, s = 1_000_000, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "k"):
		mult, s = 1000, strings.TrimSuffix(s, "k")
	}
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// BenchmarkBuildFromDB times `indexer build --db` end to end, database to
// published seeds, on a table of n generated businesses (around real
// cities, weighted by population) in a throwaway database on the test
// server. The indexer runs as its own process (the binary built from this
// package), so its peak resident memory is its own (getrusage ru_maxrss of
// the child), not the benchmark's, which generated the data.
//
// Loading is set-up, not timed: COPY of every row with the columns a
// writer sets, secondary indexes dropped first (the indexer's COPY is a
// sequential scan and does not use them), then VACUUM ANALYZE so hint bits
// are set and the planner's estimate gives progress reports an ETA.
func BenchmarkBuildFromDB(b *testing.B) {
	bin := filepath.Join(buildIndexer(b), "indexer")
	for _, s := range strings.Split(*benchSizes, ",") {
		n, err := parseSize(strings.TrimSpace(s))
		if err != nil {
			b.Fatal(err)
		}
		b.Run("n="+strings.TrimSpace(s), func(b *testing.B) {
			dsn := pgtest.NewDatabase(b)
			ctx := context.Background()
			if _, _, err := postgres.Migrate(ctx, dsn, nil); err != nil {
				b.Fatal(err)
			}
			g := dataset.NewGenerator(1)
			left := n
			start := time.Now()
			if _, err := pgtest.CopyBusinesses(ctx, dsn, true, func() (nearby.Business, bool) {
				left--
				return g.Next(), left >= 0
			}); err != nil {
				b.Fatal(err)
			}
			b.Logf("loaded %d businesses in %v", n, time.Since(start).Round(time.Millisecond))
			out := b.TempDir()

			var took, read time.Duration
			var peakRSS int64
			var rows float64
			b.ResetTimer()
			for b.Loop() {
				cmd := osexec.Command(bin, "build", "--db", dsn, "--out", out, "--progress-every", "0")
				start := time.Now()
				logs, err := cmd.Output()
				took += time.Since(start)
				if err != nil {
					b.Fatalf("indexer build: %v\n%s", err, logs)
				}
				peakRSS = max(peakRSS, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss*1024)
				for _, l := range logLines(string(logs), "published") {
					read += time.Duration(l["read_s"].(float64) * float64(time.Second))
					rows = l["rows"].(float64)
				}
			}
			b.StopTimer()
			if int(rows) != n {
				b.Fatalf("published %v rows, want %d", rows, n)
			}
			m, err := seeds.ReadManifest(out)
			if err != nil {
				b.Fatal(err)
			}
			var seedBytes int64
			for _, r := range m.Regions {
				seedBytes += r.Bytes
			}
			iters := float64(b.N)
			b.ReportMetric(rows*iters/took.Seconds(), "rows/s")
			b.ReportMetric(rows*iters/read.Seconds(), "read-rows/s")
			b.ReportMetric(took.Seconds()/iters, "s/build")
			b.ReportMetric(float64(peakRSS)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(peakRSS)/(1<<20)/(rows/1e6), "RSS-MB/M")
			b.ReportMetric(float64(seedBytes)/rows, "seed-B/business")
		})
	}
}

// buildIndexer builds this command into a temporary directory.
func buildIndexer(b *testing.B) string {
	b.Helper()
	gomod, err := osexec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "nearby-indexer-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	cmd := osexec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/indexer")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}
