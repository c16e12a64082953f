package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/chromiumtest"
)

// artifactDir is where the test writes its screenshots: $NEARBY_ARTIFACTS
// when set, else a temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("NEARBY_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// listed is the result list as the page shows it.
type listed struct {
	State    string `json:"state"`
	Endpoint string `json:"endpoint"` // nearby or box
	Query    string `json:"query"`
	Cursor   string `json:"cursor"`
	Version  string `json:"version"`
	Items    []struct {
		ID          string `json:"id"`
		Distance    string `json:"distance"`
		Name        string `json:"name"`
		Category    string `json:"category"`
		Price       string `json:"price"`
		Rating      string `json:"rating"`
		ReviewCount string `json:"reviewCount"`
		Text        string `json:"text"`
	} `json:"items"`
	Summary     string `json:"summary"`
	Total       string `json:"total"`
	TotalCapped string `json:"totalCapped"`
}

const readList = `(() => {
	const ol = document.getElementById('results');
	const summary = document.getElementById('summary');
	return {
		state: ol.dataset.state, endpoint: ol.dataset.endpoint || '', query: ol.dataset.query || '',
		cursor: ol.dataset.cursor || '', version: ol.dataset.indexVersion || '',
		items: [...ol.children].map((li) => ({
			id: li.dataset.id, distance: li.dataset.distanceM,
			name: li.querySelector('.name').textContent,
			category: li.querySelector('.cat').dataset.category,
			price: li.dataset.price, rating: li.dataset.rating, reviewCount: li.dataset.reviewCount,
			text: li.textContent,
		})),
		summary: summary.textContent, total: summary.dataset.total || '',
		totalCapped: summary.dataset.totalCapped || '',
	};
})()`

type apiPage struct {
	Results []struct {
		ID          string   `json:"id"`
		Name        string   `json:"name"`
		Category    string   `json:"category"`
		DistanceM   float64  `json:"distance_m"`
		Price       *int     `json:"price"`
		Rating      *float64 `json:"rating"`
		ReviewCount int      `json:"review_count"`
	} `json:"results"`
	NextCursor   *string `json:"next_cursor"`
	Total        *int    `json:"total"`
	TotalCapped  *bool   `json:"total_capped"`
	IndexVersion string  `json:"index_version"`
}

