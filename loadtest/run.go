package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one load-test run. Exactly one of Rate (open loop) and
// Concurrency (closed loop) is set.
type Config struct {
	Scenario string // a name from k6/scenarios.json
	Target   string // searchd's base URL, e.g. http://127.0.0.1:8080
	OwnerURL string // owner-api's base URL; needed by owner, optional for mixed
	Token    string // owner-api bearer token; sent when not empty

	// Rate is the open-loop arrival rate in iterations per second: an
	// iteration starts every 1/Rate s whatever the server does, and each
	// request's latency counts from when its iteration was due, so a stall
	// is charged to every request it delays (no coordinated omission).
	Rate float64
	// Concurrency is the number of closed-loop workers, each starting its
	// next iteration when the last one ends.
	Concurrency int

	Duration    time.Duration // no iteration starts later than this after the start
	MaxRequests int64         // if > 0, no more requests than this
	Timeout     time.Duration // per request; 0 means 10s
	// MaxInFlight bounds open-loop iterations in flight (0 means 4096). When
	// the server is so slow that it is reached, iterations start late and
	// that wait is part of their latency.
	MaxInFlight int
	Seed        uint64 // queries and decisions; 0 means the spec's seed (1)
	// AllowRemote permits targets that are not loopback addresses.
	AllowRemote bool
	Thresholds  []Threshold
	Progress    io.Writer // a progress line each second; nil for none
	Command     string    // the command line, recorded in the report
	Machine     *Machine  // nil: ThisMachine()
}

// Defaults of Config.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxInFlight = 4096
)

// runner is the state shared by the iterations of a run.
type runner struct {
	target, ownerURL, token string
	seed                    uint64
	queries                 []Query
	scenarios               map[string]*ScenarioSpec
	weights                 []Weight // mixed: in effect, cumulative order
	client                  *http.Client
	rec                     *recorder
	maxRequests             int64
	issued                  atomic.Int64
	stopped                 atomic.Bool // the request budget is spent
	hardStop                atomic.Bool // in-flight requests were cut off at the end
}

// Run runs a load test and returns its report. It returns an error
// wrapping ErrThresholds, with the report, when a threshold failed; any
// other error comes without a report. Cancelling ctx stops the run early;
// the report then covers what completed and says it was interrupted.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	spec, err := LoadSpec()
	if err != nil {
		return nil, err
	}
	sc, ok := spec.Scenario(cfg.Scenario)
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q (known: %s)", cfg.Scenario, strings.Join(spec.Names(), ", "))
	}
	r, err := newRunner(spec, sc, &cfg)
	if err != nil {
		return nil, err
	}
	conns := cfg.Concurrency
	if cfg.Rate > 0 {
		conns = min(cfg.MaxInFlight, 1024)
	}
	r.client = newClient(conns, cfg.Timeout, cfg.AllowRemote)
	defer closeIdle(r.client)

	start := time.Now()
	r.rec = newRecorder(start)
	// In-flight iterations may finish their chains after the last start,
	// within a grace period; what is still running then is cut off.
	grace := 2 * cfg.Timeout
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	hard := time.AfterFunc(cfg.Duration+grace, func() { r.hardStop.Store(true); cancel() })
	defer hard.Stop()

	stopProgress := r.progress(cfg, start)
	if cfg.Rate > 0 {
		r.openLoop(runCtx, sc.Name, cfg, start)
	} else {
		r.closedLoop(runCtx, sc.Name, cfg, start)
	}
	stopProgress()
	elapsed := time.Since(start)

	rep := r.report(sc, cfg, start, elapsed)
	rep.Interrupted = ctx.Err() != nil
	if !rep.Passed {
		return rep, ErrThresholds
	}
	return rep, nil
}

// Validate checks the run's shape (load, duration, bounds), which Run
// does too; callers that wait for the target first check it before.
func (cfg *Config) Validate() error {
	switch {
	case cfg.Rate < 0 || cfg.Concurrency < 0:
		return errors.New("rate and concurrency must be positive")
	case (cfg.Rate > 0) == (cfg.Concurrency > 0):
		return errors.New("give exactly one of a rate (open loop) and a concurrency (closed loop)")
	case cfg.Rate > 1e6:
		return fmt.Errorf("rate %g per second is beyond what one runner can schedule", cfg.Rate)
	case cfg.Duration <= 0:
		return errors.New("duration must be positive: every run is bounded in time")
	case cfg.MaxRequests < 0 || cfg.Timeout < 0 || cfg.MaxInFlight < 0:
		return errors.New("max requests, timeout and max in flight must not be negative")
	}
	return nil
}

