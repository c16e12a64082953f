package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/search"
)

var seedFlag = flag.Uint64("seed", 0, "random seed for property tests (0: time-based)")

// newRand returns a seeded generator and logs the seed so a failure
// reproduces with -seed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// logSink collects what a server logs at warning level and above: a panic
// or an internal error is a failure even when its status line had gone out
// as a 200 before it.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// take returns and clears what was logged.
func (l *logSink) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}

// propServer is a searchd API over 3000 generated businesses whose warnings
// and errors are kept, and a place in the data to search around.
type propServer struct {
	*Server
	logs     *logSink
	lat, lon float64
}

var newPropServer = sync.OnceValue(func() *propServer {
	bs := dataset.Generate(3000, 1)
	region, err := search.BuildRegion("world", 1, bs)
	if err != nil {
		panic(err)
	}
	engine := &search.Engine{}
	engine.Swap(search.NewIndex(region))
	logs := &logSink{}
	reg := prometheus.NewRegistry()
	s := NewServer(engine, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})), reg, reg, []byte("openapi: 3.1.0\n"))
	return &propServer{Server: s, logs: logs, lat: bs[0].Lat, lon: bs[0].Lon}
})

// route is one pattern the router serves, and its methods.
type route struct {
	pattern string
	methods []string // as registered; HEAD is served wherever GET is
	params  []string // the documented query parameters, in the documented order
	strict  bool     // unknown, repeated and undecodable parameters are refused
}

// routes lists what the router serves, from the router itself, so that a
// route added later is covered too.
func routes(t testing.TB, s *Server) []route {
	t.Helper()
	byPattern := map[string]*route{}
	var out []*route
	err := chi.Walk(s.router, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		r := byPattern[pattern]
		if r == nil {
			r = &route{pattern: pattern}
			byPattern[pattern] = r
			out = append(out, r)
		}
		r.methods = append(r.methods, method)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string][]string{
		"/v1/search/nearby": nearbyParams,
		"/v1/search/box":    boxParams,
		"/v1/search/within": withinParams,
		"/v1/index/density": {"min_lat", "min_lon", "max_lat", "max_lon", "cols", "rows", "category"},
		"/v1/cities":        {"q", "limit"},
		"/v1/index":         {},
		"/internal/v1/shard/nearby": {"region", "lat", "lon", "radius", "limit", "category", "price", "min_rating",
			"open_at", "q", "sort", "total", "after_rating", "after_distance", "after_id"},
		"/internal/v1/shard/density":         {"region", "min_lat", "min_lon", "max_lat", "max_lon", "cols", "rows", "category"},
		"/internal/v1/shard/businesses/{id}": {"region"},
	}
	var rs []route
	for _, r := range out {
		r.params = params[r.pattern]
		r.strict = r.params != nil && !strings.HasPrefix(r.pattern, "/internal/")
		rs = append(rs, *r)
	}
	return rs
}

// allow is the Allow header a 405 on the route must carry.
func (r route) allow() string {
	var ms []string
	for _, m := range r.methods {
		ms = append(ms, m)
		if m == http.MethodGet && !slices.Contains(r.methods, http.MethodHead) {
			ms = append(ms, http.MethodHead)
		}
	}
	return strings.Join(ms, ", ")
}

// requestGen makes random, mostly hostile, requests to the server's routes.
type requestGen struct {
	r       *rand.Rand
	routes  []route
	lat     float64
	lon     float64
	cursors []string      // valid cursors of some searches, for other searches
	paged   []pagedSearch // the searches they continue
}

// pagedSearch is a search whose first page had a next cursor.
type pagedSearch struct {
	method, target, body, cursor string
}

