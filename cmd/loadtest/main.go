// Command loadtest load-tests searchd (and owner-api) with nearby's
// scenarios and writes a report as JSON and as a self-contained HTML page.
//
//	go run ./cmd/loadtest                                  # search, 200 it/s for 30s, against :8080
//	go run ./cmd/loadtest --scenario details --rate 500 --duration 1m
//	go run ./cmd/loadtest --concurrency 32 --duration 20s  # closed loop: throughput
//	go run ./cmd/loadtest pace --rate 5000,10000           # latency at fixed rates, lean client
//	go run ./cmd/loadtest queries                          # rewrite loadtest/k6/queries.json
//
// See docs/LOADTEST.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nearby/nearby/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, loadtest.ErrThresholds):
		// The summary said which; k6 exits 99 on failed thresholds too.
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(99)
	default:
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// config is the command line of a run.
type config struct {
	loadtest.Config
	Out        string        // report path prefix: OUT.json and OUT.html; "" writes none
	Wait       time.Duration // how long to wait for searchd's /readyz; 0: do not check
	thresholds string        // as given
}

const usageHead = `usage: loadtest [run] [flags]
       loadtest pace --rate R[,R...] [flags]
       loadtest queries [--out FILE]

Runs a load-test scenario against searchd (and owner-api) on this machine
and writes a report: OUT.json and a self-contained OUT.html with the
latency-over-time and percentile plots. Exits 99 when a threshold fails.

Open loop (--rate, iterations started per second whatever the server does;
latency counts from when each was due) measures latency at a given load.
Closed loop (--concurrency workers, each waiting for its answer) measures
throughput. Give one; with neither, the scenario's default rate is used.

scenarios:
`

