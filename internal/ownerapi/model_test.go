package ownerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/postgres"
	"github.com/nearby/nearby/internal/postgres/pgtest"
)

// This file is a model-based test of the owner API: seeded random
// sequences of creates (with and without Idempotency-Key, replayed with the
// same and with other bodies), reads, replaces, patches and deletes under
// every kind of If-Match, by several owners, on their own businesses and on
// others', with invalid requests interleaved, sent over HTTP to the real
// handler over the real store and PostgreSQL. An in-memory model says what
// every business must be after each acknowledged write; every answer is
// checked against it, and at the end so is every row of the database.
//
// NEARBY_MODEL_SEED=n replays one seed (every failure names its seed);
// NEARBY_MODEL_SEEDS=n and NEARBY_MODEL_STEPS=n make longer runs.

// dbServer is the API over a fresh, migrated database, on a loopback
// listener.
type dbServer struct {
	url    string
	client *http.Client
	dsn    string
}

func newDBServer(t *testing.T) *dbServer {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, postgres.Config{Primary: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	reg := prometheus.NewRegistry()
	s := NewServer(Config{
		Service: postgres.NewBusinessService(db), Secret: secret, Logger: slog.New(slog.DiscardHandler),
		Registerer: reg, Gatherer: reg, Now: func() time.Time { return now },
	})
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return &dbServer{url: hs.URL, client: hs.Client(), dsn: dsn}
}

// call is one HTTP request of an owner; an empty header value is not sent.
type call struct {
	method, path string
	body         *string
	header       map[string]string
	owner        int64
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string {
	if len(a.body) > 600 {
		return fmt.Sprintf("%d %s...", a.status, a.body[:600])
	}
	return fmt.Sprintf("%d %s", a.status, a.body)
}

func (s *dbServer) send(t *testing.T, c call) answer {
	t.Helper()
	a, err := s.do(c)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// do sends c; it may be called from any goroutine.
func (s *dbServer) do(c call) (answer, error) {
	var body io.Reader
	if c.body != nil {
		body = strings.NewReader(*c.body)
	}
	r, err := http.NewRequest(c.method, s.url+c.path, body)
	if err != nil {
		return answer{}, err
	}
	if c.owner != 0 {
		tok, err := IssueToken(secret, c.owner, time.Hour, now)
		if err != nil {
			return answer{}, err
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range c.header {
		if v != "" {
			r.Header.Set(k, v)
		}
	}
	res, err := s.client.Do(r)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", c.method, c.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: reading the answer: %w", c.method, c.path, err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: b}, nil
}

// content is what an owner can set of a business, as the API answers it.
type content struct {
	Name, Category                                  string
	Lat, Lon                                        float64
	Address, City, State, Country, Zip, Description string
	Photos                                          []string
	Price                                           int     // 0: null
	Rating                                          float64 // NaN: null
	ReviewCount                                     int64
	Hours                                           string // compact canonical JSON, or null
}

func (c content) equal(o content) bool {
	return c.Name == o.Name && c.Category == o.Category && c.Lat == o.Lat && c.Lon == o.Lon &&
		c.Address == o.Address && c.City == o.City && c.State == o.State && c.Country == o.Country &&
		c.Zip == o.Zip && c.Description == o.Description && slices.Equal(c.Photos, o.Photos) &&
		c.Price == o.Price && (c.Rating == o.Rating || math.IsNaN(c.Rating) && math.IsNaN(o.Rating)) &&
		c.ReviewCount == o.ReviewCount && c.Hours == o.Hours
}

func (c content) String() string {
	b, _ := json.Marshal(struct {
		content
		Rating string
	}{c, strconv.FormatFloat(c.Rating, 'g', -1, 64)})
	return string(b)
}

// empty is the content of a business with only the required fields.
func empty() content { return content{Photos: []string{}, Rating: math.NaN(), Hours: "null"} }

// wireBusiness is a business as the API answers it.
type wireBusiness struct {
	ID          string          `json:"id"`
	OwnerID     string          `json:"owner_id"`
	Name        string          `json:"name"`
	Category    string          `json:"category"`
	Lat         float64         `json:"lat"`
	Lon         float64         `json:"lon"`
	Address     string          `json:"address"`
	City        string          `json:"city"`
	State       string          `json:"state"`
	Country     string          `json:"country"`
	Zip         string          `json:"zip"`
	Description string          `json:"description"`
	Photos      []string        `json:"photos"`
	Price       *int            `json:"price"`
	Rating      *float64        `json:"rating"`
	ReviewCount int64           `json:"review_count"`
	Hours       json.RawMessage `json:"hours"`
	Version     int64           `json:"version"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

func (w *wireBusiness) content() content {
	c := content{Name: w.Name, Category: w.Category, Lat: w.Lat, Lon: w.Lon, Address: w.Address, City: w.City,
		State: w.State, Country: w.Country, Zip: w.Zip, Description: w.Description, Photos: w.Photos,
		Rating: math.NaN(), ReviewCount: w.ReviewCount, Hours: compactJSON(w.Hours)}
	if w.Price != nil {
		c.Price = *w.Price
	}
	if w.Rating != nil {
		c.Rating = *w.Rating
	}
	return c
}

func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "invalid JSON: " + string(raw)
	}
	return b.String()
}

// decodeBusiness decodes an answer's business strictly: every field
// present, no other.
func decodeBusiness(body []byte) (*wireBusiness, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, err
	}
	want := append(slices.Clone(nearby.BusinessFields), "id", "owner_id", "version", "created_at", "updated_at")
	for _, f := range want {
		if _, ok := fields[f]; !ok {
			return nil, fmt.Errorf("no field %q", f)
		}
	}
	if len(fields) != len(want) {
		return nil, fmt.Errorf("%d fields, want %d", len(fields), len(want))
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	var w wireBusiness
	if err := d.Decode(&w); err != nil {
		return nil, err
	}
	return &w, nil
}

// member is one member of a request body: a name and its raw JSON value.
type member struct{ name, value string }

func encodeBody(ms []member) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = strconv.Quote(m.name) + ":" + m.value
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// fieldGen gives random valid values of one field: the JSON sent and what
// is stored.
type fieldGen struct {
	name string
	gen  func(r *rand.Rand) (string, func(*content))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pickString returns one of pool as JSON and what storing it does.
func pickString(r *rand.Rand, pool []string, set func(*content, string)) (string, func(*content)) {
	s := pool[r.IntN(len(pool))]
	return jsonString(s), func(c *content) { set(c, s) }
}

// Hours documents as sent, and as answered (all seven days, midnight as
// 24:00); some are spelled two ways.
var hoursDocs = []struct{ sent, stored string }{
	{`{"time_zone":"Europe/Paris","weekly":{"fri":[["17:00","02:00"]],"sat":[["17:00","02:00"]]}}`,
		`{"time_zone":"Europe/Paris","weekly":{"mon":[],"tue":[],"wed":[],"thu":[],"fri":[["17:00","02:00"]],"sat":[["17:00","02:00"]],"sun":[]}}`},
	{`{"weekly":{"sat":[["17:00","02:00"]],"mon":[],"fri":[["17:00","02:00"]]},"time_zone":"Europe/Paris"}`,
		`{"time_zone":"Europe/Paris","weekly":{"mon":[],"tue":[],"wed":[],"thu":[],"fri":[["17:00","02:00"]],"sat":[["17:00","02:00"]],"sun":[]}}`},
	{`{"time_zone":"UTC","weekly":{"mon":[["09:00","12:00"],["14:00","00:00"]]}}`,
		`{"time_zone":"UTC","weekly":{"mon":[["09:00","12:00"],["14:00","24:00"]],"tue":[],"wed":[],"thu":[],"fri":[],"sat":[],"sun":[]}}`},
	{`{"time_zone":"UTC","weekly":{"mon":[["09:00","12:00"],["14:00","24:00"]]}}`,
		`{"time_zone":"UTC","weekly":{"mon":[["09:00","12:00"],["14:00","24:00"]],"tue":[],"wed":[],"thu":[],"fri":[],"sat":[],"sun":[]}}`},
	{`{"time_zone":"America/New_York"}`,
		`{"time_zone":"America/New_York","weekly":{"mon":[],"tue":[],"wed":[],"thu":[],"fri":[],"sat":[],"sun":[]}}`},
	{`{"time_zone":"Asia/Tokyo","weekly":{"sun":[["09:00","09:00"]]}}`,
		`{"time_zone":"Asia/Tokyo","weekly":{"mon":[],"tue":[],"wed":[],"thu":[],"fri":[],"sat":[],"sun":[["09:00","09:00"]]}}`},
}

// degrees returns a random coordinate in [-limit, limit] as sent (some with
// more than 7 decimals, some at the limits, -0) and as stored.
func degrees(r *rand.Rand, limit float64) (string, float64) {
	switch r.IntN(6) {
	case 0:
		v := []float64{-limit, limit, 0}[r.IntN(3)]
		return strconv.FormatFloat(v, 'g', -1, 64), v
	case 1:
		return "-0", 0
	case 2: // more digits than are stored
		sent := strconv.FormatFloat((r.Float64()*2-1)*limit, 'f', 12, 64)
		v, _ := strconv.ParseFloat(sent, 64)
		return sent, math.Round(v*1e7) / 1e7
	default:
		v := math.Round((r.Float64()*2-1)*limit*1e7) / 1e7
		return strconv.FormatFloat(v, 'g', -1, 64), v
	}
}

var (
	names = []string{"Blue Bottle", "Café Ünïcödé", "店 東京", "emoji 🍕 place", " padded ", `quote " and \ back`,
		strings.Repeat("é", nearby.MaxNameChars), "a", "O'Brien's; DROP TABLE businesses; --"}
	lines       = []string{"", "1 Times Sq", "Straße 5", "\u200Bzero width", strings.Repeat("ü", 20)}
	longAddress = strings.Repeat("ä", nearby.MaxAddressChars)
	longCity    = strings.Repeat("ø", nearby.MaxCityChars)
	countries   = []string{"", "US", "DE", "XK", "JP"}
	zips        = []string{"", "10036", "75001", strings.Repeat("9", nearby.MaxZipChars), "SW1A 1AA"}
	descs       = []string{"", "Coffee.", "Line one\nline two\r\n\ttabbed", strings.Repeat("é", nearby.MaxDescriptionBytes/2)}
	photoPool   = []string{"https://img.example.com/a.jpg", "HTTPS://Example.COM/B.PNG", "http://[::1]:8080/x.png",
		"https://example.com/p?q=1&r=%20#frag", "http://xn--caf-dma.example/é.jpg"}
)

var fieldGens = []fieldGen{
	{"name", func(r *rand.Rand) (string, func(*content)) {
		return pickString(r, names, func(c *content, s string) { c.Name = s })
	}},
	{"category", func(r *rand.Rand) (string, func(*content)) {
		return pickString(r, nearby.CategoryNames(), func(c *content, s string) { c.Category = s })
	}},
	{"lat", func(r *rand.Rand) (string, func(*content)) {
		sent, v := degrees(r, 90)
		return sent, func(c *content) { c.Lat = v }
	}},
	{"lon", func(r *rand.Rand) (string, func(*content)) {
		sent, v := degrees(r, 180)
		return sent, func(c *content) { c.Lon = v }
	}},
	{"address", func(r *rand.Rand) (string, func(*content)) {
		return pickString(r, append(slices.Clone(lines), longAddress), func(c *content, s string) { c.Address = s })
	}},
	{"city", func(r *rand.Rand) (string, func(*content)) {
		return pickString(r, append(slices.Clone(lines), longCity), func(c *content, s string) { c.City = s })
	}},
	{"state", func(r *rand.Rand) (string, func(*content)) {
		return pickString(r, append(slices.Clone(lines), longCity), func(c *content, s string) { c.State = s })
	}},
	{"country", func(r *rand.Rand) (string, func(*content)) {
		return pickString(r, countries, func(c *content, s string) { c.Country = s })
	}},
	{"zip", func(r *rand.Rand) (string, func(*content)) {
		return pickString(r, zips, func(c *content, s string) { c.Zip = s })
	}},
	{"description", func(r *rand.Rand) (string, func(*content)) {
		return pickString(r, descs, func(c *content, s string) { c.Description = s })
	}},
	{"photos", func(r *rand.Rand) (string, func(*content)) {
		p := []string{}
		for range r.IntN(4) {
			p = append(p, photoPool[r.IntN(len(photoPool))])
		}
		b, _ := json.Marshal(p)
		return string(b), func(c *content) { c.Photos = p }
	}},
	{"price", func(r *rand.Rand) (string, func(*content)) {
		if r.IntN(5) == 0 {
			return "2.0", func(c *content) { c.Price = 2 }
		}
		n := 1 + r.IntN(4)
		return strconv.Itoa(n), func(c *content) { c.Price = n }
	}},
	{"rating", func(r *rand.Rand) (string, func(*content)) {
		sent := []string{"0", "0.0", "4.5", "5", "4.0", "3.7", "1e0"}[r.IntN(7)]
		v, _ := strconv.ParseFloat(sent, 64)
		return sent, func(c *content) { c.Rating = v }
	}},
	{"review_count", func(r *rand.Rand) (string, func(*content)) {
		sent := []string{"0", "1287", "2147483647", "12.0"}[r.IntN(4)]
		v, _ := strconv.ParseFloat(sent, 64)
		return sent, func(c *content) { c.ReviewCount = int64(v) }
	}},
	{"hours", func(r *rand.Rand) (string, func(*content)) {
		h := hoursDocs[r.IntN(len(hoursDocs))]
		return h.sent, func(c *content) { c.Hours = h.stored }
	}},
}

func isRequired(name string) bool {
	return name == "name" || name == "category" || name == "lat" || name == "lon"
}

// clearField is what the merge-patch null of an optional field does.
func clearField(name string) func(*content) {
	e := empty()
	return func(c *content) {
		switch name {
		case "address":
			c.Address = e.Address
		case "city":
			c.City = e.City
		case "state":
			c.State = e.State
		case "country":
			c.Country = e.Country
		case "zip":
			c.Zip = e.Zip
		case "description":
			c.Description = e.Description
		case "photos":
			c.Photos = e.Photos
		case "price":
			c.Price = e.Price
		case "rating":
			c.Rating = e.Rating
		case "review_count":
			c.ReviewCount = e.ReviewCount
		case "hours":
			c.Hours = e.Hours
		}
	}
}

// fullBody returns a random valid body for a create or a replace and the
// content it stores. Optional fields are sometimes left out, sent empty or
// null; members come in random order.
func fullBody(r *rand.Rand) ([]member, content) {
	c := empty()
	var ms []member
	for _, g := range fieldGens {
		if !isRequired(g.name) {
			switch r.IntN(4) {
			case 0: // left out
				continue
			case 1: // null: empty
				ms = append(ms, member{g.name, "null"})
				continue
			}
		}
		v, set := g.gen(r)
		set(&c)
		ms = append(ms, member{g.name, v})
	}
	r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	return ms, c
}

// respell returns another body that stores the same as ms: members in
// another order, and optional fields that are left out sent as null.
func respell(r *rand.Rand, ms []member) []member {
	out := slices.Clone(ms)
	for _, g := range fieldGens {
		if !isRequired(g.name) && !slices.ContainsFunc(out, func(m member) bool { return m.name == g.name }) && r.IntN(2) == 0 {
			out = append(out, member{g.name, "null"})
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// patchBody returns a random merge patch and what it does: a few fields set,
// optional ones sometimes cleared; possibly none at all.
func patchBody(r *rand.Rand) ([]member, func(*content)) {
	var ms []member
	var sets []func(*content)
	one := -1 // half of the patches change one field: any field lost is seen
	if r.IntN(2) == 0 {
		one = r.IntN(len(fieldGens))
	}
	for i, g := range fieldGens {
		if one >= 0 && i != one || one < 0 && r.IntN(5) != 0 {
			continue
		}
		if !isRequired(g.name) && r.IntN(3) == 0 {
			ms = append(ms, member{g.name, "null"})
			sets = append(sets, clearField(g.name))
			continue
		}
		v, set := g.gen(r)
		ms = append(ms, member{g.name, v})
		sets = append(sets, set)
	}
	return ms, func(c *content) {
		c.Photos = slices.Clone(c.Photos)
		for _, set := range sets {
			set(c)
		}
	}
}

// invalidBodies are refused with 400 whatever they are sent to (create,
// replace or patch).
var invalidBodies = []string{
	``, `not json`, `[]`, `"x"`, `null`,
	`{"name":"A","category":"cafe","lat":1,"lon":2}{}`,
	`{"name":"A","name":"B","category":"cafe","lat":1,"lon":2}`,
	`{"name":"","category":"cafe","lat":1,"lon":2}`,
	`{"name":"   ","category":"cafe","lat":1,"lon":2}`,
	`{"name":"a\u0000b","category":"cafe","lat":1,"lon":2}`,
	`{"name":null,"category":"cafe","lat":1,"lon":2}`,
	`{"name":"A","category":"Cafe","lat":1,"lon":2}`,
	`{"name":"A","category":"cafe","lat":90.0000001,"lon":2}`,
	`{"name":"A","category":"cafe","lat":1,"lon":NaN}`,
	`{"name":"A","category":"cafe","lat":"1","lon":2}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"id":"1"}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"version":7}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"stars":4}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"price":5}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"price":2.5}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"rating":4.55}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"review_count":-1}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"review_count":2147483648}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"country":"us"}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"city":"a\nb"}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"photos":["ftp://x.example/a"]}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"photos":["http://user:pw@x.example/a"]}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"hours":{"time_zone":"Mars/Olympus_Mons"}}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"hours":{"time_zone":"UTC","weekly":{"mon":[["10:00","12:00"],["11:00","13:00"]]}}}`,
	`{"name":"A","category":"cafe","lat":1,"lon":2,"description":"` + strings.Repeat("x", nearby.MaxDescriptionBytes+1) + `"}`,
}

// modelBusiness is what the model knows of a business.
type modelBusiness struct {
	id, owner          int64
	c                  content
	version            int64
	deleted            bool
	createdAt, updated time.Time
}

// modelKey is an idempotency key's first answer.
type modelKey struct {
	c      content
	answer []byte
	id     int64
}

type ownerKey struct {
	owner int64
	key   string
}

// model is what the API must answer.
type model struct {
	t      *testing.T
	s      *dbServer
	r      *rand.Rand
	owners []int64
	bs     map[int64]*modelBusiness
	ids    []int64 // every id, in creation order
	keys   map[ownerKey]*modelKey
	step   int
	log    []string // the steps, for a failure's message
}

func (m *model) fail(format string, args ...any) {
	m.t.Helper()
	tail := m.log[max(0, len(m.log)-8):]
	m.t.Fatalf("step %d: %s\nlast steps:\n  %s", m.step, fmt.Sprintf(format, args...), strings.Join(tail, "\n  "))
}

func (m *model) send(c call) answer {
	m.t.Helper()
	body := ""
	if c.body != nil {
		body = *c.body
		if len(body) > 120 {
			body = body[:120] + "..."
		}
	}
	m.log = append(m.log, fmt.Sprintf("%d: owner %d %s %s %v %s", m.step, c.owner, c.method, c.path, c.header, body))
	return m.s.send(m.t, c)
}

func path(id int64) string { return "/v1/businesses/" + strconv.FormatInt(id, 10) }

// pathSpelling returns the path of id, sometimes with a tolerated other
// spelling of the id.
func (m *model) pathSpelling(id int64) string {
	switch m.r.IntN(8) {
	case 0:
		return "/v1/businesses/00" + strconv.FormatInt(id, 10)
	case 1:
		return "/v1/businesses/+" + strconv.FormatInt(id, 10)
	}
	return path(id)
}

// checkBusiness checks a 2xx answer carrying b: body, ETag, no caching.
func (m *model) checkBusiness(a answer, b *modelBusiness) *wireBusiness {
	m.t.Helper()
	w, err := decodeBusiness(a.body)
	if err != nil {
		m.fail("answer %s: %v", a, err)
	}
	if w.ID != strconv.FormatInt(b.id, 10) || w.OwnerID != strconv.FormatInt(b.owner, 10) {
		m.fail("answer for business %d of owner %d: id %s, owner_id %s", b.id, b.owner, w.ID, w.OwnerID)
	}
	if got := w.content(); !got.equal(b.c) {
		m.fail("business %d is\n  %v\nwant\n  %v", b.id, got, b.c)
	}
	if w.Version != b.version || a.header.Get("ETag") != etag(b.version) {
		m.fail("business %d: version %d, ETag %s; want %d", b.id, w.Version, a.header.Get("ETag"), b.version)
	}
	if !w.CreatedAt.Equal(b.createdAt) || !w.UpdatedAt.Equal(b.updated) {
		m.fail("business %d: created %v, updated %v; want %v, %v", b.id, w.CreatedAt, w.UpdatedAt, b.createdAt, b.updated)
	}
	if a.header.Get("Cache-Control") != "no-store" {
		m.fail("Cache-Control %q", a.header.Get("Cache-Control"))
	}
	return w
}

// expect checks an answer's status; for an error, that it is a problem
// document.
func (m *model) expect(a answer, status int) {
	m.t.Helper()
	if a.status != status {
		m.fail("answer %s, want %d", a, status)
	}
	if status >= 400 {
		var p struct {
			Status int `json:"status"`
		}
		if err := json.Unmarshal(a.body, &p); err != nil || p.Status != status ||
			a.header.Get("Content-Type") != "application/problem+json" {
			m.fail("error %s is not a problem document (%s)", a, a.header.Get("Content-Type"))
		}
	}
}

func (m *model) randomOwner() int64 { return m.owners[m.r.IntN(len(m.owners))] }

// pick returns a business for owner to act on: usually a live one of their
// own, sometimes a deleted one, another owner's or none at all (0).
func (m *model) pick(owner int64) *modelBusiness {
	var own, deleted, others []*modelBusiness
	for _, id := range m.ids {
		b := m.bs[id]
		switch {
		case b.owner != owner:
			others = append(others, b)
		case b.deleted:
			deleted = append(deleted, b)
		default:
			own = append(own, b)
		}
	}
	n := m.r.IntN(20)
	switch {
	case n < 15 && len(own) > 0:
		return own[m.r.IntN(len(own))]
	case n < 17 && len(deleted) > 0:
		return deleted[m.r.IntN(len(deleted))]
	case n < 19 && len(others) > 0:
		return others[m.r.IntN(len(others))]
	}
	return nil
}

// missingID is an id no business has.
func (m *model) missingID() int64 {
	if len(m.ids) == 0 {
		return 1 << 40
	}
	return slices.Max(m.ids) + 1<<40
}

// visible reports whether owner sees b.
func visible(b *modelBusiness, owner int64) bool { return b != nil && b.owner == owner && !b.deleted }

var keyPool = []string{"k1", "k2", "k3", "9f3c2a7e-1b6d-4d0e-a8f5-3c1e2b7d9a10", "with space", "~!@#$%^&*()"}

func (m *model) create() {
	owner := m.randomOwner()
	key := ""
	if m.r.IntN(3) > 0 {
		key = keyPool[m.r.IntN(len(keyPool))]
	}
	ms, c := fullBody(m.r)
	prev := m.keys[ownerKey{owner, key}]
	if prev != nil && m.r.IntN(2) == 0 {
		// A retry of the create that used the key: the same content,
		// spelled another way.
		ms, c = m.respellOf(prev.c), prev.c
	}
	body := encodeBody(ms)
	a := m.send(call{method: "POST", path: "/v1/businesses", owner: owner, body: &body,
		header: map[string]string{"Idempotency-Key": key, "Content-Type": "application/json"}})
	switch {
	case prev != nil && prev.c.equal(c):
		m.expect(a, 201)
		if !bytes.Equal(a.body, prev.answer) || a.header.Get("Idempotent-Replayed") != "true" ||
			a.header.Get("Location") != path(prev.id) || a.header.Get("ETag") != `"1"` {
			m.fail("replay of key %q: %s %v, want the first answer %s", key, a, a.header, prev.answer)
		}
	case prev != nil:
		m.expect(a, 422)
	default:
		m.expect(a, 201)
		w, err := decodeBusiness(a.body)
		if err != nil {
			m.fail("create: %s: %v", a, err)
		}
		id, _ := strconv.ParseInt(w.ID, 10, 64)
		if _, ok := m.bs[id]; ok || id <= 0 {
			m.fail("create gave id %s, already used", w.ID)
		}
		b := &modelBusiness{id: id, owner: owner, c: c, version: 1, createdAt: w.CreatedAt, updated: w.UpdatedAt}
		if !w.CreatedAt.Equal(w.UpdatedAt) {
			m.fail("created %v, updated %v", w.CreatedAt, w.UpdatedAt)
		}
		m.checkBusiness(a, b)
		if a.header.Get("Location") != path(id) || a.header.Get("Idempotent-Replayed") != "" {
			m.fail("create: headers %v", a.header)
		}
		m.bs[id] = b
		m.ids = append(m.ids, id)
		if key != "" {
			m.keys[ownerKey{owner, key}] = &modelKey{c: c, answer: a.body, id: id}
		}
	}
}

// respellOf returns a body that stores exactly c, in a spelling of its own.
func (m *model) respellOf(c content) []member {
	ms := []member{
		{"name", jsonString(c.Name)}, {"category", jsonString(c.Category)},
		{"lat", strconv.FormatFloat(c.Lat, 'g', -1, 64)}, {"lon", strconv.FormatFloat(c.Lon, 'g', -1, 64)},
	}
	for _, f := range []struct{ name, v string }{
		{"address", c.Address}, {"city", c.City}, {"state", c.State}, {"country", c.Country}, {"zip", c.Zip},
		{"description", c.Description},
	} {
		if f.v != "" || m.r.IntN(2) == 0 {
			ms = append(ms, member{f.name, jsonString(f.v)})
		}
	}
	if len(c.Photos) > 0 || m.r.IntN(2) == 0 {
		b, _ := json.Marshal(c.Photos)
		ms = append(ms, member{"photos", string(b)})
	}
	if c.Price != 0 {
		ms = append(ms, member{"price", strconv.Itoa(c.Price)})
	}
	if !math.IsNaN(c.Rating) {
		ms = append(ms, member{"rating", strconv.FormatFloat(c.Rating, 'f', 1, 64)})
	}
	if c.ReviewCount != 0 || m.r.IntN(2) == 0 {
		ms = append(ms, member{"review_count", strconv.FormatInt(c.ReviewCount, 10)})
	}
	if c.Hours != "null" {
		ms = append(ms, member{"hours", c.Hours})
	}
	return respell(m.r, ms)
}

// ifMatch returns an If-Match header for b ("" for none) and the version
// it names: -1 none, 0 any, -2 one that never matches.
func (m *model) ifMatch(b *modelBusiness) (string, int64) {
	v := int64(1)
	if b != nil {
		v = b.version
	}
	switch m.r.IntN(10) {
	case 0:
		return "", -1
	case 1:
		return "*", 0
	case 2: // stale
		if v > 1 {
			old := 1 + m.r.Int64N(v-1)
			return etag(old), old
		}
		return etag(v + 1), v + 1
	case 3: // the bare version, a documented leniency
		return strconv.FormatInt(v, 10), v
	case 4: // weak: never matches
		return "W/" + etag(v), -2
	}
	return etag(v), v
}

// conditional is the status the model expects of owner's conditional
// write of b (nil: no such business) whose request was otherwise valid:
// 200 (204 for a delete) when it applies.
func (m *model) conditional(b *modelBusiness, owner, version int64) int {
	switch {
	case version == -2:
		return 412 // refused before the business is looked up
	case !visible(b, owner):
		return 404
	case version != 0 && version != b.version:
		return 412
	}
	return 200
}

// checkUnchanged reads b as its owner and checks it is as the model says:
// what a refused request left alone, or what an acknowledged one stored.
func (m *model) checkUnchanged(b *modelBusiness) {
	m.t.Helper()
	if b == nil {
		return
	}
	a := m.send(call{method: "GET", path: m.pathSpelling(b.id), owner: b.owner})
	if b.deleted {
		m.expect(a, 404)
		return
	}
	m.expect(a, 200)
	m.checkBusiness(a, b)
}

func (m *model) update(patch bool) {
	owner := m.randomOwner()
	b := m.pick(owner)
	id := m.missingID()
	if b != nil {
		id = b.id
	}
	header, version := m.ifMatch(b)
	var body string
	var change func(*content)
	invalid := m.r.IntN(8) == 0
	switch {
	case invalid:
		body = invalidBodies[m.r.IntN(len(invalidBodies))]
		if !patch && m.r.IntN(4) == 0 { // valid as a patch, not as a replacement
			body = []string{`{}`, `{"name":"A","city":"x"}`}[m.r.IntN(2)]
		}
	case patch:
		var ms []member
		ms, change = patchBody(m.r)
		body = encodeBody(ms)
	default:
		ms, c := fullBody(m.r)
		body = encodeBody(ms)
		change = func(cur *content) { *cur = c }
	}
	method, ct := "PUT", "application/json"
	if patch {
		method = "PATCH"
		ct = []string{"application/merge-patch+json", "application/json", "application/merge-patch+json; charset=utf-8"}[m.r.IntN(3)]
	}
	a := m.send(call{method: method, path: m.pathSpelling(id), owner: owner, body: &body,
		header: map[string]string{"If-Match": header, "Content-Type": ct}})
	switch {
	case version == -1:
		m.expect(a, 428)
	case version == -2: // refused before the body is read
		m.expect(a, 412)
	case invalid:
		m.expect(a, 400)
	default:
		status := m.conditional(b, owner, version)
		m.expect(a, status)
		if status != 200 {
			break
		}
		next := b.c
		change(&next)
		if !next.equal(b.c) {
			w, err := decodeBusiness(a.body)
			if err != nil {
				m.fail("%s: %v", a, err)
			}
			if !w.UpdatedAt.After(b.updated) {
				m.fail("business %d changed; updated_at %v, was %v", b.id, w.UpdatedAt, b.updated)
			}
			b.c, b.version, b.updated = next, b.version+1, w.UpdatedAt
		}
		m.checkBusiness(a, b)
	}
	m.checkUnchanged(b)
}

func (m *model) delete() {
	owner := m.randomOwner()
	b := m.pick(owner)
	id := m.missingID()
	if b != nil {
		id = b.id
	}
	header, version := m.ifMatch(b)
	a := m.send(call{method: "DELETE", path: m.pathSpelling(id), owner: owner, header: map[string]string{"If-Match": header}})
	if version == -1 {
		version = 0 // optional here
	}
	switch status := m.conditional(b, owner, version); status {
	case 200:
		m.expect(a, 204)
		if len(a.body) != 0 {
			m.fail("delete answered %q", a.body)
		}
		b.deleted = true
		b.version++
	default:
		m.expect(a, status)
	}
	m.checkUnchanged(b)
}

func (m *model) get() {
	owner := m.randomOwner()
	b := m.pick(owner)
	id := m.missingID()
	if b != nil {
		id = b.id
	}
	h := map[string]string{}
	inm := m.r.IntN(3) == 0
	if inm && b != nil {
		h["If-None-Match"] = etag(b.version)
	}
	a := m.send(call{method: "GET", path: m.pathSpelling(id), owner: owner, header: h})
	switch {
	case !visible(b, owner):
		m.expect(a, 404)
	case inm:
		m.expect(a, 304)
		if len(a.body) != 0 || a.header.Get("ETag") != etag(b.version) {
			m.fail("304 with %v %q", a.header, a.body)
		}
	default:
		m.expect(a, 200)
		m.checkBusiness(a, b)
	}
}

// invalidCreate sends a create the API must refuse and checks that it
// neither created anything nor used its key.
func (m *model) invalidCreate() {
	owner := m.randomOwner()
	// A refused create does not use its key: the key's next valid create
	// is a create, not a replay.
	key := keyPool[m.r.IntN(len(keyPool))]
	body := invalidBodies[m.r.IntN(len(invalidBodies))]
	h := map[string]string{"Idempotency-Key": key}
	want := 400
	switch m.r.IntN(4) {
	case 0:
		h["Idempotency-Key"] = strings.Repeat("k", nearby.MaxIdempotencyKey+1)
		ms, _ := fullBody(m.r)
		body = encodeBody(ms)
	case 1:
		h["Content-Type"] = "text/plain"
		want = 415
	}
	m.expect(m.send(call{method: "POST", path: "/v1/businesses", owner: owner, body: &body, header: h}), want)
}

// list reads every owner's businesses, page by page, and compares them
// with the model.
func (m *model) list() {
	m.t.Helper()
	for _, owner := range m.owners {
		var got []int64
		cursor := ""
		for {
			a := m.send(call{method: "GET", path: "/v1/owners/me/businesses?limit=" + strconv.Itoa(1+m.r.IntN(7)) + cursor, owner: owner})
			m.expect(a, 200)
			var page struct {
				Results    []json.RawMessage `json:"results"`
				NextCursor *string           `json:"next_cursor"`
			}
			if err := json.Unmarshal(a.body, &page); err != nil {
				m.fail("list: %v", err)
			}
			for _, raw := range page.Results {
				w, err := decodeBusiness(raw)
				if err != nil {
					m.fail("list: %v", err)
				}
				id, _ := strconv.ParseInt(w.ID, 10, 64)
				b := m.bs[id]
				if !visible(b, owner) {
					m.fail("owner %d's list has business %d", owner, id)
				}
				if !w.content().equal(b.c) || w.Version != b.version || !w.UpdatedAt.Equal(b.updated) {
					m.fail("owner %d's list has %v version %d, want %v version %d", owner, w.content(), w.Version, b.c, b.version)
				}
				got = append(got, id)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = "&cursor=" + *page.NextCursor
		}
		var want []int64
		for _, id := range m.ids {
			if visible(m.bs[id], owner) {
				want = append(want, id)
			}
		}
		if !slices.Equal(got, want) {
			m.fail("owner %d lists %v, want %v", owner, got, want)
		}
	}
}

// checkDatabase compares every row of the model's owners, and their
// idempotency keys, with the model.
func (m *model) checkDatabase() {
	m.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, m.s.dsn)
	if err != nil {
		m.t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id, owner_id, name, category, lat, lon, address, city, state, country, zip,
		description, photos, price, rating, review_count, hours::text, version, created_at, updated_at, deleted_at IS NOT NULL
		FROM businesses WHERE owner_id = ANY($1) ORDER BY id`, m.owners)
	if err != nil {
		m.t.Fatal(err)
	}
	var seen []int64
	for rows.Next() {
		var id, owner, version int64
		var c content
		var price, rating *int
		var hoursText *string
		var created, updated time.Time
		var deleted bool
		if err := rows.Scan(&id, &owner, &c.Name, &c.Category, &c.Lat, &c.Lon, &c.Address, &c.City, &c.State,
			&c.Country, &c.Zip, &c.Description, &c.Photos, &price, &rating, &c.ReviewCount, &hoursText,
			&version, &created, &updated, &deleted); err != nil {
			m.t.Fatal(err)
		}
		c.Rating, c.Hours = math.NaN(), "null"
		if price != nil {
			c.Price = *price
		}
		if rating != nil {
			c.Rating = float64(*rating) / 10
		}
		if hoursText != nil {
			// jsonb orders keys its own way: compare as documents.
			c.Hours = canonicalJSON(*hoursText)
		}
		seen = append(seen, id)
		b := m.bs[id]
		if b == nil {
			m.fail("database holds business %d of owner %d, unknown to the model (a duplicate?)", id, owner)
		}
		want := b.c
		want.Hours = canonicalJSON(want.Hours)
		if owner != b.owner || !c.equal(want) || version != b.version || deleted != b.deleted ||
			!created.Equal(b.createdAt) || (!deleted && !updated.Equal(b.updated)) {
			m.fail("database row %d: owner %d %v version %d deleted %v created %v updated %v; model: %+v",
				id, owner, c, version, deleted, created, updated, b)
		}
	}
	if err := rows.Err(); err != nil {
		m.t.Fatal(err)
	}
	if !slices.Equal(seen, m.ids) {
		m.fail("database holds businesses %v, model %v", seen, m.ids)
	}
	keys := map[ownerKey]int64{}
	krows, err := conn.Query(ctx, `SELECT owner_id, key, business_id FROM idempotency_keys WHERE owner_id = ANY($1)`, m.owners)
	if err != nil {
		m.t.Fatal(err)
	}
	for krows.Next() {
		var k ownerKey
		var id int64
		if err := krows.Scan(&k.owner, &k.key, &id); err != nil {
			m.t.Fatal(err)
		}
		keys[k] = id
	}
	if err := krows.Err(); err != nil {
		m.t.Fatal(err)
	}
	if len(keys) != len(m.keys) {
		m.fail("database holds %d idempotency keys, model %d: %v", len(keys), len(m.keys), keys)
	}
	for k, mk := range m.keys {
		if keys[k] != mk.id {
			m.fail("key %v names business %d, want %d", k, keys[k], mk.id)
		}
	}
}

// canonicalJSON re-encodes a JSON document with sorted keys.
func canonicalJSON(doc string) string {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return "invalid JSON: " + doc
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// envInt reads a positive integer knob of a longer run.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func TestModel(t *testing.T) {
	s := newDBServer(t)
	seeds := []uint64{1, 2, 3}
	if n := envInt(t, "NEARBY_MODEL_SEEDS", 0); n > 0 {
		seeds = seeds[:0]
		for range n {
			seeds = append(seeds, rand.Uint64())
		}
	}
	if n := envInt(t, "NEARBY_MODEL_SEED", 0); n > 0 {
		seeds = []uint64{uint64(n)}
	}
	steps := envInt(t, "NEARBY_MODEL_STEPS", 200)
	for i, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("seed %d (NEARBY_MODEL_SEED=%d replays it)", seed, seed)
			base := int64(1000 * (i + 1))
			m := &model{t: t, s: s, r: rand.New(rand.NewPCG(seed, 0)), owners: []int64{base + 1, base + 2, base + 3},
				bs: map[int64]*modelBusiness{}, keys: map[ownerKey]*modelKey{}}
			for m.step = 0; m.step < steps; m.step++ {
				switch n := m.r.IntN(100); {
				case n < 22:
					m.create()
				case n < 40:
					m.update(true)
				case n < 55:
					m.update(false)
				case n < 65:
					m.delete()
				case n < 85:
					m.get()
				case n < 95:
					m.invalidCreate()
				default:
					m.list()
				}
			}
			m.list()
			m.checkDatabase()
		})
	}
}

// writeResult is one conditional write of TestModelConcurrentIfMatch.
type writeResult struct {
	writer, n int
	based     int64 // the version If-Match named; 0 for *
	status    int
	version   int64 // of the answer, for a 200
	c         content
}

// TestModelConcurrentIfMatch: writers that each read the business, then
// replace or patch it with content of their own under If-Match (now and
// then a stale tag, or *), all at once. Every write based on one version
// but one gets 412; the versions of the successful writes are exactly
// 2..final, one each; every 412 is explained by the success that moved its
// version on; what is stored is the last successful write. Then creates
// with one Idempotency-Key, at once: one business, the same answer to all.
func TestModelConcurrentIfMatch(t *testing.T) {
	s := newDBServer(t)
	const owner, writers = 77, 4
	attempts := envInt(t, "NEARBY_MODEL_STEPS", 200) / 8
	seed := uint64(envInt(t, "NEARBY_MODEL_SEED", 1))
	t.Logf("seed %d", seed)
	ms, c0 := fullBody(rand.New(rand.NewPCG(seed, 99)))
	body := encodeBody(ms)
	a := s.send(t, call{method: "POST", path: "/v1/businesses", owner: owner, body: &body})
	first, err := decodeBusiness(a.body)
	if a.status != 201 || err != nil {
		t.Fatalf("create: %s %v", a, err)
	}
	p := "/v1/businesses/" + first.ID

	var mu sync.Mutex
	var results []writeResult
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			<-start
			for n := range attempts {
				res, err := concurrentWrite(s, r, p, owner, w, n)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}

	byVersion := map[int64]writeResult{}
	var final int64 = 1
	for _, res := range results {
		switch {
		case res.status == 412:
			continue
		case res.status != 200:
			t.Fatalf("writer %d, write %d: status %d", res.writer, res.n, res.status)
		case res.based != 0 && res.version != res.based+1:
			t.Errorf("writer %d, write %d based on version %d made version %d", res.writer, res.n, res.based, res.version)
		}
		if prev, ok := byVersion[res.version]; ok {
			t.Errorf("version %d made twice: by writer %d (write %d) and writer %d (write %d)",
				res.version, prev.writer, prev.n, res.writer, res.n)
		}
		byVersion[res.version] = res
		final = max(final, res.version)
	}
	for v := int64(2); v <= final; v++ {
		if _, ok := byVersion[v]; !ok {
			t.Errorf("no successful write made version %d (final %d)", v, final)
		}
	}
	for _, res := range results {
		if _, ok := byVersion[res.based+1]; res.status == 412 && !ok {
			t.Errorf("writer %d, write %d based on version %d got 412, but no write made version %d",
				res.writer, res.n, res.based, res.based+1)
		}
	}
	want := c0
	if final > 1 {
		want = byVersion[final].c
	}
	a = s.send(t, call{method: "GET", path: p, owner: owner})
	got, err := decodeBusiness(a.body)
	if err != nil || got.Version != final || !got.content().equal(want) {
		t.Fatalf("stored %s (%v); want version %d, %v", a, err, final, want)
	}
	t.Logf("%d writes, %d succeeded", len(results), final-1)

	// One key, at once: one business.
	answers := make([]answer, writers)
	errs := make([]error, writers)
	start = make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			answers[w], errs[w] = s.do(call{method: "POST", path: "/v1/businesses", owner: owner, body: &body,
				header: map[string]string{"Idempotency-Key": "at-once"}})
		})
	}
	close(start)
	wg.Wait()
	replayed := 0
	for w, a := range answers {
		if errs[w] != nil || a.status != 201 || !bytes.Equal(a.body, answers[0].body) {
			t.Fatalf("create %d with the shared key: %s %v; first: %s", w, a, errs[w], answers[0])
		}
		if a.header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != writers-1 {
		t.Errorf("%d of %d answers replayed, want %d", replayed, writers, writers-1)
	}
	var n int
	conn, err := pgx.Connect(context.Background(), s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM businesses WHERE owner_id = $1", owner).Scan(&n); err != nil || n != 2 {
		t.Errorf("owner has %d businesses (%v), want 2", n, err)
	}
}

// concurrentWrite reads the business at p, then replaces or patches it
// under If-Match with a name no other write uses.
func concurrentWrite(s *dbServer, r *rand.Rand, p string, owner int64, w, n int) (writeResult, error) {
	res := writeResult{writer: w, n: n}
	a, err := s.do(call{method: "GET", path: p, owner: owner})
	if err != nil {
		return res, err
	}
	cur, err := decodeBusiness(a.body)
	if err != nil {
		return res, fmt.Errorf("read: %s: %w", a, err)
	}
	res.based = cur.Version
	tag := etag(cur.Version)
	switch k := r.IntN(10); {
	case k == 0 && cur.Version > 1:
		res.based = cur.Version - 1
		tag = etag(res.based)
	case k == 1:
		res.based, tag = 0, "*"
	}
	name := fmt.Sprintf("writer %d, write %d", w, n)
	var body string
	method := "PATCH"
	var change func(*content)
	if r.IntN(2) == 0 {
		var ms []member
		ms, change = patchBody(r)
		ms = slices.DeleteFunc(ms, func(m member) bool { return m.name == "name" })
		body = encodeBody(append(ms, member{"name", jsonString(name)}))
	} else {
		method = "PUT"
		ms, c := fullBody(r)
		ms = slices.DeleteFunc(ms, func(m member) bool { return m.name == "name" })
		body = encodeBody(append(ms, member{"name", jsonString(name)}))
		change = func(cur *content) { *cur = c }
	}
	a, err = s.do(call{method: method, path: p, owner: owner, body: &body, header: map[string]string{"If-Match": tag}})
	if err != nil {
		return res, err
	}
	res.status = a.status
	if a.status != 200 {
		return res, nil
	}
	got, err := decodeBusiness(a.body)
	if err != nil {
		return res, fmt.Errorf("%s %s: %s: %w", method, body, a, err)
	}
	res.version, res.c = got.Version, got.content()
	if res.based != 0 {
		// Based on a known version: the answer is that version changed.
		want := cur.content()
		change(&want)
		want.Name = name
		if !res.c.equal(want) {
			return res, fmt.Errorf("%s based on version %d: answer %v, want %v", method, res.based, res.c, want)
		}
	} else if res.c.Name != name {
		return res, fmt.Errorf("%s with If-Match *: answer %v lacks the name %q", method, res.c, name)
	}
	return res, nil
}
