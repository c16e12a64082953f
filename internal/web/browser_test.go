package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/chromiumtest"
	"github.com/nearby/nearby/internal/httpapi"
	"github.com/nearby/nearby/internal/search"
)

// gate holds the requests for a path and query (exactly as sent) until
// the test releases them, so that a test can make answers arrive in the
// order it wants.
type gate struct {
	mu    sync.Mutex
	holds map[string]chan struct{}
	held  map[string]int // requests waiting, by prefix
}

func (g *gate) hold(target string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.holds[target] = make(chan struct{})
}

func (g *gate) release(target string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.holds[target])
	delete(g.holds, target)
}

// waiting is how many requests for target are held now.
func (g *gate) waiting(target string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held[target]
}

func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.URL.RequestURI()
		g.mu.Lock()
		wait := g.holds[target]
		if wait != nil {
			g.held[target]++
		}
		g.mu.Unlock()
		if wait != nil {
			select {
			case <-wait:
			case <-r.Context().Done():
			}
			g.mu.Lock()
			g.held[target]--
			g.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// explorer is the page open in a tab of the test's Chromium, served by an
// engine the test can reload.
type explorer struct {
	t      *testing.T
	ctx    context.Context
	base   string
	engine *search.Engine
	gate   *gate
}

// openExplorer serves bs as index version 42 and opens the page at
// /#hash in a new tab of the shared Chromium. init, if not empty, runs in
// the page before its own script.
func openExplorer(t *testing.T, bs []nearby.Business, hash, init string) *explorer {
	t.Helper()
	b := browser(t)
	e := &search.Engine{}
	x := &explorer{t: t, engine: e, gate: &gate{holds: map[string]chan struct{}{}, held: map[string]int{}}}
	x.reload(42, bs)
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(x.gate.wrap(httpapi.NewServer(e, slog.New(slog.DiscardHandler), reg, reg, nil)))
	t.Cleanup(srv.Close)
	x.base = srv.URL

	ctx, cancel := chromedp.NewContext(b)
	t.Cleanup(cancel)
	x.ctx = ctx
	var mu sync.Mutex
	var exceptions []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() {
				mu.Lock()
				exceptions = append(exceptions, m.String())
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(exceptions) > 0 {
			t.Errorf("the page threw: %s", strings.Join(exceptions, "\n"))
		}
	})
	if init != "" {
		x.do("add the init script", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: init})
			return err
		}))
	}
	x.do("open the page", chromedp.Navigate(x.base+"/#"+hash))
	x.waitFor("the index stats", `document.getElementById('stat-version').dataset.value === '42'`)
	return x
}

// reload makes the engine serve bs as index version v.
func (x *explorer) reload(v uint64, bs []nearby.Business) {
	x.t.Helper()
	r, err := search.BuildRegion("world", v, bs)
	if err != nil {
		x.t.Fatal(err)
	}
	x.engine.Swap(search.NewIndex(r))
}

func (x *explorer) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	x.t.Helper()
	if err := chromedp.Do(x.ctx, steps...); err != nil {
		x.t.Fatalf("%s: %v", what, err)
	}
}

