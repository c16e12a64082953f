package httpapi

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/httpx"
)

// The internal shard API lets one search node ask another for a region's
// part of a search (see package internal/cluster for the client). Floats
// are written in their shortest exact form, so merged answers are exact.

func shardNearby(svc nearby.ShardService) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		region, q, after, err := parseShard(httpx.Query(r)) // pairs that do not decode are not seen, as with r.URL.Query
		if err != nil {
			return err
		}
		a, err := svc.Shard(r.Context(), region, q, after)
		if err != nil {
			return err
		}
		return writeShardAnswer(w, a)
	}
}

// writeShardAnswer writes a region's part of a search. Floats are written
// in their shortest exact form, so merged answers are exact.
func writeShardAnswer(w http.ResponseWriter, a *nearby.ShardAnswer) error {
	b := append(make([]byte, 0, 4096), `{"region":`...)
	b = appendString(b, a.Region)
	b = append(b, `,"version":"`...)
	b = strconv.AppendUint(b, a.Version, 10)
	b = append(b, `","results":`...)
	b = appendResults(b, a.Results, answerShape{distance: true})
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(a.Total), 10)
	b = append(b, `,"total_capped":`...)
	b = strconv.AppendBool(b, a.TotalCapped)
	if a.Counts != nil {
		b = append(b, `,"counts":[`...)
		for i, n := range a.Counts {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		b = append(b, ']')
	}
	w.Header().Set("Content-Type", "application/json")
	return httpx.Write(w, append(b, "}\n"...))
}

// shardDensity answers GET /internal/v1/shard/density: one region's
// density grid; category is a bit set of categories (0: all).
func shardDensity(svc nearby.ShardService) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		// As on the other shard routes, unknown parameters are ignored and
		// a repeated one counts with its first value: nodes of different
		// releases may share a cluster.
		known := []string{"region", "min_lat", "min_lon", "max_lat", "max_lon", "cols", "rows", "category"}
		all := httpx.Query(r)
		var v httpx.Values
		for _, name := range known {
			if s := all.Get(name); s != "" {
				v = append(v, httpx.Pair{Name: name, Value: s})
			}
		}
		p := httpx.NewParams(v, known...)
		g := nearby.DensityGrid{
			Box: geo.Rect{MinLat: p.FloatIn("min_lat", -90, 90), MinLon: p.FloatIn("min_lon", -180, 180),
				MaxLat: p.FloatIn("max_lat", -90, 90), MaxLon: p.FloatIn("max_lon", -180, 180)},
			Cols: p.IntIn("cols", 0, 1, nearby.MaxDensityCells), Rows: p.IntIn("rows", 0, 1, nearby.MaxDensityCells),
		}
		if s := p.Get("category"); s != "" {
			cats, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				p.Fail("category", "not a bit mask")
			}
			g.Categories = nearby.CategorySet(cats)
		}
		if err := p.Err(); err != nil {
			return err
		}
		a, err := svc.ShardDensity(r.Context(), p.Get("region"), g)
		if err != nil {
			return err
		}
		return writeShardAnswer(w, a)
	}
}

func shardBusiness(svc nearby.ShardService) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			return nearby.InvalidParams([]nearby.InvalidParam{{Name: "id", Reason: "not an integer"}})
		}
		b, err := svc.LocalBusiness(r.Context(), httpx.Query(r).Get("region"), id)
		if nearby.ErrorCode(err) == nearby.ENOTFOUND {
			w.Header().Set(httpx.NotHeldHeader, "business")
		}
		if err != nil {
			return err
		}
		return httpx.WriteJSON(w, http.StatusOK, summaryJSON(b))
	}
}

