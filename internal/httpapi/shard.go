package httpapi

import (
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/nearby/nearby"
)

// The internal shard API lets one search node ask another for a region's
// part of a search (see package internal/cluster for the client). Floats
// are written in their shortest exact form, so merged answers are exact.

func shardNearby(svc nearby.ShardService) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		region, q, after, err := parseShard(r.URL.Query())
		if err != nil {
			return err
		}
		a, err := svc.Shard(r.Context(), region, q, after)
		if err != nil {
			return err
		}
		b := append(make([]byte, 0, 4096), `{"region":`...)
		b = appendString(b, a.Region)
		b = append(b, `,"version":"`...)
		b = strconv.AppendUint(b, a.Version, 10)
		b = append(b, `","results":`...)
		b = appendResults(b, a.Results)
		w.Header().Set("Content-Type", "application/json")
		_, err = w.Write(append(b, "}\n"...))
		return err
	}
}

func shardBusiness(svc nearby.ShardService) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			return nearby.InvalidParams([]nearby.InvalidParam{{Name: "id", Reason: "not an integer"}})
		}
		b, err := svc.LocalBusiness(r.Context(), r.URL.Query().Get("region"), id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{
			"id": strconv.FormatInt(b.ID, 10), "name": b.Name, "category": b.Category.String(), "lat": b.Lat, "lon": b.Lon,
		})
	}
}

// parseShard reads a shard query: region, lat, lon, radius, limit,
// category (a decimal bit mask) and the optional after_distance/after_id.
func parseShard(v url.Values) (string, nearby.SearchQuery, *nearby.Cursor, error) {
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
	var after *nearby.Cursor
	if v.Has("after_distance") {
		d := num("after_distance")
		id, err := strconv.ParseInt(v.Get("after_id"), 10, 64)
		if err != nil {
			bad = append(bad, nearby.InvalidParam{Name: "after_id", Reason: "not an integer"})
		}
		after = &nearby.Cursor{DistanceM: d, ID: id}
	}
	return v.Get("region"), q, after, nearby.InvalidParams(bad)
}
