package loadtest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// k6 itself is not available here, so these tests run the k6 scripts under
// node with stand-ins for the k6 modules (k6, k6/http, k6/data,
// k6/execution) and k6's globals (open, __ENV): the options each script
// gives k6, and what its iterations send for scripted answers.

var k6Stubs = map[string]string{
	"hooks.mjs": `
const stubs = { 'k6': 'k6.mjs', 'k6/http': 'k6-http.mjs', 'k6/data': 'k6-data.mjs', 'k6/execution': 'k6-execution.mjs' };
export async function resolve(specifier, context, next) {
  if (stubs[specifier]) return { url: new URL(stubs[specifier], import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}`,
	"k6.mjs": `
export function check(v, checks) { return Object.values(checks).every((f) => f(v)); }`,
	"k6-http.mjs": `
function req(method, url, body, params) {
  globalThis.__calls.push({ method, url, body: body ?? null, headers: (params && params.headers) || {}, name: params && params.tags && params.tags.name,
    expected: (params && params.responseCallback && params.responseCallback.expected) || null,
    timeout: (params && params.timeout) || null });
  return globalThis.__respond(method, url);
}
export default {
  expectedStatuses: (...codes) => ({ expected: codes }),
  get: (url, params) => req('GET', url, null, params),
  post: (url, body, params) => req('POST', url, body, params),
  patch: (url, body, params) => req('PATCH', url, body, params),
  del: (url, body, params) => req('DELETE', url, body, params),
};`,
	"k6-data.mjs": `
export class SharedArray { constructor(name, fn) { return fn(); } }`,
	"k6-execution.mjs": `
export default { scenario: { get iterationInTest() { return globalThis.__iter; } } };`,
	"driver.mjs": `
import { register } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
register('./hooks.mjs', import.meta.url);
const [dir, script, scenario, mode] = process.argv.slice(2);
globalThis.open = (p) => readFileSync(join(dir, p), 'utf8');
globalThis.__ENV = JSON.parse(process.env.K6_ENV || '{}');
globalThis.__calls = [];
globalThis.__iter = 0;
const res = (status, body, headers = {}) => ({
  status, headers, json: (path) => (path ? body[path] : body),
});
let pages = 0;
globalThis.__respond = (method, url) => {
  if (url.includes('/v1/search/nearby')) {
    pages++;
    return res(200, { results: [{ id: '11' }, { id: '12' }], next_cursor: pages < 9 ? 'c' + pages : null });
  }
  if (method === 'POST') return res(201, { id: 7 }, { Etag: '"v1"' });
  if (method === 'GET' && url.includes('/v1/businesses/7')) return res(200, { id: '7' }, { Etag: '"v2"' });
  if (method === 'PATCH') return res(200, { id: '7' }, { Etag: '"v3"' });
  if (method === 'DELETE') return res(204, {});
  return res(200, {});
};
let out;
try {
  const mod = await import(join(dir, script));
  out = { options: mod.options };
  if (mode === 'iterate') {
    Math.random = () => 0; // follow every page, view the first result, mixed: the first scenario
    globalThis.__iter = 3;
    mod.default();
    out.calls = globalThis.__calls;
  }
} catch (e) {
  out = { error: String(e && e.message || e) };
}
console.log(JSON.stringify(out));
`,
}

type k6Call struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Body    *string           `json:"body"`
	Headers map[string]string `json:"headers"`
	Name    string            `json:"name"`
	// Expected are the statuses of the request's responseCallback, the
	// ones k6 does not count in http_req_failed.
	Expected []int  `json:"expected"`
	Timeout  string `json:"timeout"` // the request's timeout param
}

type k6Out struct {
	Options struct {
		Scenarios map[string]struct {
			Executor        string `json:"executor"`
			Rate            int    `json:"rate"`
			TimeUnit        string `json:"timeUnit"`
			Duration        string `json:"duration"`
			VUs             int    `json:"vus"`
			PreAllocatedVUs int    `json:"preAllocatedVUs"`
			MaxVUs          int    `json:"maxVUs"`
			Exec            string `json:"exec"`
		} `json:"scenarios"`
		Thresholds   map[string][]string `json:"thresholds"`
		MaxRedirects *int                `json:"maxRedirects"`
	} `json:"options"`
	Calls []k6Call `json:"calls"`
	Error string   `json:"error"`
}

