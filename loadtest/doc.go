// Package loadtest runs nearby's load-test scenarios against searchd and
// owner-api over HTTP and reports latency and throughput as JSON and as a
// self-contained HTML page. cmd/loadtest is its command line; the k6
// scripts in k6/ run the same scenarios for operators who use k6.
//
// Rules:
//   - One description of the scenarios, k6/scenarios.json, is read by this
//     package (embedded) and by the k6 scripts: names, parameters, default
//     rates and thresholds. The search workload is internal/dataset's query
//     generator; k6/queries.json holds its first queries for k6, written by
//     "go run ./cmd/loadtest queries", and tests fail when it is stale.
//     Iteration i of a run uses query i (cycled), and draws its decisions
//     (follow a page, which result to view, which scenario in mixed) from
//     a random stream seeded by (seed, i), so what a run sends does not
//     depend on timing.
//   - Open loop (Config.Rate): iteration i is due at start + i/rate and is
//     started then in its own goroutine, whatever earlier requests are
//     doing. The first request of an iteration is timed from when it was
//     due, later ones (which need an earlier answer) from when they were
//     sent, so a stall is charged to every request it delays: no
//     coordinated omission. How late iterations started is reported as lag.
//   - Closed loop (Config.Concurrency): a fixed number of workers, each
//     starting its next iteration when the last ends; latency from the
//     actual send. This measures throughput at that concurrency.
//   - Every run is bounded: no iteration starts after Config.Duration, no
//     request is sent beyond Config.MaxRequests, each request has a timeout,
//     and requests still running 2 timeouts after the duration are cut off
//     (and counted as errors), as are open-loop iterations due but not yet
//     started then (their first request fails, charged from when it was
//     due).
//   - Only loopback targets (127.0.0.0/8, ::1, localhost) unless
//     Config.AllowRemote: the URL is checked, and the dialer refuses any
//     other address, so neither DNS, a proxy setting nor a redirect can send
//     load elsewhere. Redirects are not followed.
//   - Latencies are kept in HDR histograms from 1 µs to 1 min (longer ones
//     count as 1 min) with 3 significant digits; the per-second series uses
//     2. A request is an error when it got no response, an unexpected
//     status, or (where the scenario reads it) an answer that does not
//     decode; errors are included in the latencies.
//   - Run is safe to call concurrently; a Report is plain data.
package loadtest
