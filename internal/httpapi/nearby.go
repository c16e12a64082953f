package httpapi

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/httpx"
)

// nearbyRequest is a parsed GET /v1/search/nearby.
type nearbyRequest struct {
	query   nearby.SearchQuery
	after   *nearby.Cursor
	key     searchKey // binds cursors to the search
	fields  fieldSet
	geojson bool
}

var nearbyParams = []string{"lat", "lon", "radius", "limit", "category", "price", "min_rating", "open_now", "open_at", "q",
	"sort", "total", "fields", "cursor", "format"}

// parseNearby parses and validates the query parameters of a nearby search
// asked at now. Every bad parameter is named in the returned EINVALID error.
func parseNearby(v httpx.Values, now time.Time) (nearbyRequest, error) {
	var req nearbyRequest
	p := httpx.NewParams(v, nearbyParams...)
	q := &req.query
	q.Lat = p.Float("lat", 0, true)
	q.Lon = p.Float("lon", 0, true)
	q.RadiusM = p.Float("radius", nearby.DefaultRadiusM, false)
	q.Limit = p.Int("limit", nearby.DefaultLimit)
	var openNow bool
	q.Categories, q.Filters, openNow = parseFilters(p, now)
	if p.OneOf("sort", "distance", "rating") == "rating" {
		q.Sort = nearby.SortRating
	}
	q.Total = p.Bool("total")
	req.fields = parseFields(p)
	req.geojson = parseGeoJSON(p)
	p.Merge(q.Validate()) // range checks only for parameters that parsed, so each is named once
	req.key = newSearchKey("nearby").float(q.Lat).float(q.Lon).float(q.RadiusM).uint(uint64(q.Sort)).
		filters(q.Categories, q.Filters, openNow)
	if s := v.Get("cursor"); s != "" && p.Valid() {
		key := req.key
		if cursorVersion(s) == 1 && q.Filters == (nearby.Filters{}) && q.Sort == nearby.SortDistance {
			key = legacyKey(*q) // a cursor from before filters existed
		}
		c, err := decodeCursor(s, key)
		if err != nil {
			p.Fail("cursor", err.Error())
		}
		req.after = c
	}
	return req, p.Err()
}

// Cursors are opaque to clients: base64url of a format byte, the index
// version, the last result's rating, distance and id, and the search's key,
// so a cursor cannot be replayed against a different search. Format 1
// (without the rating) is still read.
const cursorFormat = 2

func encodeCursor(c *nearby.Cursor, key searchKey) string {
	var raw, text [128]byte // on the stack for any index version up to 48 bytes
	b := append(raw[:0], cursorFormat, byte(len(c.IndexVersion)))
	b = append(b, c.IndexVersion...)
	b = append(b, byte(c.Rating))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(c.DistanceM))
	b = binary.BigEndian.AppendUint64(b, uint64(c.ID))
	b = binary.BigEndian.AppendUint64(b, uint64(key))
	return string(base64.RawURLEncoding.AppendEncode(text[:0], b))
}

var (
	errCursor      = errors.New("malformed cursor")
	errCursorQuery = errors.New("cursor belongs to a different search (the parameters other than limit, total, fields and format must not change between pages)")
)

// cursorVersion returns a cursor's format byte, or 0.
func cursorVersion(s string) byte {
	if len(s) < 2 {
		return 0
	}
	b, err := base64.RawURLEncoding.DecodeString(s[:2] + "AA")
	if err != nil {
		return 0
	}
	return b[0]
}

// legacyKey is the key format-1 cursors were bound with: lat, lon, radius
// and categories.
func legacyKey(q nearby.SearchQuery) searchKey {
	return fnvOffset.float(q.Lat).float(q.Lon).float(q.RadiusM).uint(uint64(q.Categories))
}

func decodeCursor(s string, key searchKey) (*nearby.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || (b[0] != 1 && b[0] != cursorFormat) {
		return nil, errCursor
	}
	rated := b[0] == cursorFormat
	n := 2 + int(b[1]) + 24
	if rated {
		n++
	}
	if len(b) != n {
		return nil, errCursor
	}
	c := &nearby.Cursor{IndexVersion: string(b[2 : 2+b[1]])}
	b = b[2+b[1]:]
	if rated {
		c.Rating = nearby.Rating(b[0])
		b = b[1:]
	}
	c.DistanceM = math.Float64frombits(binary.BigEndian.Uint64(b))
	c.ID = int64(binary.BigEndian.Uint64(b[8:]))
	if !(c.DistanceM >= 0) || math.IsInf(c.DistanceM, 0) || !c.Rating.Valid() {
		return nil, errCursor
	}
	if searchKey(binary.BigEndian.Uint64(b[16:])) != key {
		return nil, errCursorQuery
	}
	return c, nil
}