func newRunner(spec *Spec, sc *ScenarioSpec, cfg *Config) (*runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Timeout = cmp.Or(cfg.Timeout, DefaultTimeout)
	cfg.MaxInFlight = cmp.Or(cfg.MaxInFlight, DefaultMaxInFlight)
	cfg.Seed = cmp.Or(cfg.Seed, spec.Queries.Seed)

	r := &runner{seed: cfg.Seed, maxRequests: cfg.MaxRequests, token: cfg.Token, scenarios: map[string]*ScenarioSpec{}}
	for i := range spec.Scenarios {
		r.scenarios[spec.Scenarios[i].Name] = &spec.Scenarios[i]
	}
	t, err := CheckTarget(cfg.Target, cfg.AllowRemote)
	if err != nil {
		return nil, err
	}
	r.target = t.String()
	if cfg.OwnerURL != "" {
		o, err := CheckTarget(cfg.OwnerURL, cfg.AllowRemote)
		if err != nil {
			return nil, fmt.Errorf("owner URL: %w", err)
		}
		r.ownerURL = o.String()
	}
	if sc.Name == "owner" && r.ownerURL == "" {
		return nil, errors.New("the owner scenario needs owner-api's URL (--owner-url)")
	}
	r.weights = weightsInEffect(sc.Weights, r.ownerURL != "")
	r.queries = Queries(spec.Queries.Count, cfg.Seed)
	return r, nil
}

// query returns the query of iteration i: the workload in order, cycled.
func (r *runner) query(i int64) Query { return r.queries[i%int64(len(r.queries))] }

// weightsInEffect returns ws without the owner scenario when there is no
// owner-api to send it to, the rest scaled to sum to 1.
func weightsInEffect(ws []Weight, owner bool) []Weight {
	var in []Weight
	var sum float64
	for _, w := range ws {
		if owner || w.Scenario != "owner" {
			in = append(in, w)
			sum += w.Weight
		}
	}
	for i := range in {
		in[i].Weight /= sum
	}
	return in
}

// pickScenario maps u in [0, 1) to a scenario by the weights in effect.
func (r *runner) pickScenario(u float64) string {
	for _, w := range r.weights {
		if u < w.Weight {
			return w.Scenario
		}
		u -= w.Weight
	}
	return r.weights[len(r.weights)-1].Scenario
}

// ownerHeader returns owner-api's request headers.
func (r *runner) ownerHeader(ifMatch string) http.Header {
	h := http.Header{"Accept": {"application/json"}}
	if r.token != "" {
		h.Set("Authorization", "Bearer "+r.token)
	}
	if ifMatch != "" {
		h.Set("If-Match", ifMatch)
	}
	return h
}

// reserve takes n requests from the budget, or reports that it is spent.
func (r *runner) reserve(n int64) bool {
	if r.maxRequests <= 0 {
		return true
	}
	if r.issued.Add(n) > r.maxRequests {
		r.stopped.Store(true)
		return false
	}
	return true
}

// newIteration returns iteration i, due at due.
func (r *runner) newIteration(i int64, due time.Time) *iteration {
	return &iteration{r: r, i: i, due: due, rng: rand.New(rand.NewPCG(r.seed, uint64(i)))}
}

