package web_test

import (
	"context"
	"fmt"
	"io"
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
	"github.com/chromedp/chromedp/kb"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/chromiumtest"
	"github.com/nearby/nearby/internal/httpapi"
	"github.com/nearby/nearby/internal/search"
)

// gate holds the requests for a path and query (exactly as sent) until
// the test releases them, so that a test can make answers arrive in the
// order it wants, or answers them itself, so that a test can make any
// error happen.
type gate struct {
	mu     sync.Mutex
	holds  map[string]chan struct{}
	held   map[string]int                       // requests waiting, by prefix
	answer map[string]func(http.ResponseWriter) // answers in place of the server's
}

// answerWith makes the gate answer requests for target with f (once
// released, if held).
func (g *gate) answerWith(target string, f func(http.ResponseWriter)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.answer[target] = f
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
		g.mu.Lock()
		answer := g.answer[target]
		g.mu.Unlock()
		if answer != nil {
			answer(w)
			return
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
	x := &explorer{t: t, engine: e, gate: &gate{holds: map[string]chan struct{}{}, held: map[string]int{}, answer: map[string]func(http.ResponseWriter){}}}
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

// TestBrowserLinkMenus: a hand-made link whose limit and category the
// menus do not offer shows them and searches with them, numbering the
// next page from the link's limit.
func TestBrowserLinkMenus(t *testing.T) {
	x := openExplorer(t, tokyo(40), "lat=35.6895&lon=139.6917&radius=5000&limit=30&category=cafe,bar", "")
	x.waitFor("the results", listState+` === 'done'`)
	type shown struct {
		Limit, Category, Query string
		Items                  int
	}
	got := eval[shown](x, `({
			limit: document.getElementById('limit').value,
			category: document.getElementById('category').value,
			query: document.getElementById('results').dataset.query,
			items: document.getElementById('results').children.length,
		})`)
	want := shown{Limit: "30", Category: "cafe,bar", Query: "lat=35.6895&lon=139.6917&radius=5000&limit=30&category=cafe%2Cbar", Items: 30}
	if got != want {
		t.Errorf("the link's search shows %+v; want %+v", got, want)
	}
	x.do("next page", chromedp.Click(chromedp.ID("next")))
	x.waitFor("page 2", listState+` === 'done' && document.getElementById('results').dataset.cursor !== ''`)
	if start := eval[int](x, `document.getElementById('results').start`); start != 31 {
		t.Errorf("page 2 is numbered from %d; want 31", start)
	}
}

// TestBrowserLinkInOpenPage: a link opened in the page already showing
// (only the hash changes) runs its search; a limit searchd refuses is
// sent as given and the refusal shown on the menu.
func TestBrowserLinkInOpenPage(t *testing.T) {
	x := openExplorer(t, testBusinesses, "lat=35.6895&lon=139.6917&radius=5000", "")
	x.waitFor("the Tokyo results", listState+` === 'done'`)
	x.do("open a link to Fiji", chromedp.Evaluate[chromedp.Void](`location.hash = '#lat=-17&lon=179.95&radius=20000'`))
	x.waitFor("the Fiji results", listState+` === 'done' && document.getElementById('results').dataset.query.startsWith('lat=-17&lon=179.95&radius=20000&')`)
	if n := eval[int](x, `document.getElementById('results').children.length`); n != 2 {
		t.Errorf("the Fiji link found %d businesses; want 2", n)
	}
	x.do("open a link with limit=500", chromedp.Evaluate[chromedp.Void](`location.hash = '#lat=-17&lon=179.95&radius=20000&limit=500'`))
	x.waitFor("the refusal", `!document.getElementById('error').hidden`)
	text := eval[string](x, `document.getElementById('error').textContent`)
	if !strings.Contains(text, "searchd refused the request") || !strings.Contains(text, "limit") {
		t.Errorf("the error says %q; want searchd's refusal of limit", text)
	}
	if got := eval[string](x, `document.getElementById('limit').value + ' ' + document.getElementById('limit').getAttribute('aria-invalid')`); got != "500 true" {
		t.Errorf("the limit menu shows %q; want 500, marked invalid", got)
	}
}

// TestBrowserDetailsGone: a business gone since the search (404) does not
// leave the details of the one picked before on show.
func TestBrowserDetailsGone(t *testing.T) {
	bs := tokyo(5)
	x := openExplorer(t, bs, "lat=35.6895&lon=139.6917&radius=5000", "")
	x.waitFor("the results", listState+` === 'done'`)
	first := eval[string](x, `document.querySelector('#results li:nth-child(1)').dataset.id`)
	second := eval[string](x, `document.querySelector('#results li:nth-child(2)').dataset.id`)
	x.do("open the first result", chromedp.Click(chromedp.CSS("#results li:nth-child(1) button")))
	x.waitFor("its details", `!document.getElementById('details').hidden && document.getElementById('details').dataset.id === `+strconv.Quote(first))
	var rest []nearby.Business
	for _, b := range bs {
		if strconv.FormatInt(b.ID, 10) != second {
			rest = append(rest, b)
		}
	}
	x.reload(43, rest)
	x.do("open the second result", chromedp.Click(chromedp.CSS("#results li:nth-child(2) button")))
	x.waitFor("the error", `!document.getElementById('error').hidden`)
	if text := eval[string](x, `document.getElementById('error').textContent`); !strings.Contains(text, "Business details: Not found") {
		t.Errorf("the error says %q; want that the business was not found", text)
	}
	if shown := eval[string](x, `document.getElementById('details').hidden ? '' : document.getElementById('details').dataset.id`); shown != "" {
		t.Errorf("business %s was picked and is gone, but the details of %s are shown", second, shown)
	}
}

// TestBrowserDetailsKeyboard: details opened from the list with the
// keyboard take the focus; Escape closes them and gives it back.
func TestBrowserDetailsKeyboard(t *testing.T) {
	x := openExplorer(t, tokyo(5), "lat=35.6895&lon=139.6917&radius=5000", "")
	x.waitFor("the results", listState+` === 'done'`)
	x.do("press Enter on the second result",
		chromedp.Focus(chromedp.CSS("#results li:nth-child(2) button")),
		chromedp.KeyEvent(kb.Enter))
	x.waitFor("its details", `!document.getElementById('details').hidden`)
	x.waitFor("the focus on the details", `document.activeElement === document.getElementById('details')`)
	x.do("press Escape", chromedp.KeyEvent(kb.Escape))
	x.waitFor("the details closed", `document.getElementById('details').hidden`)
	if !eval[bool](x, `document.activeElement === document.querySelector('#results li:nth-child(2) button')`) {
		t.Error("after Escape the focus is not back on the result")
	}
}

// TestBrowserRateLimited: a 429 is shown in words, with when to retry
// whether searchd's problem document or only a Retry-After header says.
func TestBrowserRateLimited(t *testing.T) {
	x := openExplorer(t, testBusinesses, "", "")
	x.gate.answerWith("/v1/search/nearby?lat=35.6895&lon=139.6917&radius=5000&limit=20&total=true", func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"rate limit exceeded: at most 2 search requests per 1s; retry in 7 s"}`)
	})
	x.gate.answerWith("/v1/search/nearby?lat=35.6895&lon=139.6917&radius=4000&limit=20&total=true", func(w http.ResponseWriter) {
		// A proxy's answer: no problem document.
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Retry-After", "9")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `<h1>Slow down</h1>`)
	})
	for _, tt := range []struct{ radius, want string }{
		{"5000", "Search: Too many requests. rate limit exceeded: at most 2 search requests per 1s; retry in 7 s"},
		{"4000", "Search: Too many requests. 429 Too Many Requests Try again in 9 s."},
	} {
		x.do("search",
			chromedp.SetValue(chromedp.ID("lat"), "35.6895"),
			chromedp.SetValue(chromedp.ID("lon"), "139.6917"),
			chromedp.SetValue(chromedp.ID("radius"), tt.radius),
			chromedp.Click(chromedp.CSS("#search-form button[type=submit]")))
		x.waitFor("the error", listState+` === 'error'`)
		if got := eval[string](x, `document.getElementById('error').textContent`); got != tt.want {
			t.Errorf("radius %s: the error says %q; want %q", tt.radius, got, tt.want)
		}
	}
}

// TestBrowserEmptyRadius: a search with the radius left empty is searchd's
// default radius, and the page says so.
func TestBrowserEmptyRadius(t *testing.T) {
	x := openExplorer(t, testBusinesses, "", "")
	x.do("search with no radius",
		chromedp.SetValue(chromedp.ID("lat"), "35.6895"),
		chromedp.SetValue(chromedp.ID("lon"), "139.6917"),
		chromedp.SetValue(chromedp.ID("radius"), ""),
		chromedp.Click(chromedp.CSS("#search-form button[type=submit]")))
	x.waitFor("the results", listState+` === 'done'`)
	summary := eval[string](x, `document.getElementById('summary').textContent`)
	if want := fmt.Sprintf("within %.2f km of", nearby.DefaultRadiusM/1000.0); !strings.Contains(summary, want) {
		t.Errorf("the summary says %q; want it to say %q", summary, want)
	}
}

// TestBrowserCityNotFound: a city not in the list is said to be not
// found, not an unexpected error.
func TestBrowserCityNotFound(t *testing.T) {
	x := openExplorer(t, testBusinesses, "", "")
	x.do("go to Zzzzqx",
		chromedp.SetValue(chromedp.ID("city"), "Zzzzqx"),
		chromedp.Click(chromedp.CSS("#city-form button[type=submit]")))
	x.waitFor("the error", `!document.getElementById('error').hidden`)
	if got, want := eval[string](x, `document.getElementById('error').textContent`), "City lookup: Not found. No city called “Zzzzqx” among the 5,000 most populous."; got != want {
		t.Errorf("the error says %q; want %q", got, want)
	}
}

// TestBrowserPagerKeyboard: paging with the keyboard keeps the focus on
// the pager, on Previous once Next is disabled on the last page.
func TestBrowserPagerKeyboard(t *testing.T) {
	x := openExplorer(t, tokyo(30), "lat=35.6895&lon=139.6917&radius=5000&limit=10", "")
	x.waitFor("page 1", listState+` === 'done'`)
	x.do("press Enter on Next", chromedp.Focus(chromedp.ID("next")), chromedp.KeyEvent(kb.Enter))
	x.waitFor("page 2", listState+` === 'done' && document.getElementById('page').textContent === 'Page 2'`)
	if got := eval[string](x, `document.activeElement.id`); got != "next" {
		t.Fatalf("after page 2 loaded the focus is on %q; want next", got)
	}
	x.do("press Enter again", chromedp.KeyEvent(kb.Enter))
	x.waitFor("page 3", listState+` === 'done' && document.getElementById('page').textContent === 'Page 3'`)
	if got := eval[string](x, `document.activeElement.id`); got != "prev" {
		t.Errorf("on the last page the focus is on %q; want prev", got)
	}
}

// TestBrowserLateDetailsError: a business's details that fail after
// another search replaced the results show no error.
func TestBrowserLateDetailsError(t *testing.T) {
	x := openExplorer(t, tokyo(5), "lat=35.6895&lon=139.6917&radius=5000", "")
	x.waitFor("the results", listState+` === 'done'`)
	held := "/v1/businesses/" + eval[string](x, `document.querySelector('#results li:nth-child(1)').dataset.id`)
	x.gate.hold(held)
	x.gate.answerWith(held, func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) })
	x.do("open the first result", chromedp.Click(chromedp.CSS("#results li:nth-child(1) button")))
	x.waitServer("the details request", func() bool { return x.gate.waiting(held) == 1 })
	x.do("search elsewhere",
		chromedp.SetValue(chromedp.ID("radius"), "4000"),
		chromedp.Click(chromedp.CSS("#search-form button[type=submit]")))
	x.waitFor("the new results", listState+` === 'done' && document.getElementById('results').dataset.query.includes('radius=4000')`)
	x.gate.release(held)
	x.settled(held, 1)
	if text := eval[string](x, `document.getElementById('error').hidden ? '' : document.getElementById('error').textContent`); text != "" {
		t.Errorf("after the new search the page shows the old details' error %q", text)
	}
}