// parseShard reads a shard query: region, lat, lon, radius, limit,
// category and price (decimal bit masks), min_rating (nearby.Rating's
// number), open_at (RFC 3339 with nanoseconds), q, sort (distance or
// rating), total, and the optional after_rating/after_distance/after_id.
func parseShard(v httpx.Values) (string, nearby.SearchQuery, *nearby.Cursor, error) {
	var q nearby.SearchQuery
	var bad []nearby.InvalidParam
	num := func(name string) float64 {
		f, err := strconv.ParseFloat(v.Get(name), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			bad = append(bad, nearby.InvalidParam{Name: name, Reason: "not a finite number"})
		}
		return f
	}
	q.Lat, q.Lon, q.RadiusM = num("lat"), num("lon"), num("radius")
	limit, err := strconv.Atoi(v.Get("limit"))
	if err != nil {
		bad = append(bad, nearby.InvalidParam{Name: "limit", Reason: "not an integer"})
	}
	q.Limit = limit
	if s := v.Get("category"); s != "" {
		mask, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			bad = append(bad, nearby.InvalidParam{Name: "category", Reason: "not a bit mask"})
		}
		q.Categories = nearby.CategorySet(mask)
	}
	uint8Param := func(name string) uint8 {
		if !v.Has(name) {
			return 0
		}
		n, err := strconv.ParseUint(v.Get(name), 10, 8)
		if err != nil {
			bad = append(bad, nearby.InvalidParam{Name: name, Reason: "not a small integer"})
		}
		return uint8(n)
	}
	q.Prices = nearby.PriceSet(uint8Param("price"))
	q.MinRating = nearby.Rating(uint8Param("min_rating"))
	if s := v.Get("open_at"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			bad = append(bad, nearby.InvalidParam{Name: "open_at", Reason: "not an RFC 3339 time"})
		}
		q.OpenAt = t
	}
	q.Name = v.Get("q")
	if v.Get("sort") == "rating" {
		q.Sort = nearby.SortRating
	}
	q.Total = v.Get("total") == "true"
	var after *nearby.Cursor
	if v.Has("after_distance") {
		d := num("after_distance")
		id, err := strconv.ParseInt(v.Get("after_id"), 10, 64)
		if err != nil {
			bad = append(bad, nearby.InvalidParam{Name: "after_id", Reason: "not an integer"})
		}
		after = &nearby.Cursor{Rating: nearby.Rating(uint8Param("after_rating")), DistanceM: d, ID: id}
	}
	return v.Get("region"), q, after, nearby.InvalidParams(bad)
}

// shardAreaRequest is the body of POST /internal/v1/shard/area: one
// region's part of a box or polygon search (see cluster.Client.Area).
type shardAreaRequest struct {
	Region     string          `json:"region"`
	Box        *geo.Rect       `json:"box"`   // when Shape is null
	Shape      json.RawMessage `json:"shape"` // GeoJSON, as the client sent it
	Limit      int             `json:"limit"`
	Categories uint32          `json:"category"`
	Prices     uint8           `json:"price"`
	MinRating  uint8           `json:"min_rating"`
	OpenAt     *time.Time      `json:"open_at"`
	Name       string          `json:"q"`
	ByDistance bool            `json:"by_distance"`
	After      *struct {
		DistanceM float64 `json:"distance_m"`
		ID        int64   `json:"id"`
	} `json:"after"`
}

func shardArea(svc nearby.ShardService) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req shardAreaRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2*geo.MaxGeoJSONBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return nearby.InvalidParams([]nearby.InvalidParam{{Name: "body", Reason: bodyReadReason(err)}})
		}
		q := nearby.AreaQuery{Limit: req.Limit, Categories: nearby.CategorySet(req.Categories), ByDistance: req.ByDistance}
		q.Prices, q.MinRating, q.Name = nearby.PriceSet(req.Prices), nearby.Rating(req.MinRating), req.Name
		if req.OpenAt != nil {
			q.OpenAt = *req.OpenAt
		}
		switch {
		case len(req.Shape) > 0 && string(req.Shape) != "null":
			shape, err := geo.ParseGeoJSON(req.Shape)
			if err != nil {
				return nearby.InvalidParams([]nearby.InvalidParam{{Name: "shape", Reason: err.Error()}})
			}
			q.Shape = shape
		case req.Box != nil:
			q.Box = *req.Box
		default:
			return nearby.InvalidParams([]nearby.InvalidParam{{Name: "box", Reason: "give a box or a shape"}})
		}
		var after *nearby.Cursor
		if req.After != nil {
			after = &nearby.Cursor{DistanceM: req.After.DistanceM, ID: req.After.ID}
		}
		a, err := svc.ShardArea(r.Context(), req.Region, q, after)
		if err != nil {
			return err
		}
		return writeShardAnswer(w, a)
	}
}