// TestExplorerInBrowser drives the map explorer in headless Chromium
// against searchd on its embedded demo data: it picks Tokyo, pages, opens a
// result's details, clicks the map, filters by price and rating and sorts
// by rating, opens a result's opening hours, searches the map's view, and
// checks that every list the page shows is the API's answer to the query
// the page says it ran, with the API's total; then it makes searchd refuse
// a search and checks that the page says why.
func TestExplorerInBrowser(t *testing.T) {
	exe := chromiumtest.Path(t)
	base, _ := startSearchd(t, nil, map[string]string{"NEARBY_DEMO_SIZE": "50000"})
	artifacts := artifactDir(t)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := chromiumtest.Options(exe, t.TempDir(), 1280, 860)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}

	// An exception the page does not catch fails the test.
	var mu sync.Mutex
	var exceptions []string
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			if m.IsException() {
				exceptions = append(exceptions, m.String())
			}
			mu.Unlock()
			t.Logf("browser console: %s", m)
		}
	}()
	checkExceptions := func() {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(exceptions) > 0 {
			t.Fatalf("the page threw: %s", strings.Join(exceptions, "\n"))
		}
	}

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			checkExceptions()
			t.Fatalf("%s: %v", what, err)
		}
	}
	waitFor := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			checkExceptions()
			list, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("waiting for %s: %v\npage text:\n%s", what, err, list)
		}
	}
	read := func() listed {
		t.Helper()
		l, err := chromedp.Run(bctx, chromedp.Evaluate[listed](readList))
		if err != nil {
			t.Fatalf("read the result list: %v", err)
		}
		return l
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		p := filepath.Join(artifacts, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}

	do("open the page", chromedp.Navigate(base+"/"))
	waitFor("the index stats", `document.getElementById('stat-businesses').dataset.value === '50000'`)
	waitFor("the country outlines", `document.getElementById('map').dataset.outlines === 'ready'`)

	// Pick Tokyo in the city picker.
	do("pick Tokyo",
		chromedp.SendKeys(chromedp.ID("city"), "Tokyo"),
		chromedp.Click(chromedp.CSS("#city-form button[type=submit]")),
	)
	waitFor("Tokyo's results", `document.getElementById('results').dataset.state === 'done'`)
	page1 := read()
	if !strings.HasPrefix(page1.Query, "lat=35.6895&lon=139.6917&") {
		t.Fatalf("the page searched %q, not at Tokyo's centre (35.6895, 139.6917)", page1.Query)
	}
	ans := compareWithAPI(t, base, page1, "")
	if len(page1.Items) == 0 {
		t.Fatalf("no results around Tokyo (query %s)", page1.Query)
	}

	// The next page follows the cursor the API gave.
	if ans.NextCursor == nil {
		t.Fatalf("expected a second page of results around Tokyo (query %s)", page1.Query)
	}
	do("next page", chromedp.Click(chromedp.ID("next")))
	waitFor("page 2", `(() => { const ol = document.getElementById('results'); return ol.dataset.state === 'done' && ol.dataset.cursor !== ''; })()`)
	page2 := read()
	if page2.Cursor != *ans.NextCursor || page2.Query != page1.Query {
		t.Fatalf("page 2 ran %q with cursor %q; want %q with cursor %q", page2.Query, page2.Cursor, page1.Query, *ans.NextCursor)
	}
	compareWithAPI(t, base, page2, page2.Cursor)
	do("previous page", chromedp.Click(chromedp.ID("prev")))
	waitFor("page 1 again", `(() => { const ol = document.getElementById('results'); return ol.dataset.state === 'done' && ol.dataset.cursor === ''; })()`)
	compareWithAPI(t, base, read(), "")

	// A result's details come from /v1/businesses/{id}.
	do("open the first result", chromedp.Click(chromedp.CSS("#results li:first-child button")))
	waitFor("the details", `!document.getElementById('details').hidden`)
	first := page1.Items[0]
	details, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]string](`({
		id: document.getElementById('details').dataset.id,
		name: document.getElementById('details-name').textContent })`))
	if err != nil {
		t.Fatal(err)
	}
	if details["id"] != first.ID || details["name"] != first.Name {
		t.Errorf("details show %v; want id %s, name %q", details, first.ID, first.Name)
	}
	screenshot("explorer-tokyo.png")

	// Clicking the map searches where it was clicked.
	rect, err := chromedp.Run(bctx, chromedp.Evaluate[map[string]float64](`(() => {
		const r = document.getElementById('map').getBoundingClientRect();
		return {x: r.x, y: r.y, w: r.width, h: r.height};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	do("click the map", chromedp.MouseClickXY(rect["x"]+rect["w"]*0.35, rect["y"]+rect["h"]*0.4))
	waitFor("the map click's results", `(() => { const ol = document.getElementById('results');
		return ol.dataset.state === 'done' && ol.dataset.query !== `+strconv.Quote(page1.Query)+`; })()`)
	clicked := read()
	compareWithAPI(t, base, clicked, "")
	t.Logf("map click searched %s: %d results", clicked.Query, len(clicked.Items))
	// The click was inside the 5 km circle drawn around Tokyo, about 3 km
	// from its centre: the map's projection puts places where they are.
	q, err := url.ParseQuery(clicked.Query)
	if err != nil {
		t.Fatal(err)
	}
	lat, err1 := strconv.ParseFloat(q.Get("lat"), 64)
	lon, err2 := strconv.ParseFloat(q.Get("lon"), 64)
	if d := geo.Distance(35.6895, 139.6917, lat, lon); err1 != nil || err2 != nil || d < 1000 || d > 5000 {
		t.Errorf("a click inside the circle around Tokyo searched %s, %.0f m from Tokyo; want 1 to 5 km", clicked.Query, d)
	}

	// Filters: price $ or $$, rated 4 or more, best rated first. Each
	// control runs the search again at once.
	do("filter by price, rating and order",
		chromedp.Click(chromedp.CSS(`#price input[value="1"] + span`)),
		chromedp.Click(chromedp.CSS(`#price input[value="2"] + span`)),
		chromedp.Focus(chromedp.ID("min-rating")),
		chromedp.KeyEvent(kb.ArrowDown+kb.ArrowDown+kb.ArrowDown), // any, 3, 3.5, 4
		chromedp.Focus(chromedp.ID("sort")),
		chromedp.KeyEvent(kb.ArrowDown), // nearest, best rated
	)
	const filtered = `(() => { const ol = document.getElementById('results'); const q = ol.dataset.query || '';
		return ol.dataset.state === 'done' && q.includes('&price=1%2C2&min_rating=4&sort=rating'); })()`
	waitFor("the filtered results", filtered)
	best := read()
	ans = compareWithAPI(t, base, best, "")
	t.Logf("filtered search %s: %s", best.Query, best.Summary)
	if len(best.Items) < 2 || ans.NextCursor == nil {
		t.Fatalf("the filtered search %s found %d results and no second page; want more to check the order", best.Query, len(best.Items))
	}
	last := 5.0
	for i, r := range ans.Results {
		if r.Price == nil || *r.Price > 2 || r.Rating == nil || *r.Rating < 4 || *r.Rating > last {
			t.Fatalf("result %d (id %s, price %v, rating %v) does not fit the filters or the order", i+1, r.ID, r.Price, r.Rating)
		}
		last = *r.Rating
	}
	if n := *ans.Total; n < 1000 && !strings.Contains(best.Summary, strconv.Itoa(n)+" matches within") {
		t.Errorf("summary %q does not say %d matches within the radius", best.Summary, n)
	}
	// Later pages keep the first page's total.
	do("filtered page 2", chromedp.Click(chromedp.ID("next")))
	waitFor("filtered page 2", `(() => { const ol = document.getElementById('results'); return ol.dataset.state === 'done' && ol.dataset.cursor !== ''; })()`)
	compareWithAPI(t, base, read(), *ans.NextCursor)
	do("filtered page 1", chromedp.Click(chromedp.ID("prev")))
	waitFor("filtered page 1", `(() => { const ol = document.getElementById('results'); return ol.dataset.state === 'done' && ol.dataset.cursor === ''; })()`)

	// The details show the price, the rating and the opening hours in the
	// business's time zone.
	do("open the best rated result", chromedp.Click(chromedp.CSS("#results li:first-child button")))
	waitFor("its details", `!document.getElementById('details').hidden && document.getElementById('details').dataset.id === `+strconv.Quote(best.Items[0].ID))
	checkDetails(t, bctx, base, best.Items[0].ID)
	screenshot("explorer-filters.png")

	// "Search this view" searches the map's rectangle with the same filters.
	do("search this view", chromedp.Click(chromedp.ID("search-view")))
	waitFor("the view's results", `(() => { const ol = document.getElementById('results');
		return ol.dataset.state === 'done' && ol.dataset.endpoint === 'box'; })()`)
	inView := read()
	compareWithAPI(t, base, inView, "")
	t.Logf("view search %s: %s", inView.Query, inView.Summary)
	if q, _ := url.ParseQuery(inView.Query); q.Get("price") != "1,2" || q.Get("min_rating") != "4" || q.Get("min_lat") == "" {
		t.Errorf("the view search ran %s; want the box with price=1,2 and min_rating=4", inView.Query)
	}
	screenshot("explorer-view.png")

	// "Open now" adds open_now=true to the search it runs again.
	do("open now", chromedp.Click(chromedp.ID("open-now")))
	waitFor("the open businesses", `(() => { const ol = document.getElementById('results');
		return ol.dataset.state === 'done' && ol.dataset.query.includes('open_now=true'); })()`)

	// searchd refuses a radius over 50 km and a name without a letter or
	// digit; the page says so in words.
	do("search with a 60 km radius and a name of punctuation",
		chromedp.SendKeys(chromedp.ID("q"), "!"),
		chromedp.Clear(chromedp.ID("radius")),
		chromedp.SendKeys(chromedp.ID("radius"), "60000"),
		chromedp.Click(chromedp.CSS("#search-form button[type=submit]")),
	)
	waitFor("the error", `(() => { const e = document.getElementById('error'); return !e.hidden && e.textContent.includes('radius'); })()`)
	msg, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('error').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"searchd refused the request", "radius", "must be metres in (0, 50000]", "q: ", "no letters or digits"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error shown: %q; want it to contain %q", msg, want)
		}
	}
	if l := read(); l.State != "error" || len(l.Items) != 0 {
		t.Errorf("after a refused search the list is %q with %d items; want an empty list in state error", l.State, len(l.Items))
	}
	for _, id := range []string{"radius", "q"} {
		invalid, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('`+id+`').getAttribute('aria-invalid') || ''`))
		if err != nil || invalid != "true" {
			t.Errorf("the %s field is not marked invalid (aria-invalid %q, %v)", id, invalid, err)
		}
	}
	screenshot("explorer-error.png")
	checkExceptions()
}

// compareWithAPI checks that the list the page shows is searchd's answer to
// the query the page says it ran, and the total it shows the API's, and
// returns that answer (with its total).
func compareWithAPI(t *testing.T, base string, l listed, cursor string) apiPage {
	t.Helper()
	u := base + "/v1/search/nearby?" + l.Query + "&total=true"
	if l.Endpoint == "box" { // box searches always count
		u = base + "/v1/search/box?" + l.Query
	}
	if cursor != "" {
		u += "&cursor=" + cursor
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	var ans apiPage
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	if l.Version != ans.IndexVersion {
		t.Errorf("page shows index version %q, API %q", l.Version, ans.IndexVersion)
	}
	if len(l.Items) != len(ans.Results) {
		t.Fatalf("query %s: page lists %d results, API answers %d", l.Query, len(l.Items), len(ans.Results))
	}
	for i, r := range ans.Results {
		it := l.Items[i]
		d, err := strconv.ParseFloat(it.Distance, 64)
		if it.ID != r.ID || it.Name != r.Name || it.Category != r.Category || err != nil || d != r.DistanceM {
			t.Errorf("query %s, result %d: page lists id %s %q (%s) at %s m; API answers id %s %q (%s) at %v m",
				l.Query, i+1, it.ID, it.Name, it.Category, it.Distance, r.ID, r.Name, r.Category, r.DistanceM)
		}
		if !strings.Contains(it.Text, r.Name) || !strings.Contains(it.Text, strings.ReplaceAll(r.Category, "_", " ")) {
			t.Errorf("result %d shows %q; want its name %q and category %q", i+1, it.Text, r.Name, r.Category)
		}
		price, rating, shown := "", "", []string{}
		if r.Price != nil {
			price = strconv.Itoa(*r.Price)
			shown = append(shown, strings.Repeat("$", *r.Price))
		}
		if r.Rating != nil {
			rating = strconv.FormatFloat(*r.Rating, 'f', -1, 64)
			shown = append(shown, "★ "+strconv.FormatFloat(*r.Rating, 'f', 1, 64), "("+strconv.Itoa(r.ReviewCount)+")")
		}
		if it.Price != price || it.Rating != rating || it.ReviewCount != strconv.Itoa(r.ReviewCount) {
			t.Errorf("result %d (id %s): page lists price %q, rating %q, %s reviews; API answers %q, %q, %d",
				i+1, r.ID, it.Price, it.Rating, it.ReviewCount, price, rating, r.ReviewCount)
		}
		for _, s := range shown {
			if !strings.Contains(it.Text, s) {
				t.Errorf("result %d shows %q; want %q", i+1, it.Text, s)
			}
		}
	}
	if ans.Total == nil || ans.TotalCapped == nil {
		t.Fatalf("GET %s: no total", u)
	}
	if l.Total != strconv.Itoa(*ans.Total) || l.TotalCapped != strconv.FormatBool(*ans.TotalCapped) {
		t.Errorf("query %s: page shows a total of %q (capped %q); API answers %d (capped %v)",
			l.Query, l.Total, l.TotalCapped, *ans.Total, *ans.TotalCapped)
	}
	return ans
}

// checkDetails checks that the details panel shows business id's price,
// rating and weekly opening hours as GET /v1/businesses/{id} gives them.
func checkDetails(t *testing.T, bctx context.Context, base, id string) {
	t.Helper()
	type shown struct {
		Price, Rating, Zone string
		NoHours             bool
		Days                []struct{ Day, Text string }
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[shown](`({
		price: document.getElementById('details-price').textContent,
		rating: document.getElementById('details-rating').textContent,
		zone: document.getElementById('details-zone').textContent,
		noHours: !document.getElementById('details-no-hours').hidden,
		days: [...document.querySelectorAll('#details-hours tr')].map((tr) => ({day: tr.dataset.day, text: tr.cells[1].textContent})),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/v1/businesses/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b struct {
		Price       *int     `json:"price"`
		Rating      *float64 `json:"rating"`
		ReviewCount int      `json:"review_count"`
		Hours       *struct {
			TimeZone string                 `json:"time_zone"`
			Weekly   map[string][][2]string `json:"weekly"`
		} `json:"hours"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatal(err)
	}
	if b.Price == nil || !strings.HasPrefix(got.Price, strings.Repeat("$", *b.Price)+" ") {
		t.Errorf("details show price %q; API answers %v", got.Price, b.Price)
	}
	if b.Rating == nil || !strings.Contains(got.Rating, "★ "+strconv.FormatFloat(*b.Rating, 'f', 1, 64)+" from "+strconv.Itoa(b.ReviewCount)+" review") {
		t.Errorf("details show rating %q; API answers %v from %d reviews", got.Rating, b.Rating, b.ReviewCount)
	}
	if b.Hours == nil {
		if !got.NoHours || len(got.Days) != 0 {
			t.Errorf("details show hours %+v; API answers none", got)
		}
		return
	}
	if !strings.Contains(got.Zone, b.Hours.TimeZone) || got.NoHours {
		t.Errorf("details show hours in %q; API answers %s", got.Zone, b.Hours.TimeZone)
	}
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	if len(got.Days) != len(days) {
		t.Fatalf("details show %d days of hours; want 7", len(got.Days))
	}
	for i, d := range days {
		want := "Closed"
		if spans := b.Hours.Weekly[d]; len(spans) > 0 {
			var parts []string
			for _, s := range spans {
				parts = append(parts, s[0]+"–"+s[1])
			}
			want = strings.Join(parts, ", ")
		}
		if got.Days[i].Day != d || got.Days[i].Text != want {
			t.Errorf("details show %s: %q; API answers %s: %q", got.Days[i].Day, got.Days[i].Text, d, want)
		}
	}
}
