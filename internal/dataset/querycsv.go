package dataset

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nearby/nearby"
)

// queryHeader is the header QueryWriter writes and ReadQueriesCSV
// requires.
var queryHeader = []string{"lat", "lon", "radius_m", "limit", "categories"}

// Column positions in queryHeader.
const (
	qcolLat = iota
	qcolLon
	qcolRadius
	qcolLimit
	qcolCategories
)

// categorySep separates the category names in the categories field. It is
// not "," so the field needs no quoting.
const categorySep = "|"

// QueryWriter writes queries as CSV with the header
// lat,lon,radius_m,limit,categories: lat and lon rounded to 7 decimals as
// Writer prints them, the radius in metres in its shortest exact form, and
// the category filter as wire names joined by "|" (empty for no filter). It
// buffers; call Flush at the end.
type QueryWriter struct {
	cw     *csv.Writer
	rec    [5]string
	buf    []byte
	header bool // written
}

// NewQueryWriter returns a QueryWriter that writes to w.
func NewQueryWriter(w io.Writer) *QueryWriter { return &QueryWriter{cw: csv.NewWriter(w)} }

// Write writes one query, after the header if it is the first. It returns a
// nearby.EINVALID error, and writes nothing, for a query that ReadQueriesCSV
// would reject.
func (w *QueryWriter) Write(q Query) error {
	if p := queryProblem(q); p != "" {
		return nearby.Errorf(nearby.EINVALID, "query: %s", p)
	}
	if err := w.writeHeader(); err != nil {
		return err
	}
	w.buf = appendE7(w.buf[:0], q.Lat)
	w.rec[qcolLat] = string(w.buf)
	w.buf = appendE7(w.buf[:0], q.Lon)
	w.rec[qcolLon] = string(w.buf)
	w.rec[qcolRadius] = strconv.FormatFloat(q.RadiusM, 'f', -1, 64)
	w.rec[qcolLimit] = strconv.Itoa(q.Limit)
	w.buf = w.buf[:0]
	for i, c := range q.Categories {
		if i > 0 {
			w.buf = append(w.buf, categorySep...)
		}
		w.buf = append(w.buf, c.String()...)
	}
	w.rec[qcolCategories] = string(w.buf)
	return w.cw.Write(w.rec[:])
}

func (w *QueryWriter) writeHeader() error {
	if w.header {
		return nil
	}
	w.header = true
	return w.cw.Write(queryHeader)
}

// Flush writes the header if no query was written, then any buffered data,
// and reports the first write error.
func (w *QueryWriter) Flush() error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	w.cw.Flush()
	return w.cw.Error()
}

// ReadQueriesCSV reads queries from CSV in the format QueryWriter
// writes, calling fn for each in order, and stops at the first error fn
// returns (which it returns as is).
//
// The header rules are those of ReadCSV, with the columns lat, lon,
// radius_m, limit and categories. Coordinates must be in range and are
// rounded to 1e-7°; the radius must be in (0, nearby.MaxRadiusM] metres, the
// limit in [1, nearby.MaxLimit]; categories are known wire names separated
// by "|", or empty for no filter (Categories nil). A bad row is a
// nearby.EINVALID error naming its line; ReadQueriesCSV never panics.
func ReadQueriesCSV(r io.Reader, fn func(Query) error) error {
	return readRows(r, queryHeader, len(queryHeader), parseQuery, fn)
}

// parseQuery parses one row; a non-empty problem says what is wrong.
func parseQuery(rec []string, lay layout) (q Query, problem string) {
	if p := lay.check(rec); p != "" {
		return q, p
	}
	cols := lay.cols
	if q.Lat, problem = parseDegrees(rec[cols[qcolLat]], "lat"); problem != "" {
		return q, problem
	}
	if q.Lon, problem = parseDegrees(rec[cols[qcolLon]], "lon"); problem != "" {
		return q, problem
	}
	f := rec[cols[qcolRadius]]
	var err error
	if q.RadiusM, err = strconv.ParseFloat(f, 64); err != nil {
		return q, fmt.Sprintf("bad radius_m %q: not a number", f)
	}
	f = rec[cols[qcolLimit]]
	if q.Limit, err = strconv.Atoi(f); err != nil {
		return q, fmt.Sprintf("bad limit %q: not an integer", f)
	}
	if f = rec[cols[qcolCategories]]; f != "" {
		for name := range strings.SplitSeq(f, categorySep) {
			c, err := nearby.ParseCategory(name)
			if err != nil {
				return q, fmt.Sprintf("unknown category %q", name)
			}
			q.Categories = append(q.Categories, c)
		}
	}
	if p := queryProblem(q); p != "" {
		return q, p
	}
	q.Lat, q.Lon = roundE7(q.Lat), roundE7(q.Lon)
	return q, ""
}

// queryProblem says what makes q unfit for the CSV format, or "".
func queryProblem(q Query) string {
	if p := latLonProblem(q.Lat, q.Lon); p != "" {
		return p
	}
	switch {
	case !(q.RadiusM > 0 && q.RadiusM <= nearby.MaxRadiusM):
		return fmt.Sprintf("radius_m %v out of range (0, %d]", q.RadiusM, nearby.MaxRadiusM)
	case q.Limit < 1 || q.Limit > nearby.MaxLimit:
		return fmt.Sprintf("limit %d out of range [1, %d]", q.Limit, nearby.MaxLimit)
	}
	for _, c := range q.Categories {
		if !c.Valid() {
			return fmt.Sprintf("unknown category %d", c)
		}
	}
	return ""
}