// runK6 runs a k6 entry script under node with env and returns its options
// and, in mode "iterate", the requests of one iteration.
func runK6(t *testing.T, bin, script, mode string, env map[string]string) k6Out {
	t.Helper()
	dir := t.TempDir()
	for name, src := range k6Stubs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k6dir, err := filepath.Abs("k6")
	if err != nil {
		t.Fatal(err)
	}
	envJSON, _ := json.Marshal(env)
	cmd := exec.Command(bin, filepath.Join(dir, "driver.mjs"), k6dir, script, strings.TrimSuffix(script, ".js"), mode)
	cmd.Env = append(os.Environ(), "K6_ENV="+string(envJSON))
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, outb)
	}
	var out k6Out
	if err := json.Unmarshal(outb, &out); err != nil {
		t.Fatalf("%v in %s", err, outb)
	}
	return out
}

func TestK6Options(t *testing.T) {
	bin := node(t)
	spec, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]string{"OWNER_URL": "http://127.0.0.1:8081"}
	for _, sc := range spec.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			out := runK6(t, bin, sc.Name+".js", "options", owner)
			if out.Error != "" {
				t.Fatal(out.Error)
			}
			ex, ok := out.Options.Scenarios[sc.Name]
			if len(out.Options.Scenarios) != 1 || !ok {
				t.Fatalf("scenarios %+v", out.Options.Scenarios)
			}
			if ex.Executor != "constant-arrival-rate" || float64(ex.Rate) != sc.DefaultRate || ex.TimeUnit != "1s" ||
				ex.Duration != "30s" || ex.MaxVUs != 1000 || ex.PreAllocatedVUs < 10 || ex.Exec != "default" {
				t.Errorf("executor %+v, want %g/s for 30s", ex, sc.DefaultRate)
			}
			// The default thresholds, translated (checked rule by rule in
			// TestK6CommonMatchesGo), and dropped iterations fail the run.
			var rules int
			for _, rs := range out.Options.Thresholds {
				rules += len(rs)
			}
			if rules != len(sc.Thresholds)+1 || len(out.Options.Thresholds["dropped_iterations"]) != 1 {
				t.Errorf("thresholds %v for %v", out.Options.Thresholds, sc.Thresholds)
			}
			// Redirects are not followed, as by the Go runner: k6 follows
			// 10 by default, to any host, past the loopback check.
			if out.Options.MaxRedirects == nil || *out.Options.MaxRedirects != 0 {
				t.Errorf("maxRedirects %v, want 0", out.Options.MaxRedirects)
			}
		})
	}

	out := runK6(t, bin, "search.js", "options", map[string]string{"CONCURRENCY": "8", "DURATION": "1m", "THRESHOLDS": "p99<20ms,details:errors<1%"})
	ex := out.Options.Scenarios["search"]
	if ex.Executor != "constant-vus" || ex.VUs != 8 || ex.Duration != "1m" {
		t.Errorf("closed loop: %+v", ex)
	}
	if th := out.Options.Thresholds; len(th) != 2 || th["http_req_duration"][0] != "p(99)<20" || th["http_req_failed{name:details}"][0] != "rate<0.01" {
		t.Errorf("thresholds %v", th)
	}
	out = runK6(t, bin, "owner.js", "options", map[string]string{"OWNER_URL": "http://127.0.0.1:8081", "RATE": "0.5"})
	if ex := out.Options.Scenarios["owner"]; ex.Rate != 30 || ex.TimeUnit != "1m" {
		t.Errorf("fractional rate: %+v", ex)
	}

	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"remote base":   {map[string]string{"BASE_URL": "http://10.0.0.1:8080", "OWNER_URL": "http://127.0.0.1:8081"}, "not a loopback address"},
		"remote owner":  {map[string]string{"OWNER_URL": "http://example.com"}, "not a loopback address"},
		"no owner":      {map[string]string{}, "needs OWNER_URL"},
		"bad threshold": {map[string]string{"OWNER_URL": "http://127.0.0.1:8081", "THRESHOLDS": "p99<fast"}, "bad duration"},
		"both loads":    {map[string]string{"OWNER_URL": "http://127.0.0.1:8081", "RATE": "5", "CONCURRENCY": "2"}, "not both"},
		"unknown name":  {map[string]string{"OWNER_URL": "http://127.0.0.1:8081", "THRESHOLDS": "owner_created:p99<1s"}, "unknown request owner_created"},
	} {
		if out := runK6(t, bin, "owner.js", "options", tc.env); !strings.Contains(out.Error, tc.want) {
			t.Errorf("%s: error %q, want %q", name, out.Error, tc.want)
		}
	}
	if out := runK6(t, bin, "search.js", "options", map[string]string{"BASE_URL": "http://example.com", "ALLOW_REMOTE": "1"}); out.Error != "" {
		t.Errorf("ALLOW_REMOTE: %s", out.Error)
	}
}