// waitFor waits until the JavaScript expression is true.
func (x *explorer) waitFor(what, expr string) {
	x.t.Helper()
	if _, err := chromedp.Run(x.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		text, _ := chromedp.Run(x.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		x.t.Fatalf("waiting for %s: %v\npage text:\n%s", what, err, text)
	}
}

// waitServer waits until cond holds on the server's side.
func (x *explorer) waitServer(what string, cond func() bool) {
	x.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			x.t.Fatalf("waiting for %s: timed out", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func eval[T any](x *explorer, expr string) T {
	x.t.Helper()
	v, err := chromedp.Run(x.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		x.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// settled waits until the page has received n answers to requests for
// target (path and query), then lets it run what they started: a task, an
// animation frame and a task.
func (x *explorer) settled(target string, n int) {
	x.t.Helper()
	x.waitFor(fmt.Sprintf("%d answers to %s", n, target), `performance.getEntriesByType('resource').filter((e) => {
		const u = new URL(e.name); return u.pathname + u.search === `+strconv.Quote(target)+` && e.responseEnd > 0; }).length >= `+strconv.Itoa(n))
	eval[bool](x, `new Promise((done) => setTimeout(() => requestAnimationFrame(() => setTimeout(() => done(true))), 0))`)
}

const listState = `(() => { const ol = document.getElementById('results'); return ol.dataset.state; })()`

// shared is the headless Chromium the browser tests open their tabs in:
// started by the first, stopped by TestMain.
var shared struct {
	once   sync.Once
	ctx    context.Context
	err    error
	dir    string
	cancel []context.CancelFunc
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, cancel := range slices.Backward(shared.cancel) {
		cancel()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// browser returns the shared Chromium, starting it if need be.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumtest.Path(t)
	shared.once.Do(func() { shared.ctx, shared.err = startBrowser(exe) })
	if shared.err != nil {
		t.Fatalf("start Chromium: %v", shared.err)
	}
	return shared.ctx
}

func startBrowser(exe string) (context.Context, error) {
	dir, err := os.MkdirTemp("", "web-browser-test-")
	if err != nil {
		return nil, err
	}
	shared.dir = dir
	opts := chromiumtest.Options(exe, dir, 1100, 760)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	shared.cancel = append(shared.cancel, cancelAlloc, cancelBrowser)
	return bctx, chromedp.Do(bctx) // starts the browser
}

// tokyo are n businesses within 2 km of Tokyo's centre; the first has a
// name that is HTML.
func tokyo(n int) []nearby.Business {
	bs := make([]nearby.Business, n)
	for i := range bs {
		bs[i] = nearby.Business{
			ID: int64(i + 1), Name: "Shop " + strconv.Itoa(i+1), Category: nearby.Cafe,
			Lat: 35.6895 + float64(i)*0.0005, Lon: 139.6917 + float64(i%5)*0.0007,
		}
	}
	bs[0].Name = `<img src=x onerror="window.pwned=1"><b>Bold</b>`
	return bs
}

// The browser tests drive the map explorer in headless Chromium against
// an in-process server whose answers they can hold back and whose index
// they can reload.

// TestBrowserAntimeridian: near ±180° the results on both sides of the
// antimeridian are drawn around the search point, and the map's view
// counts and searches across it.
func TestBrowserAntimeridian(t *testing.T) {
	x := openExplorer(t, testBusinesses, "lat=-17&lon=179.95&radius=20000", "")
	x.waitFor("the Fiji results", listState+` === 'done' && document.getElementById('results').children.length === 2`)
	// The markers are discs of #2563eb: count the blobs of that colour.
	const blobs = `(() => {
			const c = document.getElementById('map');
			const w = c.width, h = c.height;
			const px = c.getContext('2d').getImageData(0, 0, w, h).data;
			const seen = new Uint8Array(w * h);
			const blue = (i) => px[4 * i] === 37 && px[4 * i + 1] === 99 && px[4 * i + 2] === 235;
			const out = [];
			for (let i = 0; i < w * h; i++) {
				if (seen[i] || !blue(i)) continue;
				let n = 0, sx = 0, sy = 0;
				const stack = [i];
				seen[i] = 1;
				while (stack.length) {
					const j = stack.pop();
					n++; sx += j % w; sy += Math.floor(j / w);
					for (const k of [j - 1, j + 1, j - w, j + w]) {
						if (k >= 0 && k < w * h && !seen[k] && blue(k)) { seen[k] = 1; stack.push(k); }
					}
				}
				if (n >= 30) out.push([sx / n, sy / n]);
			}
			return out;
		})()`
	x.waitFor("two markers on the map", blobs+`.length === 2`)
	m := eval[[][2]float64](x, blobs)
	if d := m[0][0] - m[1][0]; d < -400 || d > 400 {
		t.Errorf("the markers of two businesses 21 km apart are drawn at %v", m)
	}

	// The view straddles the antimeridian: its density grid and its
	// box search cross it.
	x.waitFor("the density in view", `document.getElementById('density-note').textContent.startsWith('2 businesses in view')`)
	x.do("search this view", chromedp.Click(chromedp.ID("search-view")))
	x.waitFor("the view's results", `(() => { const ol = document.getElementById('results');
			return ol.dataset.state === 'done' && ol.dataset.endpoint === 'box'; })()`)
	q := eval[string](x, `document.getElementById('results').dataset.query`)
	n := eval[int](x, `document.getElementById('results').children.length`)
	if n != 2 || !strings.Contains(q, "min_lon=17") || !strings.Contains(q, "max_lon=-17") {
		t.Errorf("the view search ran %s and found %d; want a box from 17x° to -17x° finding 2", q, n)
	}
}

// TestBrowserIndexReloadedWhilePaging: a cursor refused after the index
// changed restarts the search from its first page, and the page says why.
// Business names show as text, never HTML.
func TestBrowserIndexReloadedWhilePaging(t *testing.T) {
	bs := tokyo(30)
	x := openExplorer(t, bs, "lat=35.6895&lon=139.6917&radius=5000&limit=10", "")
	x.waitFor("page 1", listState+` === 'done'`)
	// Business names are text, never HTML.
	if got := eval[string](x, `document.querySelector('#results li[data-id="1"] .name').textContent`); got != bs[0].Name {
		t.Errorf("the first result's name shows as %q, want %q", got, bs[0].Name)
	}
	if eval[bool](x, `!!document.querySelector('#results img, #results b') || window.pwned === 1`) {
		t.Error("a business name was inserted as HTML")
	}
	x.do("next page", chromedp.Click(chromedp.ID("next")))
	x.waitFor("page 2", listState+` === 'done' && document.getElementById('results').dataset.cursor !== ''`)
	x.reload(43, bs[:25])
	x.do("page 3", chromedp.Click(chromedp.ID("next")))
	x.waitFor("page 1 of the new index", `(() => { const ol = document.getElementById('results');
			return ol.dataset.state === 'done' && ol.dataset.indexVersion === '43'; })()`)
	type shown struct {
		Cursor, Page, Error, First string
		Items                      int
		Prev, Next                 bool
	}
	got := eval[shown](x, `({
			cursor: document.getElementById('results').dataset.cursor,
			items: document.getElementById('results').children.length,
			first: document.querySelector('#results li').dataset.id,
			page: document.getElementById('page').textContent,
			prev: document.getElementById('prev').disabled,
			next: document.getElementById('next').disabled,
			error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
		})`)
	want := shown{Cursor: "", Items: 10, First: "1", Page: "Page 1", Prev: true, Next: false}
	if got.Cursor != want.Cursor || got.Items != want.Items || got.First != want.First || got.Page != want.Page || got.Prev != want.Prev || got.Next != want.Next {
		t.Errorf("after the index changed the page shows %+v; want the first page again (%+v)", got, want)
	}
	if !strings.Contains(got.Error, "index changed") {
		t.Errorf("the page says %q; want it to say that the index changed", got.Error)
	}
}

// TestBrowserDetailsOutOfOrder: a business's details that arrive after
// another's was picked do not replace it.
func TestBrowserDetailsOutOfOrder(t *testing.T) {
	x := openExplorer(t, tokyo(5), "lat=35.6895&lon=139.6917&radius=5000", "")
	x.waitFor("the results", listState+` === 'done'`)
	first := eval[string](x, `document.querySelector('#results li:nth-child(1)').dataset.id`)
	second := eval[string](x, `document.querySelector('#results li:nth-child(2)').dataset.id`)
	held := "/v1/businesses/" + first
	x.gate.hold(held)
	x.do("open the first result", chromedp.Click(chromedp.CSS("#results li:nth-child(1) button")))
	x.waitServer("the first details request", func() bool { return x.gate.waiting(held) == 1 })
	x.do("open the second result", chromedp.Click(chromedp.CSS("#results li:nth-child(2) button")))
	x.waitFor("the second's details", `!document.getElementById('details').hidden && document.getElementById('details').dataset.id === `+strconv.Quote(second))
	x.gate.release(held)
	x.settled(held, 1)
	if got := eval[string](x, `document.getElementById('details').dataset.id`); got != second {
		t.Errorf("the details show business %s after %s was picked", got, second)
	}
}

// TestBrowserLateCity: a city looked up after the person searched
// elsewhere does not replace that search.
func TestBrowserLateCity(t *testing.T) {
	x := openExplorer(t, testBusinesses, "", "")
	const held = "/v1/cities?q=Osaka&limit=100"
	x.gate.hold(held)
	x.do("go to Osaka",
		chromedp.SetValue(chromedp.ID("city"), "Osaka"),
		chromedp.Click(chromedp.CSS("#city-form button[type=submit]")))
	x.waitServer("the city lookup", func() bool { return x.gate.waiting(held) == 1 })
	x.do("search at typed coordinates",
		chromedp.SetValue(chromedp.ID("lat"), "35.6895"),
		chromedp.SetValue(chromedp.ID("lon"), "139.6917"),
		chromedp.Click(chromedp.CSS("#search-form button[type=submit]")))
	x.waitFor("the typed search", listState+` === 'done'`)
	x.gate.release(held)
	x.settled(held, 1)
	if q := eval[string](x, `location.hash + ' ' + document.getElementById('results').dataset.state`); !strings.HasPrefix(q, "#lat=35.6895&lon=139.6917&") || !strings.HasSuffix(q, " done") {
		t.Errorf("after the city's late answer the page shows %q; want the typed search", q)
	}
}

// TestBrowserOneStatsTimer: however many searches notice a new index at
// once, the page keeps polling /v1/index on one timer.
func TestBrowserOneStatsTimer(t *testing.T) {
	// Count the timers that will call loadStats and have not fired.
	const init = `(() => {
			const pending = new Set();
			const set = window.setTimeout, clear = window.clearTimeout;
			window.setTimeout = (f, ms, ...a) => {
				const id = set((...b) => { pending.delete(id); f(...b); }, ms, ...a);
				if (f && f.name === 'loadStats') pending.add(id);
				return id;
			};
			window.clearTimeout = (id) => { pending.delete(id); clear(id); };
			window.statsTimers = () => pending.size;
			// Chromium queues identical GETs behind the first: count them as
			// the page asks.
			const get = window.fetch;
			window.statsFetches = 0;
			window.fetch = (url, ...a) => {
				if (String(url) === 'v1/index') window.statsFetches++;
				return get(url, ...a);
			};
		})()`
	x := openExplorer(t, testBusinesses, "lat=35.6895&lon=139.6917&radius=5000", init)
	x.waitFor("the results", listState+` === 'done'`)
	// The page's own stats requests answered, of the old index, before it
	// changes: one answered after would show the new version already.
	x.settled("/v1/index", eval[int](x, `window.statsFetches`))
	x.reload(43, testBusinesses)
	x.gate.hold("/v1/index")
	for range 3 {
		// Relative to the count before the click: the first page load may
		// ask twice (its own load, and its first search's new version).
		n := eval[int](x, `window.statsFetches`)
		x.do("search", chromedp.Click(chromedp.CSS("#search-form button[type=submit]")))
		x.waitFor("the search", listState+` === 'done' && document.getElementById('results').dataset.indexVersion === '43'`)
		x.waitFor("the stats request", `window.statsFetches > `+strconv.Itoa(n))
	}
	x.gate.release("/v1/index")
	x.settled("/v1/index", eval[int](x, `window.statsFetches`)) // every one asked, the three held included
	x.waitFor("the new version", `document.getElementById('stat-version').dataset.value === '43'`)
	if n := eval[int](x, `window.statsTimers()`); n != 1 {
		t.Errorf("%d timers will poll /v1/index; want 1", n)
	}
}