// nextPage returns a request for the next page of a search: the status it
// must get is 200 when only the parameters that may change between pages
// do (limit, total, fields, format), else 400.
func (g *requestGen) nextPage() (*http.Request, int) {
	r := g.r
	ps := pick(r, g.paged...)
	target, want := ps.target, http.StatusOK
	switch r.IntN(4) {
	case 0:
		target = strings.Replace(target, "limit=1", "limit="+pick(r, "2", "100"), 1)
	case 1:
		target += "&" + pick(r, "fields=id", "format=geojson", "fields=name,rating&format=json")
	case 2:
		target += "&q=a" // another search
		want = http.StatusBadRequest
	}
	req := httptest.NewRequest(ps.method, target+"&cursor="+ps.cursor, strings.NewReader(ps.body))
	req.Header.Set("Content-Type", "application/json")
	return req, want
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

var (
	oddMethods = []string{"PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", "BREW", "get", "M-SEARCH", "PROPFIND", "POST ", "X"}
	// Every parameter name the API knows, for any route.
	allParams = []string{"lat", "lon", "radius", "limit", "category", "price", "min_rating", "open_now", "open_at", "q", "sort",
		"total", "fields", "cursor", "format", "min_lat", "min_lon", "max_lat", "max_lon", "order", "cols", "rows", "region",
		"after_rating", "after_distance", "after_id"}
)

// number returns an ordinary or awkward number as text.
func (g *requestGen) number() string {
	r := g.r
	switch r.IntN(4) {
	case 0:
		return strconv.FormatFloat(r.Float64()*360-180, 'f', r.IntN(9), 64)
	case 1:
		return strconv.Itoa(r.IntN(200) - 100)
	case 2:
		return pick(r, "0", "-0", "90", "-90", "180", "-180", "90.0000001", "-180.0000001", "1e308", "-1e308", "1e309",
			"4.9e-324", "NaN", "nan", "Inf", "+Inf", "-Infinity", "0x1p-2", "0x1.8p3", "0X10", "1_000", "1e", ".", "-",
			"+5", "٣", "１", "50000", "50000.0000001", "100", "101", "4096", "4097", "65536", "2147483648", "-2147483649",
			"9223372036854775807", "9223372036854775808", "99999999999999999999", "1,2", "1 ", " 1", "0.1e1")
	}
	return strconv.FormatFloat(r.NormFloat64()*1e4, 'g', -1, 64)
}

// value returns a value for the named parameter: usually a plausible one,
// often an adversarial one.
func (g *requestGen) value(name string) string {
	r := g.r
	if r.IntN(3) == 0 {
		return g.junk()
	}
	switch name {
	case "lat", "min_lat", "max_lat":
		if r.IntN(2) == 0 {
			return strconv.FormatFloat(g.lat+r.NormFloat64(), 'f', 4, 64)
		}
		return g.number()
	case "lon", "min_lon", "max_lon":
		if r.IntN(2) == 0 {
			return strconv.FormatFloat(g.lon+r.NormFloat64(), 'f', 4, 64)
		}
		return g.number()
	case "radius", "after_distance":
		return pick(r, "1", "500", "5000", "50000", g.number())
	case "limit", "cols", "rows", "after_id", "after_rating":
		return pick(r, "1", "2", "20", "100", "0", "-1", g.number())
	case "category":
		return pick(r, "cafe", "cafe,bar", "restaurant", "CAFE", "cafe,", ",", "cafe,cafe", "7", "4294967295", "4294967296", g.junk())
	case "price":
		return pick(r, "1", "1,2", "4", "5", "0", "$$", "1,,2", "255", "256")
	case "min_rating":
		return pick(r, "0", "3.5", "5", "5.1", "4.25", "-1", "255", "NaN")
	case "open_now", "total":
		return pick(r, "true", "false", "TRUE", "1", "yes")
	case "open_at":
		return pick(r, "2026-11-27T18:30:00Z", "2026-11-27T18:30:00+01:00", "2026-11-27T18:30:00%2B01:00",
			"0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-02-30T00:00:00Z", "2026-11-27T18:30:00.123456789Z",
			"2026-11-27 18:30:00", "1900-01-01T00:00:00+14:00", "2199-12-31T23:59:59-12:00")
	case "q":
		return pick(r, "caf", "café", "cafe%CC%81", "%00", "%FF%FE", "a%20b", strings.Repeat("x", 300), "日本", "\u2028", "%F0%9F%8D%95")
	case "sort":
		return pick(r, "distance", "rating", "name", "")
	case "order":
		return pick(r, "id", "distance", "ID")
	case "fields":
		return pick(r, "id", "id,name,distance_m", "distance_m", "hours", "id,", ",", "id,id", strings.Join(resultFields, ","))
	case "format":
		return pick(r, "json", "geojson", "GeoJSON", "xml")
	case "region":
		return pick(r, "world", "", "nowhere", "../world", "world%00")
	case "cursor":
		return g.cursor()
	}
	return g.junk()
}

// cursor returns a cursor: another search's, truncated, tampered with, or
// made up.
func (g *requestGen) cursor() string {
	r := g.r
	c := pick(r, g.cursors...)
	switch r.IntN(8) {
	case 0:
		return c
	case 1:
		return c[:r.IntN(len(c))]
	case 2:
		b, _ := base64.RawURLEncoding.DecodeString(c)
		b[r.IntN(len(b))] ^= byte(1 << r.IntN(8))
		return base64.RawURLEncoding.EncodeToString(b)
	case 3:
		b := make([]byte, r.IntN(64))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return base64.RawURLEncoding.EncodeToString(b)
	case 4:
		b, _ := base64.RawURLEncoding.DecodeString(c)
		return base64.StdEncoding.EncodeToString(b) // padding, + and /
	case 5:
		// A well-formed cursor of either format with awkward numbers.
		b := []byte{pick[byte](r, 1, 2, 3, 0), byte(r.IntN(4))}
		for range b[1] {
			b = append(b, byte('0'+r.IntN(10)))
		}
		if b[0] == 2 {
			b = append(b, byte(r.Uint32()))
		}
		b = binary.BigEndian.AppendUint64(b, pick(r, r.Uint64(), 0x7ff8000000000001, 0x7ff0000000000000, 1<<63, 0))
		b = binary.BigEndian.AppendUint64(b, r.Uint64())
		b = binary.BigEndian.AppendUint64(b, r.Uint64())
		return base64.RawURLEncoding.EncodeToString(b)
	case 6:
		return c + pick(r, "A", "=", "%3D", "!", "..")
	}
	return pick(r, "", "A", "AA", "AQ", "Ag", "%zz", "null", strings.Repeat("A", 5000))
}

// junk returns a value no parameter takes.
func (g *requestGen) junk() string {
	r := g.r
	switch r.IntN(6) {
	case 0:
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return url.QueryEscape(string(b))
	case 1:
		return strings.Repeat(pick(r, "9", "a", "%C3%A9", "%"), r.IntN(600))
	case 2:
		return g.number()
	}
	return pick(r, "%", "%z", "%zz", "%C3", "%00", ";", "a;b", "=", "==", "&", "+", "%2B", "%26", "true", "[]", "{}",
		"null", "%E2%80%AE", "%EF%BB%BF", "x%0Ay", "1%0D%0A", `"`, "<script>", "'", "\\")
}

// query returns a query string for the route: its parameters and others,
// some duplicated, some empty, some that do not decode.
func (g *requestGen) query(rt route) string {
	r := g.r
	names := rt.params
	if len(names) == 0 || r.IntN(8) == 0 {
		names = allParams
	}
	var parts []string
	for range r.IntN(10) {
		name := pick(r, names...)
		switch r.IntN(12) {
		case 0:
			parts = append(parts, name+"=") // empty: absent
		case 1:
			parts = append(parts, name) // no =
		case 2:
			parts = append(parts, g.junk()+"="+g.value(name)) // unknown name
		case 3:
			parts = append(parts, url.QueryEscape(name)+"%"+"="+g.value(name))
		default:
			parts = append(parts, name+"="+g.value(name))
		}
		if r.IntN(10) == 0 {
			parts = append(parts, name+"="+g.value(name)) // given twice
		}
	}
	sep := "&"
	if r.IntN(20) == 0 {
		sep = pick(r, ";", "&&", "&amp;")
	}
	q := strings.Join(parts, sep)
	if r.IntN(40) == 0 {
		q += "&pad=" + strings.Repeat("x", MaxQueryBytes) // too long
	}
	return q
}

// validQuery returns a query the route accepts, or nearly: each filter is
// valid, one parameter may be replaced by a hostile value, and a cursor
// (another search's, or damaged) may be added.
func (g *requestGen) validQuery(rt route) string {
	r := g.r
	ll := fmt.Sprintf("lat=%.5f&lon=%.5f", g.lat+r.NormFloat64()/10, g.lon+r.NormFloat64()/10)
	d := pick(r, 0.01, 0.5, 3, 60, 179.9)
	box := fmt.Sprintf("min_lat=%.5f&min_lon=%.5f&max_lat=%.5f&max_lon=%.5f", max(g.lat-d, -90), g.lon-d, min(g.lat+d, 90), g.lon+d)
	if r.IntN(6) == 0 {
		box = pick(r, "min_lat=-90&min_lon=-180&max_lat=90&max_lon=180", "min_lat=-10&min_lon=170&max_lat=10&max_lon=-170",
			"min_lat=89&min_lon=-180&max_lat=90&max_lon=180", "min_lat=0&min_lon=180&max_lat=1&max_lon=-180",
			"min_lat=5&min_lon=5&max_lat=5&max_lon=5", "min_lat=-0&min_lon=-0&max_lat=0&max_lon=0")
	}
	filters := []string{
		"category=" + pick(r, "cafe", "cafe,bar", "restaurant"), "price=" + pick(r, "1", "1,2", "2,3,4"),
		"min_rating=" + pick(r, "0", "3.5", "5"), pick(r, "open_now=true", "open_at=2026-11-27T18:30:00%2B01:00"),
		"q=" + pick(r, "caf", "the", "%C3%A9", "a"), "limit=" + pick(r, "1", "3", "100"),
		"fields=" + pick(r, "id", "id,distance_m", "name,rating"), "format=" + pick(r, "json", "geojson"),
	}
	var parts []string
	switch rt.pattern {
	case "/v1/search/nearby":
		parts = []string{ll, "radius=" + pick(r, "100", "5000", "50000"), pick(r, "sort=rating", "sort=distance", "total=true")}
	case "/v1/search/box":
		parts = []string{box, pick(r, "order=distance", "order=id")}
	case "/v1/search/within":
	case "/v1/index/density", "/internal/v1/shard/density":
		parts = []string{box, "cols=" + pick(r, "1", "64", "4096"), "rows=" + pick(r, "1", "64"), "region=world"}
		filters = []string{"category=" + pick(r, "cafe", "3", "0")}
	case "/internal/v1/shard/nearby":
		parts = []string{ll, "region=world", "radius=" + pick(r, "100", "50000"), "limit=" + pick(r, "1", "101"),
			pick(r, "sort=rating", "total=true", "after_distance=10&after_id=5&after_rating=40", "open_at=2026-11-27T18:30:00.5Z")}
		filters = []string{"category=" + pick(r, "1", "4294967295"), "price=" + pick(r, "1", "15"), "min_rating=" + pick(r, "0", "35", "50"), "q=caf"}
	case "/v1/cities":
		parts = []string{"q=" + pick(r, "par", "new y", "", "%C3%A9"), "limit=" + pick(r, "1", "100")}
		filters = nil
	default:
		return g.query(rt)
	}
	for _, f := range filters {
		if r.IntN(3) == 0 {
			parts = append(parts, f)
		}
	}
	q := strings.Join(parts, "&")
	switch r.IntN(4) {
	case 0:
		q += "&cursor=" + g.cursor()
	case 1:
		if len(rt.params) > 0 {
			name := pick(r, rt.params...)
			q += "&" + name + "=" + g.value(name) // may be given twice now
		}
	}
	return strings.TrimPrefix(q, "&")
}

// path returns a path to ask: a route's, with its {params} filled in, or a
// near miss.
func (g *requestGen) path(rt route) string {
	r := g.r
	p := rt.pattern
	for strings.Contains(p, "{") {
		i, j := strings.IndexByte(p, '{'), strings.IndexByte(p, '}')
		v := strconv.Itoa(1 + r.IntN(3500))
		if strings.HasPrefix(p[i:], "{name}") {
			v = pick(r, "index.html", "app.js", "style.css", "favicon.svg", "countries-50m.json", "ATTRIBUTION.md")
		}
		if r.IntN(2) == 0 {
			v = pick(r, "1", "42", "0", "-1", "01", "+1", "1.0", "0x10", "1e3", "9223372036854775807", "9223372036854775808",
				"99999999999999999999", "abc", "%20", "%31", "%2F", "%00", "%zz", "%E2%82%AC", "index.html", "app.js", "style.css",
				"..", "...", "%2e%2e", "index.html?", "app.js%00")
		}
		p = p[:i] + v + p[j+1:]
	}
	switch r.IntN(40) {
	case 0:
		p += "/"
	case 1:
		p = "/" + p
	case 2:
		p = strings.ToUpper(p)
	case 3:
		p += pick(r, "x", "/x", "/..", "%00", "%2F")
	case 4:
		p = pick(r, "/v1", "/v1/", "/v1/search", "/internal", "/internal/v1/shard", "/static", "/static/", "/favicon.ico",
			"/v1/businesses/", "/v1/search/within%2F", "/v1/search/nearb%79", "/%zz")
	}
	return p
}

// body returns a request body for a POST: GeoJSON good and bad, JSON that
// is not GeoJSON, and what is not JSON.
func (g *requestGen) body(rt route) string {
	r := g.r
	if strings.HasPrefix(rt.pattern, "/internal/") && r.IntN(2) == 0 {
		return g.shardAreaBody()
	}
	if r.IntN(3) == 0 {
		return g.jsonJunk()
	}
	return g.geometry()
}

func (g *requestGen) ring() string {
	r := g.r
	lon, lat := g.lon, g.lat
	d := pick(r, 0.01, 0.1, 1, 10)
	square := [][2]float64{{lon - d, lat - d}, {lon + d, lat - d}, {lon + d, lat + d}, {lon - d, lat + d}, {lon - d, lat - d}}
	ring := func(pts [][2]float64) string {
		var b strings.Builder
		b.WriteByte('[')
		for i, p := range pts {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "[%v,%v]", p[0], p[1])
		}
		b.WriteByte(']')
		return b.String()
	}
	switch r.IntN(16) {
	case 0:
		return `[[0,0],[1,1],[1,0],[0,1],[0,0]]` // self-intersecting
	case 1:
		return ring(square[:4]) // not closed
	case 2:
		return `[[0,0],[1,0],[0,0]]` // three points
	case 3:
		return `[[0,0],[1,0],[0,1],[0,0]]` // a triangle
	case 4:
		return `[[170,-5],[-170,-5],[-170,5],[170,5],[170,-5]]` // across the antimeridian
	case 5:
		return `[[-180,80],[0,80],[180,80],[180,90],[-180,90],[-180,80]]` // around the north pole
	case 6:
		return `[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]` // the world
	case 7:
		return `[[200,100],[201,100],[201,101],[200,100]]` // out of range
	case 8:
		return `[[1,2,3],[4,5,6],[7,8,9],[1,2,3]]` // with altitudes
	case 9:
		return `[[1],[2],[3],[1]]`
	case 10:
		return `[[0,0],[0,0],[0,0],[0,0]]` // degenerate
	case 11:
		return `[[1e308,1e308],[-1e308,1e308],[1e308,-1e308],[1e308,1e308]]`
	case 12:
		// Many vertices: a circle.
		n := pick(r, 100, 1000, 20000)
		pts := make([][2]float64, n+1)
		for i := range n {
			a := 2 * math.Pi * float64(i) / float64(n)
			pts[i] = [2]float64{lon + d*math.Cos(a), lat + d*math.Sin(a)}
		}
		pts[n] = pts[0]
		return ring(pts)
	case 13:
		return pick(r, `[]`, `[[]]`, `null`, `[null,null,null,null]`, `[[null,1],[1,1],[1,0],[null,1]]`, `"ring"`, `[["0","0"],["1","0"],["0","1"],["0","0"]]`)
	}
	return ring(square)
}