// TestK6Iterations: one iteration of each scenario sends what the Go
// runner's does for the same choices.
func TestK6Iterations(t *testing.T) {
	bin := node(t)
	spec, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	q := Queries(4, spec.Queries.Seed)[3] // iteration 3's query
	env := map[string]string{"BASE_URL": "http://127.0.0.1:9/", "OWNER_URL": "http://127.0.0.1:8081", "OWNER_TOKEN": "tok"}
	base := "http://127.0.0.1:9"
	calls := func(script string) []k6Call {
		out := runK6(t, bin, script, "iterate", env)
		if out.Error != "" {
			t.Fatalf("%s: %s", script, out.Error)
		}
		return out.Calls
	}
	// Each request names the statuses the Go runner accepts for it, so
	// that k6's http_req_failed counts the same errors (by default k6
	// takes any 2xx or 3xx for a success).
	wantStatus := map[string]string{
		ReqSearch: "[200]", ReqSearchPage: "[200]", ReqDetails: "[200]", ReqHealthz: "[200]",
		ReqOwnerCreate: "[201 200]", ReqOwnerRead: "[200]", ReqOwnerUpdate: "[200 204]", ReqOwnerDelete: "[204 200]",
	}
	describe := func(cs []k6Call) []string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Name+" "+c.Method+" "+c.URL)
			if got := fmt.Sprint(c.Expected); got != wantStatus[c.Name] {
				t.Errorf("%s %s: expected statuses %s, want %s", c.Method, c.URL, got, wantStatus[c.Name])
			}
			// The Go runner's timeout, not k6's 60 s.
			if want := DefaultTimeout.String(); c.Timeout != want {
				t.Errorf("%s %s: timeout %q, want %q", c.Method, c.URL, c.Timeout, want)
			}
		}
		return s
	}

	// search: every page followed, up to max_pages.
	search, _ := spec.Scenario("search")
	cs := calls("search.js")
	want := []string{"search GET " + base + q.Path}
	for p := 1; p < search.MaxPages; p++ {
		want = append(want, "search_page GET "+base+q.Path+"&cursor=c"+strconv.Itoa(p))
	}
	if got := describe(cs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("search:\n got %q\nwant %q", got, want)
	}

	// details: the first result.
	want = []string{"search GET " + base + q.Path, "details GET " + base + "/v1/businesses/11"}
	if got := describe(calls("details.js")); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("details:\n got %q\nwant %q", got, want)
	}

	// owner: create, read, update and delete with the latest ETag.
	cs = calls("owner.js")
	want = []string{
		"owner_create POST http://127.0.0.1:8081/v1/businesses",
		"owner_read GET http://127.0.0.1:8081/v1/businesses/7",
		"owner_update PATCH http://127.0.0.1:8081/v1/businesses/7",
		"owner_delete DELETE http://127.0.0.1:8081/v1/businesses/7",
	}
	if got := describe(cs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("owner:\n got %q\nwant %q", got, want)
	}
	for i, wantMatch := range []string{"", "", `"v2"`, `"v3"`} {
		if cs[i].Headers["Authorization"] != "Bearer tok" || cs[i].Headers["If-Match"] != wantMatch {
			t.Errorf("owner request %d headers %v, want If-Match %q", i, cs[i].Headers, wantMatch)
		}
	}
	var created map[string]any
	if cs[0].Body == nil || json.Unmarshal([]byte(*cs[0].Body), &created) != nil {
		t.Fatalf("create body %v", cs[0].Body)
	}
	wantCat := "bakery" // category 3 % 20, as in the Go runner, unless the query has a filter
	if len(q.Categories) > 0 {
		wantCat = q.Categories[0]
	}
	if created["category"] != wantCat || created["lat"] != q.Lat || created["lon"] != q.Lon || !strings.HasPrefix(created["name"].(string), "Loadtest Shop") {
		t.Errorf("create body %v, want category %s at %g,%g", created, wantCat, q.Lat, q.Lon)
	}

	// mixed with u = 0: the first weighted scenario, search.
	if got := describe(calls("mixed.js")); len(got) == 0 || got[0] != "search GET "+base+q.Path {
		t.Errorf("mixed: %q", got)
	}
	// ceiling.
	if got := describe(calls("ceiling.js")); len(got) != 1 || got[0] != "healthz GET "+base+"/healthz" {
		t.Errorf("ceiling: %q", got)
	}
}
