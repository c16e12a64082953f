package httpapi

import (
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/httpx"
	"github.com/nearby/nearby/internal/problem"
)

// areaRequest is a parsed box or polygon search.
type areaRequest struct {
	query   nearby.AreaQuery
	after   *nearby.Cursor
	key     searchKey
	fields  fieldSet
	geojson bool
}

var (
	boxParams    = []string{"min_lat", "min_lon", "max_lat", "max_lon", "limit", "category", "price", "min_rating", "open_now", "open_at", "q", "order", "fields", "cursor", "format"}
	withinParams = []string{"limit", "category", "price", "min_rating", "open_now", "open_at", "q", "fields", "cursor", "format"}
)

// parseArea reads the parameters box and polygon searches share; shape is
// the polygon's GeoJSON (nil for a box), part of the cursors' key.
func parseArea(p *httpx.Params, req *areaRequest, now time.Time, shape []byte) error {
	q := &req.query
	q.Limit = p.Int("limit", nearby.DefaultLimit)
	var openNow bool
	q.Categories, q.Filters, openNow = parseFilters(p, now)
	req.fields = parseFields(p)
	req.geojson = parseGeoJSON(p)
	p.Merge(q.Validate())
	b := q.Box
	req.key = newSearchKey("area").float(b.MinLat).float(b.MinLon).float(b.MaxLat).float(b.MaxLon).bool(q.ByDistance).bytes(shape).
		filters(q.Categories, q.Filters, openNow)
	if s := p.Get("cursor"); s != "" && p.Valid() {
		c, err := decodeCursor(s, req.key)
		if err != nil {
			p.Fail("cursor", err.Error())
		}
		req.after = c
	}
	return p.Err()
}

// parseBox parses GET /v1/search/box.
func parseBox(v httpx.Values, now time.Time) (areaRequest, error) {
	var req areaRequest
	p := httpx.NewParams(v, boxParams...)
	q := &req.query
	// Each corner out of range is named itself (max_lon=181 is max_lon's
	// fault); the box as a whole (min_lat > max_lat) is named min_lat.
	q.Box = geo.Rect{
		MinLat: p.FloatIn("min_lat", -90, 90), MinLon: p.FloatIn("min_lon", -180, 180),
		MaxLat: p.FloatIn("max_lat", -90, 90), MaxLon: p.FloatIn("max_lon", -180, 180),
	}
	if !p.OK("min_lat") || !p.OK("min_lon") || !p.OK("max_lat") || !p.OK("max_lon") {
		// A corner is refused already: checking the box with it would
		// name min_lat for another's fault.
		q.Box = geo.Rect{}
	}
	q.ByDistance = p.OneOf("order", "id", "distance") == "distance"
	return req, parseArea(p, &req, now, nil)
}

func (s *Server) box(w http.ResponseWriter, r *http.Request) error {
	req, err := parseBox(httpx.Query(r), time.Now())
	if err != nil {
		return err
	}
	return s.area(w, r, req)
}

// bodyReadReason says why a request body could not be read, for the
// client: a network error's own text names the server's address and port
// (behind a balancer, an internal one), so it is not shown.
func bodyReadReason(err error) string {
	var ne *net.OpError
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "the body did not arrive in time"
	case errors.As(err, &ne):
		return "the connection failed before the body ended"
	}
	return err.Error()
}

// within answers POST /v1/search/within: a GeoJSON Polygon or MultiPolygon
// in the body, the other parameters in the query string.
func (s *Server) within(w http.ResponseWriter, r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" && mt != "application/geo+json" {
		problem.Write(w, r, http.StatusUnsupportedMediaType, "send the GeoJSON geometry as application/geo+json or application/json", nil)
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, geo.MaxGeoJSONBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		problem.Write(w, r, http.StatusRequestEntityTooLarge, "GeoJSON larger than "+strconv.Itoa(geo.MaxGeoJSONBytes)+" bytes", nil)
		return nil
	}
	if err != nil {
		return nearby.Errorf(nearby.EINVALID, "reading the body: %s", bodyReadReason(err))
	}
	var req areaRequest
	p := httpx.NewParams(httpx.Query(r), withinParams...)
	shape, perr := geo.ParseGeoJSON(body)
	if perr != nil {
		p.Fail("body", perr.Error())
	}
	req.query.Shape = shape
	if req.query.Shape == nil && perr == nil {
		p.Fail("body", "empty geometry")
	}
	if err := parseArea(p, &req, time.Now(), body); err != nil {
		return err
	}
	return s.area(w, r, req)
}

func (s *Server) area(w http.ResponseWriter, r *http.Request, req areaRequest) error {
	page, err := s.search.Area(r.Context(), req.query, req.after)
	if err != nil {
		return err
	}
	return writePage(w, page, req.key, answerShape{fields: req.fields, distance: req.query.ByDistance, total: true, geojson: req.geojson})
}