func (g *requestGen) polygon() string {
	r := g.r
	rings := []string{g.ring()}
	for range r.IntN(3) / 2 {
		rings = append(rings, g.ring()) // holes
	}
	return "[" + strings.Join(rings, ",") + "]"
}

func (g *requestGen) geometry() string {
	r := g.r
	switch r.IntN(10) {
	case 0:
		var ps []string
		for range r.IntN(4) {
			ps = append(ps, g.polygon())
		}
		return `{"type":"MultiPolygon","coordinates":[` + strings.Join(ps, ",") + `]}`
	case 1:
		return pick(r, `{"type":"polygon","coordinates":`+g.polygon()+`}`, `{"coordinates":`+g.polygon()+`}`,
			`{"type":"Polygon"}`, `{"type":"Polygon","coordinates":null}`, `{"type":"Polygon","coordinates":{}}`,
			`{"type":"Feature","geometry":{"type":"Polygon","coordinates":`+g.polygon()+`}}`,
			`{"type":"FeatureCollection","features":[]}`, `{"type":"GeometryCollection","geometries":[]}`,
			`{"type":"Point","coordinates":[1,2]}`, `{"type":"LineString","coordinates":[[1,2],[3,4]]}`,
			`{"type":["Polygon"],"coordinates":[]}`, `{"type":"Polygon","type":"Point","coordinates":`+g.polygon()+`}`,
			`{"type":"Polygon","coordinates":`+g.polygon()+`,"bbox":[0,0,1,1],"extra":{"a":[1,2,3]}}`)
	case 2:
		return "\uFEFF" + `{"type":"Polygon","coordinates":` + g.polygon() + `}`
	}
	return `{"type":"Polygon","coordinates":` + g.polygon() + `}`
}