// openLoop starts iteration i at start + i/rate until the duration is over
// or the budget spent, each in its own goroutine, and waits for them.
// Iterations due that could not start before the run was cut off count as
// failed requests (see notStarted).
func (r *runner) openLoop(ctx context.Context, scenario string, cfg Config, start time.Time) {
	end := start.Add(cfg.Duration)
	spin := spinFor(dueAfter(1, cfg.Rate, cfg.Duration))
	slots := make(chan struct{}, cfg.MaxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	// Due times from the start, not from the last one, so rounding does
	// not accumulate; none is after end.
	dueAt := func(i int64) time.Time { return start.Add(dueAfter(i, cfg.Rate, cfg.Duration)) }
	for i := int64(0); ; i++ {
		due := dueAt(i)
		if r.stopped.Load() {
			return
		}
		if !due.Before(end) {
			// The last iteration is due 1/rate before the end, but the
			// schedule spans the whole duration: the run lasts it too, so
			// that requests/s is the rate offered (10 iterations at 5/s
			// said 5.5/s, counted over 1.8 s), as is the last second.
			sleepUntil(ctx, end, 0)
			return
		}
		if sleepUntil(ctx, due, spin) != nil {
			r.notStarted(scenario, i, end, dueAt)
			return
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			r.notStarted(scenario, i, end, dueAt)
			return
		}
		r.rec.iterationStarted()
		wg.Go(func() {
			defer func() { <-slots; r.rec.iterationDone() }()
			r.rec.recordLag(time.Since(due))
			r.newIteration(i, due).run(ctx, scenario)
		})
	}
}

// notStarted records, when the run was cut off at the end of its grace
// period (not interrupted), each open-loop iteration from i on that was due
// before end but never started, as its first request failed at the cut-off:
// they are the load the server could not take, and leaving them out would
// report only the requests it let through (coordinated omission).
func (r *runner) notStarted(scenario string, i int64, end time.Time, dueAt func(int64) time.Time) {
	if !r.hardStop.Load() {
		return
	}
	now := time.Now()
	for ; dueAt(i).Before(end) && r.reserve(1); i++ {
		name := r.newIteration(i, dueAt(i)).firstRequest(scenario)
		r.rec.record(result{name: name, latency: now.Sub(dueAt(i)), end: now, err: "not started by the end of the run"})
	}
}

// closedLoop runs cfg.Concurrency workers, each starting an iteration as
// soon as its last one ended, until the duration is over or the budget
// spent.
func (r *runner) closedLoop(ctx context.Context, scenario string, cfg Config, start time.Time) {
	end := start.Add(cfg.Duration)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil && !r.stopped.Load() {
				now := time.Now()
				if !now.Before(end) {
					return
				}
				r.rec.iterationStarted()
				err := r.newIteration(next.Add(1)-1, now).run(ctx, scenario)
				r.rec.iterationDone()
				if errors.Is(err, errStop) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// progress prints a line to cfg.Progress every second until the returned
// function is called.
func (r *runner) progress(cfg Config, start time.Time) (stop func()) {
	if cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				p := r.rec.progress(now)
				line := fmt.Sprintf("%4.0fs/%s  %d req  %.0f req/s  errors %d",
					p.elapsed.Seconds(), cfg.Duration, p.count, float64(p.lastCount), p.errors)
				if p.count > 0 {
					line += fmt.Sprintf(" (%.2f%%)", 100*float64(p.errors)/float64(p.count))
				}
				line += fmt.Sprintf("  p50 %s  p99 %s  in flight %d", fmtMs(ms(p.lastP50)), fmtMs(ms(p.lastP99)), p.inFlight)
				if cfg.Rate > 0 {
					line += "  max lag " + fmtMs(ms(p.maxLag))
				}
				fmt.Fprintln(cfg.Progress, line)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// report builds the report of a finished run and checks the thresholds.
func (r *runner) report(sc *ScenarioSpec, cfg Config, start time.Time, elapsed time.Duration) *Report {
	rec := r.rec
	rec.mu.Lock()
	defer rec.mu.Unlock()
	m := ThisMachine()
	if cfg.Machine != nil {
		m = *cfg.Machine
	}
	rep := &Report{
		Version: 1, Command: cfg.Command, Scenario: sc.Name, Description: sc.Description + sc.parameters(),
		Rate: cfg.Rate, Concurrency: cfg.Concurrency, DurationS: cfg.Duration.Seconds(), MaxRequests: cfg.MaxRequests,
		Target: r.target, OwnerURL: r.ownerURL, Seed: cfg.Seed, Weights: r.weights,
		Started: start.UTC().Round(time.Millisecond), ElapsedS: elapsed.Seconds(), Machine: m,
		Iterations: rec.iterations, Series: rec.timeSeries(elapsed), Passed: true,
	}
	rep.Mode = "closed"
	if cfg.Rate > 0 {
		rep.Mode = "open"
		rep.Lag = &Lag{
			P50Ms: ms(time.Duration(valueAt(rec.lag, 50))),
			P99Ms: ms(time.Duration(valueAt(rec.lag, 99))),
			MaxMs: ms(time.Duration(maxOf(rec.lag))),
		}
	}
	secs := elapsed.Seconds()
	rep.Requests = append(rep.Requests, summarize("all", rec.all, secs))
	for _, n := range rec.names() {
		rep.Requests = append(rep.Requests, summarize(n, rec.byName[n], secs))
	}
	for _, t := range cfg.Thresholds {
		tr := t.check(rec.lookup(t.Request))
		rep.Thresholds = append(rep.Thresholds, tr)
		rep.Passed = rep.Passed && tr.Passed
	}
	for msg, n := range rec.errSamples {
		rep.ErrorSamples = append(rep.ErrorSamples, ErrorSample{Message: msg, Count: n})
	}
	slices.SortFunc(rep.ErrorSamples, func(a, b ErrorSample) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Message, b.Message))
	})
	return rep
}