func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	spec, err := loadtest.LoadSpec()
	if err != nil {
		return config{}, err
	}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usageHead)
		for _, sc := range spec.Scenarios {
			fmt.Fprintf(out, "  %-8s %s (default rate %g/s; thresholds %s)\n", sc.Name, sc.Description,
				sc.DefaultRate, strings.Join(sc.Thresholds, ","))
		}
		fmt.Fprintln(out, "\nflags:")
		fs.PrintDefaults()
	}
	var c config
	fs.StringVar(&c.Target, "target", "http://127.0.0.1:8080", "searchd base URL (loopback only, unless --allow-remote)")
	fs.StringVar(&c.Scenario, "scenario", "search", "scenario: "+strings.Join(spec.Names(), ", "))
	fs.Float64Var(&c.Rate, "rate", 0, "open loop: iterations started per second (default: the scenario's rate)")
	fs.IntVar(&c.Concurrency, "concurrency", 0, "closed loop: number of workers")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "how long to start iterations")
	fs.Int64Var(&c.MaxRequests, "max-requests", 0, "stop after this many requests (0: no limit)")
	fs.StringVar(&c.thresholds, "thresholds", "", "pass/fail criteria, e.g. 'p99<20ms,p95<10ms,errors<0.1%'; request-specific: 'details:p99<5ms'; 'none' for none (default: the scenario's)")
	fs.StringVar(&c.Out, "out", "loadtest-report", "report path prefix: writes OUT.json and OUT.html (a directory: DIR/report.*); empty: no files")
	fs.StringVar(&c.OwnerURL, "owner-url", "", "owner-api base URL (needed by owner; mixed leaves owner out without it)")
	// Not the environment's token as the default: the usage text, printed on
	// any bad flag, would show it.
	fs.StringVar(&c.Token, "token", "", "owner-api bearer token (env OWNER_TOKEN)")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow targets that are not loopback addresses: only your own deployment")
	fs.DurationVar(&c.Timeout, "timeout", loadtest.DefaultTimeout, "per-request timeout")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", loadtest.DefaultMaxInFlight, "open loop: most iterations in flight at once")
	fs.Uint64Var(&c.Seed, "seed", spec.Queries.Seed, "seed of the queries and of each iteration's choices")
	fs.DurationVar(&c.Wait, "wait", time.Minute, "wait this long for searchd's /readyz before starting (0: do not check)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	tokenGiven := false
	fs.Visit(func(f *flag.Flag) { tokenGiven = tokenGiven || f.Name == "token" })
	if !tokenGiven {
		c.Token = getenv("OWNER_TOKEN")
	}
	sc, ok := spec.Scenario(c.Scenario)
	if !ok {
		return c, fmt.Errorf("unknown scenario %q (known: %s)", c.Scenario, strings.Join(spec.Names(), ", "))
	}
	if c.Rate == 0 && c.Concurrency == 0 {
		c.Rate = sc.DefaultRate
	}
	if c.Rate > 0 && c.Concurrency > 0 {
		return c, errors.New("give --rate (open loop) or --concurrency (closed loop), not both")
	}
	if c.thresholds == "" {
		c.Thresholds = sc.DefaultThresholds()
	} else if c.Thresholds, err = loadtest.ParseThresholds(c.thresholds); err != nil {
		return c, err
	}
	// Refuse a bad run, or a remote target, before anything is sent and
	// before waiting for searchd to be ready.
	if err := c.Validate(); err != nil {
		return c, err
	}
	if _, err := loadtest.CheckTarget(c.Target, c.AllowRemote); err != nil {
		return c, err
	}
	if c.OwnerURL != "" {
		if _, err := loadtest.CheckTarget(c.OwnerURL, c.AllowRemote); err != nil {
			return c, fmt.Errorf("--owner-url: %w", err)
		}
	}
	return c, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "queries" {
		return writeQueries(args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "pace" {
		return pace(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	cfg.Progress = stderr
	cfg.Command = commandLine(args)
	load := fmt.Sprintf("rate=%g/s", cfg.Rate)
	if cfg.Concurrency > 0 {
		load = fmt.Sprintf("concurrency=%d", cfg.Concurrency)
	}
	token := ""
	if cfg.Token != "" {
		token = "(set)"
	}
	fmt.Fprintf(stderr, "loadtest: scenario=%s %s duration=%s max-requests=%d target=%s owner-url=%s token=%s thresholds=%q seed=%d\n",
		cfg.Scenario, load, cfg.Duration, cfg.MaxRequests, cfg.Target, cfg.OwnerURL, token, joinThresholds(cfg.Thresholds), cfg.Seed)

	if cfg.Wait > 0 && cfg.Scenario != "owner" {
		if err := loadtest.WaitReady(ctx, cfg.Target, cfg.AllowRemote, cfg.Wait); err != nil {
			return err
		}
	}
	rep, runErr := loadtest.Run(ctx, cfg.Config)
	if rep == nil {
		return runErr
	}
	if err := rep.WriteSummary(stdout); err != nil {
		return err
	}
	if cfg.Out != "" {
		paths, err := writeReport(rep, cfg.Out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "report: %s\n", strings.Join(paths, ", "))
	}
	if rep.Interrupted && runErr == nil {
		return errors.New("interrupted")
	}
	return runErr
}

// writeReport writes OUT.json and OUT.html (or DIR/report.* for a
// directory, or a name ending in a separator) and returns their paths.
func writeReport(rep *loadtest.Report, out string) ([]string, error) {
	if st, err := os.Stat(out); err == nil && st.IsDir() || os.IsPathSeparator(out[len(out)-1]) {
		out = filepath.Join(out, "report")
	}
	if dir := filepath.Dir(out); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	var paths []string
	for _, f := range []struct {
		ext   string
		write func(io.Writer) error
	}{{".json", rep.WriteJSON}, {".html", rep.WriteHTML}} {
		path := out + f.ext
		if err := writeFile(path, f.write); err != nil {
			return paths, fmt.Errorf("write report %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// writeFile writes a file through a temporary file and a rename, so a
// reader never sees half a report.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// writeQueries is the queries subcommand: it writes the k6 query file from
// the workload generator.
func writeQueries(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loadtest queries", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("out", filepath.Join("loadtest", "k6", "queries.json"), "file to write; - for standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	spec, err := loadtest.LoadSpec()
	if err != nil {
		return err
	}
	if *out == "-" {
		return spec.WriteQueryFile(stdout)
	}
	if err := writeFile(*out, spec.WriteQueryFile); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "wrote %d queries (seed %d) to %s\n", spec.Queries.Count, spec.Queries.Seed, *out)
	return nil
}

// pace is the pace subcommand: loadtest.Pace at each rate given, one
// line of latencies each.
func pace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest pace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: loadtest pace --rate R[,R...] [flags]

Sends nearby searches (k=20 within 2 km at the workload's points) at each
fixed rate in turn, open loop, with a lean HTTP/1.1 client that leaves most
of the machine to searchd, and prints the latency percentiles, counted from
when each request was due. Use it for latency at rates beyond what the
scenario runner keeps on schedule; with --path, for the latency of one
fixed request (--path /healthz: the floor of HTTP on the machine at that
rate).

flags:
`)
		fs.PrintDefaults()
	}
	var cfg loadtest.PaceConfig
	var rates, path string
	fs.StringVar(&cfg.Target, "target", "http://127.0.0.1:8080", "searchd base URL (loopback only, unless --allow-remote)")
	fs.StringVar(&rates, "rate", "", "requests per second; a comma list runs each in turn")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long each rate runs")
	fs.IntVar(&cfg.Conns, "conns", 64, "keep-alive connections")
	fs.DurationVar(&cfg.Timeout, "timeout", loadtest.DefaultTimeout, "per-request timeout")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow targets that are not loopback addresses: only your own deployment")
	fs.StringVar(&path, "path", "", "send this GET path (with its query) every time instead of the searches, e.g. /healthz")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || rates == "" {
		return errors.New("give --rate, e.g. --rate 5000 or --rate 2000,4000,8000")
	}
	if path != "" && !strings.HasPrefix(path, "/") {
		return fmt.Errorf("--path %q: give a path starting with /", path)
	}
	var list []float64
	for r := range strings.SplitSeq(rates, ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil {
			return fmt.Errorf("--rate %q: %w", r, err)
		}
		list = append(list, f)
	}
	cfg.Paths = loadtest.SearchPaths(20000, 3)
	if path != "" {
		cfg.Paths = []string{path}
	}
	failed := false
	for _, r := range list {
		cfg.Rate = r
		res, err := loadtest.Pace(ctx, cfg)
		// Ctrl-C: what was measured until then is still printed, as a
		// scenario run still writes its report.
		interrupted := err != nil && res != nil && ctx.Err() != nil
		if err != nil && !interrupted {
			return err
		}
		fmt.Fprintf(stdout, "rate %g/s: answered %.0f/s  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  send lag p99 %s  errors %d\n",
			r, res.Rate, us(res.P50), us(res.P90), us(res.P99), us(res.P999), us(res.Max), us(res.LagP99), res.Errors)
		if res.Errors > 0 {
			fmt.Fprintf(stdout, "  e.g. %s\n", res.FirstError)
			failed = true
		}
		if interrupted {
			fmt.Fprintf(stdout, "  INTERRUPTED after %s of %s: the figures cover only part of the run\n", res.Elapsed.Round(time.Millisecond), cfg.Duration)
			return errors.New("interrupted")
		}
	}
	if failed {
		return errors.New("some requests failed")
	}
	return nil
}

func us(d time.Duration) time.Duration { return d.Round(time.Microsecond) }

// commandLine renders the arguments as a shell command, with the token
// redacted.
func commandLine(args []string) string {
	parts := []string{"go run ./cmd/loadtest"}
	redact := false
	for _, a := range args {
		switch {
		case redact:
			a, redact = "REDACTED", false
		case a == "--token" || a == "-token":
			redact = true
		case strings.HasPrefix(a, "--token=") || strings.HasPrefix(a, "-token="):
			a = a[:strings.IndexByte(a, '=')+1] + "REDACTED"
		}
		if a == "" || strings.ContainsAny(a, " '\"<>|&;$*?%(){}[]!#~`\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func joinThresholds(ts []loadtest.Threshold) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ",")
}