// jsonJunk returns a body that is no geometry: not JSON, wrongly typed,
// deeply nested, huge.
func (g *requestGen) jsonJunk() string {
	r := g.r
	switch r.IntN(8) {
	case 0:
		n := pick(r, 100, 10000, 100000)
		return strings.Repeat("[", n) + strings.Repeat("]", n)
	case 1:
		n := pick(r, 100, 10000)
		return strings.Repeat(`{"type":`, n) + `"Polygon"` + strings.Repeat("}", n)
	case 2:
		return `{"type":"Polygon","coordinates":[` + strings.Repeat("[0,0],", 100000) + `[0,0]]}`
	case 3:
		return `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]]]}` + strings.Repeat(" ", 1<<20) // too large
	case 4:
		b := make([]byte, r.IntN(64))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return string(b)
	}
	return pick(r, "", "null", "{}", "[]", `"Polygon"`, "1", "true", "{", `{"type":"Polygon","coordinates":[[[0,0],[1,0]`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]]]}{}`, `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]]]} x`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,1],[0,0]]]`, `{"type":1,"coordinates":2}`, "\xff\xfe{}")
}

// shardAreaBody returns a body for the internal area search.
func (g *requestGen) shardAreaBody() string {
	r := g.r
	m := map[string]any{}
	for range r.IntN(8) {
		switch k := pick(r, "region", "box", "shape", "limit", "category", "price", "min_rating", "open_at", "q", "by_distance", "after", "zzz"); k {
		case "region":
			m[k] = pick[any](r, "world", "nowhere", 1, nil)
		case "box":
			m[k] = pick[any](r, map[string]any{"MinLat": g.lat - 1, "MinLon": g.lon - 1, "MaxLat": g.lat + 1, "MaxLon": g.lon + 1},
				map[string]any{"MinLat": 91, "MinLon": -181, "MaxLat": -91, "MaxLon": 1e308}, map[string]any{}, "box", nil)
		case "shape":
			m[k] = json.RawMessage(pick(r, strings.TrimPrefix(g.geometry(), "\uFEFF"), "null", "1", `"x"`))
		case "limit", "category", "price", "min_rating":
			m[k] = pick[any](r, 0, 1, 20, 100, 101, 102, -1, 255, 256, 1<<31, 1<<32, 1e300, 1.5, "1")
		case "open_at":
			m[k] = pick[any](r, "2026-11-27T18:30:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "bad", 0)
		case "q":
			m[k] = pick[any](r, "caf", "", strings.Repeat("é", 1000), 1)
		case "by_distance":
			m[k] = pick[any](r, true, false, "true")
		case "after":
			m[k] = pick[any](r, map[string]any{"distance_m": -1, "id": -5}, map[string]any{"distance_m": 1e308, "id": 1 << 62},
				map[string]any{"distance_m": 12.5, "id": 7}, nil, 1)
		default:
			m[k] = 1
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// header sets random headers a client might send.
func (g *requestGen) header(req *http.Request, rt route) {
	r := g.r
	if r.IntN(3) > 0 {
		req.Header.Set("Accept", pick(r, "*/*", "application/json", "application/problem+json", "application/geo+json",
			"text/html", "application/xml", "text/plain;q=0", "*/*;q=0", "invalid;;;", "application/openmetrics-text; version=1.0.0",
			"text/plain; version=0.0.4", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"))
	}
	if r.IntN(4) == 0 {
		req.Header.Set("Accept-Encoding", pick(r, "gzip", "gzip;q=0", "*", "br", "identity;q=0, *;q=0", "x-gzip;q=0.5", ";;;"))
	}
	if r.IntN(4) > 0 || strings.Contains(rt.pattern, "within") {
		req.Header.Set("Content-Type", pick(r, "application/json", "application/geo+json", "application/geo+json; charset=utf-8",
			"APPLICATION/JSON", "application/json; charset=latin1", "text/plain", "application/x-www-form-urlencoded",
			"multipart/form-data; boundary=x", "application/json;", "application/json; a", ";", "", "application/json, text/plain"))
	}
	if r.IntN(6) == 0 {
		req.Header.Set("If-None-Match", pick(r, "*", `"abc"`, `W/"abc"`, "garbage", `"`, ""))
	}
	if r.IntN(10) == 0 {
		req.Header.Set("If-Match", pick(r, "*", `"abc"`, "garbage"))
	}
	if r.IntN(10) == 0 {
		req.Header.Set("Range", pick(r, "bytes=0-10", "bytes=100000-", "bytes=5-1", "bytes=-0", "lines=1-2", "bytes=0-1,2-3"))
	}
	if r.IntN(10) == 0 {
		req.Header.Set("If-Modified-Since", pick(r, "Mon, 02 Jan 2006 15:04:05 GMT", "garbage"))
	}
	if r.IntN(10) == 0 {
		req.Header.Set("X-Request-Id", pick(r, "abc", strings.Repeat("x", 200), "\u00e9"))
	}
}

// request returns a random request to one of the routes, and the status
// it must get (0: any the spec allows).
func (g *requestGen) request() (*http.Request, int) {
	r := g.r
	if r.IntN(12) == 0 {
		return g.nextPage()
	}
	rt := pick(r, g.routes...)
	var method string
	switch n := r.IntN(10); {
	case n < 6:
		method = pick(r, rt.methods...)
	case n < 7:
		method = http.MethodHead
	case n < 8:
		method = http.MethodPost
	default:
		method = pick(r, oddMethods...)
	}
	target := g.path(rt)
	q := g.query(rt)
	if r.IntN(2) == 0 {
		q = g.validQuery(rt)
	}
	if q != "" || r.IntN(10) == 0 {
		target += "?" + q
	}
	var body string
	if method != http.MethodGet && method != http.MethodHead || r.IntN(20) == 0 {
		body = g.body(rt)
	}
	req := httptest.NewRequest(http.MethodGet, "/", strings.NewReader(body))
	req.Method = method
	u, err := url.ParseRequestURI(target)
	if err != nil {
		// No client sends it as it is: send what a client would.
		u = &url.URL{Path: target}
	}
	req.URL = u
	req.RequestURI = u.RequestURI()
	g.header(req, rt)
	return req, 0
}

// problemDoc is the Problem schema, strictly.
type problemDoc struct {
	Type          string                `json:"type"`
	Title         string                `json:"title"`
	Status        *int                  `json:"status"`
	Detail        *string               `json:"detail"`
	Instance      string                `json:"instance"`
	InvalidParams []nearby.InvalidParam `json:"invalid_params"`
	RequestID     string                `json:"request_id"`
}

// checkAnswer checks the answer w to req on server s: never a 5xx, nothing
// logged as a failure, and every 4xx a well-formed problem document.
func checkAnswer(t *testing.T, rts []route, req *http.Request, body string, w *httptest.ResponseRecorder, logs string) {
	t.Helper()
	desc := func() string {
		b := body
		if len(b) > 300 {
			b = b[:300] + fmt.Sprintf("…(%d bytes)", len(body))
		}
		return fmt.Sprintf("%s %s (headers %v, body %q)\n-> %d %v\n%.2000s", req.Method, req.URL.RequestURI(), req.Header, b, w.Code, w.Header(), w.Body)
	}
	if logs != "" {
		t.Fatalf("%s\nlogged:\n%s", desc(), logs)
	}
	// The documented 5xx: the internal shard API asked for a region this
	// node does not hold, so that the asking node tries another replica.
	notHeld := w.Code == http.StatusServiceUnavailable && strings.HasPrefix(req.URL.Path, "/internal/") &&
		strings.Contains(w.Body.String(), "is not held by this node")
	if w.Code >= 500 && !notHeld {
		t.Fatalf("server error: %s", desc())
	}
	if w.Header().Get("X-Request-Id") == "" {
		t.Fatalf("no X-Request-Id: %s", desc())
	}
	path := req.URL.Path
	if len(req.URL.RawQuery) > MaxQueryBytes && path != "/metrics" && w.Code != http.StatusRequestURITooLong {
		t.Fatalf("a query of %d bytes not refused with 414: %s", len(req.URL.RawQuery), desc())
	}
	if n := w.Header().Get("Content-Length"); n != "" && req.Method != http.MethodHead && n != strconv.Itoa(w.Body.Len()) {
		t.Fatalf("Content-Length %s, body of %d bytes: %s", n, w.Body.Len(), desc())
	}
	var rt *route
	for i := range rts {
		if routeMatches(rts[i].pattern, path) {
			rt = &rts[i]
		}
	}
	if w.Code == http.StatusOK && rt != nil && rt.strict {
		seen := map[string]bool{}
		for pair := range strings.SplitSeq(req.URL.RawQuery, "&") {
			if pair == "" {
				continue
			}
			n, _, _ := strings.Cut(pair, "=")
			d, err := url.QueryUnescape(n)
			_, verr := url.ParseQuery(pair)
			if err != nil || verr != nil || !slices.Contains(rt.params, d) || seen[d] {
				t.Fatalf("a 200 on a strict route with the parameter %q (undecodable, unknown or repeated): %s", pair, desc())
			}
			seen[d] = true
		}
	}
	if w.Code < 400 {
		if ct, _, _ := strings.Cut(w.Header().Get("Content-Type"), ";"); w.Code == http.StatusOK && req.Method != http.MethodHead &&
			(ct == "application/json" || ct == "application/geo+json") && w.Header().Get("Content-Encoding") == "" && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("a 200 of invalid %s: %s", ct, desc())
		}
		return
	}
	// The documented exceptions: the conditional and range requests of
	// the explorer's assets.
	if (w.Code == http.StatusPreconditionFailed || w.Code == http.StatusRequestedRangeNotSatisfiable) &&
		(path == "/" || strings.HasPrefix(path, "/static/")) {
		return
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("a %d as %q: %s", w.Code, ct, desc())
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("a problem with Cache-Control %q: %s", cc, desc())
	}
	var p problemDoc
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem document: %v: %s", err, desc())
	}
	switch {
	case p.Status == nil || *p.Status != w.Code:
		t.Fatalf("problem status is not the answer's: %s", desc())
	case p.Type != "about:blank" || p.Title != http.StatusText(w.Code) || p.Title == "":
		t.Fatalf("problem type %q, title %q: %s", p.Type, p.Title, desc())
	case p.Detail == nil || *p.Detail == "":
		t.Fatalf("problem without a detail: %s", desc())
	case p.RequestID != w.Header().Get("X-Request-Id"):
		t.Fatalf("problem request_id %q, header %q: %s", p.RequestID, w.Header().Get("X-Request-Id"), desc())
	case p.Instance != req.URL.EscapedPath():
		t.Fatalf("problem instance %q, want %q: %s", p.Instance, req.URL.EscapedPath(), desc())
	}
	if w.Code != http.StatusBadRequest && p.InvalidParams != nil {
		t.Fatalf("a %d naming parameters: %s", w.Code, desc())
	}
	switch w.Code {
	case http.StatusBadRequest:
		// Every 400 names what it refuses, but those the spec excepts: the
		// internal shard API's range check and a body that could not be
		// read (not sent by this test).
		if len(p.InvalidParams) == 0 && !strings.HasPrefix(path, "/internal/") {
			t.Fatalf("a 400 without invalid_params: %s", desc())
		}
		seen := map[string]bool{}
		for i, ip := range p.InvalidParams {
			if ip.Name == "" && !sentParam(req, "") || ip.Reason == "" || seen[ip.Name] { // "=1" has a name, empty
				t.Fatalf("invalid param %+v (named twice: %v): %s", ip, seen[ip.Name], desc())
			}
			seen[ip.Name] = true
			if rt != nil && rt.strict && i > 0 {
				// Known ones in the documented order, then the others by name.
				rank := func(name string) int {
					if k := slices.Index(rt.params, name); k >= 0 {
						return k
					}
					return len(rt.params)
				}
				prev := p.InvalidParams[i-1].Name
				sortable := !strings.ContainsRune(prev+ip.Name, utf8.RuneError) // sorted as sent, not as JSON shows them
				if sortable && (rank(prev) > rank(ip.Name) || rank(prev) == rank(ip.Name) && prev > ip.Name) {
					t.Fatalf("invalid params out of order (%q before %q): %s", prev, ip.Name, desc())
				}
			}
			if !sentParam(req, ip.Name) && (rt == nil || !slices.Contains(rt.params, ip.Name)) && ip.Name != "body" && ip.Name != "id" &&
				!(strings.HasPrefix(path, "/internal/") && slices.Contains([]string{"shape", "box", "body"}, ip.Name)) {
				t.Fatalf("invalid param %q neither sent nor documented: %s", ip.Name, desc())
			}
		}
	case http.StatusMethodNotAllowed:
		want := "method " + req.Method + " not allowed on " + path
		if *p.Detail != want {
			t.Fatalf("405 detail %q, want %q: %s", *p.Detail, want, desc())
		}
		if rt != nil {
			if allow := w.Header().Get("Allow"); allow != rt.allow() {
				t.Fatalf("405 Allow %q, want %q: %s", allow, rt.allow(), desc())
			}
		} else if w.Header().Get("Allow") == "" {
			t.Fatalf("405 without Allow: %s", desc())
		}
	}
}

// sentParam reports whether the request's query names the parameter, as
// decoded or as sent.
func sentParam(req *http.Request, name string) bool {
	for pair := range strings.SplitSeq(req.URL.RawQuery, "&") {
		n, _, _ := strings.Cut(pair, "=")
		if n == name {
			return true
		}
		if d, err := url.QueryUnescape(n); err == nil && asJSON(d) == name {
			return true
		}
	}
	return false
}

// asJSON returns s as a JSON string decodes: invalid UTF-8 replaced.
func asJSON(s string) string {
	b, _ := json.Marshal(s)
	var d string
	json.Unmarshal(b, &d)
	return d
}

// routeMatches reports whether a path is one the chi pattern matches.
func routeMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// serve answers req, failing the test if it takes too long (a request that
// hangs the handler is as bad as a panic).
func serve(t *testing.T, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { defer close(done); h.ServeHTTP(w, req) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s %s: no answer in 5 s", req.Method, req.URL)
	}
	return w
}

// pagedSearches returns a few searches around (lat, lon) with their next
// cursor.
func pagedSearches(t *testing.T, s http.Handler, lat, lon float64) []pagedSearch {
	t.Helper()
	ll := fmt.Sprintf("lat=%v&lon=%v", lat, lon)
	box := fmt.Sprintf("min_lat=%v&min_lon=%v&max_lat=%v&max_lon=%v", lat-1, lon-1, lat+1, lon+1)
	square := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`,
		lon-1, lat-1, lon+1, lat-1, lon+1, lat+1, lon-1, lat+1, lon-1, lat-1)
	var paged []pagedSearch
	for _, tc := range []struct{ method, target, body string }{
		{"GET", "/v1/search/nearby?limit=1&radius=50000&" + ll, ""},
		{"GET", "/v1/search/nearby?limit=2&radius=50000&sort=rating&" + ll, ""},
		{"GET", "/v1/search/box?limit=1&" + box, ""},
		{"GET", "/v1/search/box?limit=1&order=distance&" + box, ""},
		{"POST", "/v1/search/within?limit=1", square},
	} {
		req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		w := serve(t, s, req)
		var page struct {
			Next *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &page); w.Code != http.StatusOK || err != nil || page.Next == nil {
			t.Fatalf("%s %s: %d %s: want a page with a next cursor", tc.method, tc.target, w.Code, w.Body)
		}
		paged = append(paged, pagedSearch{tc.method, tc.target, tc.body, *page.Next})
	}
	return paged
}

// TestRandomRequests sends random and hostile requests to every route the
// router serves, with every kind of method, query, body and header: no
// answer is a 5xx or logs a failure, every 4xx is a problem document that
// says what the spec says it does (status, title, detail, the refused
// parameters of a 400, the Allow header of a 405).
func TestRandomRequests(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	statuses := sendRandomRequests(t, newRand(t), n)
	t.Logf("statuses: %v", statuses)
}

// FuzzRandomRequests is TestRandomRequests with the fuzzer choosing the
// seed: each input is a seed for 20 requests.
func FuzzRandomRequests(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3, 0xdeadbeef} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		sendRandomRequests(t, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), 20)
	})
}

// sendRandomRequests sends n requests made with r to the property server
// and checks each answer; it returns how many got each status.
func sendRandomRequests(t *testing.T, r *rand.Rand, n int) map[int]int {
	t.Helper()
	ps := newPropServer()
	rts := routes(t, ps.Server)
	g := &requestGen{r: r, routes: rts, lat: ps.lat, lon: ps.lon, paged: pagedSearches(t, ps, ps.lat, ps.lon)}
	for _, p := range g.paged {
		g.cursors = append(g.cursors, p.cursor)
	}
	ps.logs.take()
	statuses := map[int]int{}
	for range n {
		req, want := g.request()
		body, _ := readAll(req)
		w := serve(t, ps, req)
		statuses[w.Code]++
		checkAnswer(t, rts, req, body, w, ps.logs.take())
		if want != 0 && w.Code != want {
			t.Fatalf("%s %s: %d %s, want %d", req.Method, req.URL, w.Code, w.Body, want)
		}
	}
	return statuses
}

// readAll reads req's body and puts it back.
func readAll(req *http.Request) (string, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(req.Body)
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(b.Bytes()))
	return b.String(), err
}

// TestHeadAnswersAsGet: HEAD on every route that answers GET gets the
// status and headers GET gets, without a body, over a real connection; on
// the routes that answer POST only, a 405 naming POST.
func TestHeadAnswersAsGet(t *testing.T) {
	ps := newPropServer()
	srv := httptest.NewServer(ps)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	ll := fmt.Sprintf("lat=%v&lon=%v", ps.lat, ps.lon)
	box := fmt.Sprintf("min_lat=%v&min_lon=%v&max_lat=%v&max_lon=%v", ps.lat-1, ps.lon-1, ps.lat+1, ps.lon+1)
	queries := map[string]string{
		"/v1/search/nearby":                  ll + "&radius=50000&limit=100",
		"/v1/search/box":                     box,
		"/v1/index/density":                  box,
		"/v1/cities":                         "q=par",
		"/internal/v1/shard/nearby":          "region=world&radius=1000&limit=5&" + ll,
		"/internal/v1/shard/density":         "region=world&cols=2&rows=2&" + box,
		"/internal/v1/shard/businesses/{id}": "region=world",
	}
	for _, rt := range routes(t, ps.Server) {
		if !slices.Contains(rt.methods, http.MethodGet) {
			for _, m := range []string{http.MethodHead, http.MethodGet} {
				req, _ := http.NewRequest(m, srv.URL+rt.pattern, nil)
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != rt.allow() {
					t.Errorf("%s %s: %d, Allow %q; want 405, Allow %q", m, rt.pattern, res.StatusCode, res.Header.Get("Allow"), rt.allow())
				}
			}
			continue
		}
		path := strings.NewReplacer("{id}", "1", "{name}", "app.js").Replace(rt.pattern)
		q := queries[rt.pattern]
		for _, target := range []string{path + "?" + q, path + "?" + q + "&zz=1"} {
			var answers [2]*http.Response
			var bodies [2][]byte
			for i, m := range []string{http.MethodGet, http.MethodHead} {
				req, _ := http.NewRequest(m, srv.URL+target, nil)
				req.Header.Set("X-Request-Id", "same")
				res, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", m, target, err)
				}
				var b bytes.Buffer
				b.ReadFrom(res.Body)
				res.Body.Close()
				answers[i], bodies[i] = res, b.Bytes()
			}
			get, head := answers[0], answers[1]
			get.Header.Del("Date")
			head.Header.Del("Date")
			if get.StatusCode >= 500 || head.StatusCode != get.StatusCode || !headersEqual(get.Header, head.Header) || len(bodies[1]) > 0 {
				t.Errorf("%s: GET %d %v; HEAD %d %v with a body of %d bytes", target, get.StatusCode, get.Header, head.StatusCode, head.Header, len(bodies[1]))
			}
		}
	}
}

// headersEqual compares headers, but Content-Length, which a server may
// leave out of a HEAD answer whose length it does not know.
func headersEqual(get, head http.Header) bool {
	get, head = get.Clone(), head.Clone()
	if head.Get("Content-Length") == "" {
		get.Del("Content-Length")
	}
	if get.Get("Transfer-Encoding") == "chunked" {
		get.Del("Transfer-Encoding")
	}
	return fmt.Sprint(get) == fmt.Sprint(head)
}