func (s *Server) nearby(w http.ResponseWriter, r *http.Request) error {
	req, err := parseNearby(httpx.Query(r), time.Now())
	if err != nil {
		return err
	}
	page, err := s.search.Nearby(r.Context(), req.query, req.after)
	if err != nil {
		return err
	}
	return writePage(w, page, req.key, answerShape{fields: req.fields, distance: true, total: req.query.Total, geojson: req.geojson})
}

// answerShape says what a search answer shows.
type answerShape struct {
	fields   fieldSet
	distance bool // results have a distance_m
	total    bool // the answer has total and total_capped
	geojson  bool
}

func writePage(w http.ResponseWriter, page *nearby.SearchPage, key searchKey, shape answerShape) error {
	var next *string
	if page.Next != nil {
		c := encodeCursor(page.Next, key)
		next = &c
	}
	w.Header().Set("Cache-Control", "no-store")
	if shape.geojson {
		return writeGeoJSON(w, page, next, shape)
	}
	buf := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(buf)
	*buf = appendPage((*buf)[:0], page, next, shape)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// With its length known the answer goes out in one piece, not chunked.
	h.Set("Content-Length", strconv.Itoa(len(*buf)))
	return httpx.Write(w, *buf) // a Writer must not retain what it is given
}

// bodyBufs recycles the buffers JSON answers are built in.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// GeoJSON (RFC 7946): a FeatureCollection of Points, [lon, lat] order; the
// paging fields ride along as foreign members.
type featureCollection struct {
	Type         string    `json:"type"`
	Features     []feature `json:"features"`
	Count        int       `json:"count"`
	NextCursor   *string   `json:"next_cursor"`
	Partial      bool      `json:"partial"`
	Missing      []string  `json:"missing_regions,omitempty"`
	Total        *int      `json:"total,omitempty"`
	TotalCapped  *bool     `json:"total_capped,omitempty"`
	IndexVersion string    `json:"index_version"`
}

type feature struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Geometry   point          `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type point struct {
	Type        string     `json:"type"`
	Coordinates [2]float64 `json:"coordinates"`
}

func writeGeoJSON(w http.ResponseWriter, page *nearby.SearchPage, next *string, shape answerShape) error {
	fc := featureCollection{
		Type: "FeatureCollection", Features: make([]feature, len(page.Results)), Count: len(page.Results),
		NextCursor: next, Partial: page.Partial, Missing: page.Missing, IndexVersion: page.IndexVersion,
	}
	if shape.total {
		fc.Total, fc.TotalCapped = &page.Total, &page.TotalCapped
	}
	for i, res := range page.Results {
		props := map[string]any{}
		for name, v := range resultValues(res, shape) {
			if name != "id" && name != "lat" && name != "lon" {
				props[name] = v
			}
		}
		fc.Features[i] = feature{
			Type:       "Feature",
			ID:         strconv.FormatInt(res.ID, 10),
			Geometry:   point{Type: "Point", Coordinates: [2]float64{res.Lon, res.Lat}},
			Properties: props,
		}
	}
	w.Header().Set("Content-Type", "application/geo+json")
	return httpx.WriteJSON(w, http.StatusOK, fc)
}

// resultValues yields a result's selected fields as encoding/json values
// (nil for null), in resultFields order.
func resultValues(res nearby.SearchResult, shape answerShape) func(yield func(string, any) bool) {
	return func(yield func(string, any) bool) {
		for i, name := range resultFields {
			if !shape.fields.has(1<<i) || name == "distance_m" && !shape.distance {
				continue
			}
			var v any
			switch name {
			case "id":
				v = strconv.FormatInt(res.ID, 10)
			case "name":
				v = res.Name
			case "category":
				v = res.Category.String()
			case "lat":
				v = res.Lat
			case "lon":
				v = res.Lon
			case "distance_m":
				v = res.DistanceM
			case "price":
				if res.Price != 0 {
					v = int(res.Price)
				}
			case "rating":
				if res.Rating.Rated() {
					v = res.Rating.Stars()
				}
			case "review_count":
				v = res.ReviewCount
			}
			if !yield(name, v) {
				return
			}
		}
	}
}

func (s *Server) business(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return nearby.InvalidParams([]nearby.InvalidParam{{Name: "id", Reason: "must be a positive decimal integer"}})
	}
	b, err := s.search.Business(r.Context(), id)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusOK, summaryJSON(b))
}

// summaryJSON is a business as the index knows it.
func summaryJSON(b *nearby.Business) map[string]any {
	m := map[string]any{
		"id": strconv.FormatInt(b.ID, 10), "name": b.Name, "category": b.Category.String(), "lat": b.Lat, "lon": b.Lon,
		"price": nil, "rating": nil, "review_count": b.ReviewCount, "hours": b.Hours,
	}
	if b.Price != 0 {
		m["price"] = int(b.Price)
	}
	if b.Rating.Rated() {
		m["rating"] = b.Rating.Stars()
	}
	return m
}
