package dataset

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/quadtree"
)

// businessHeader is the header WriteCSV writes. ReadCSV requires its first
// requiredColumns and reads the others when present.
var businessHeader = []string{"id", "name", "category", "lat", "lon", "price", "rating", "review_count", "hours"}

// Column positions in businessHeader.
const (
	colID = iota
	colName
	colCategory
	colLat
	colLon
	colPrice
	colRating
	colReviews
	colHours
	requiredColumns = colPrice
)

// maxCachedSchedules bounds the opening hours a Writer or ReadCSV keeps
// encoded or decoded, so that a file of businesses that all have hours of
// their own costs bounded memory.
const maxCachedSchedules = 1 << 14

// Writer writes businesses as CSV (RFC 4180 quoting, "\n" line ends) with
// the header id,name,category,lat,lon,price,rating,review_count,hours: the
// category by its wire name, latitude and longitude rounded to 7 decimals
// (the index's 1e-7° grid), the price level (1 to 4), the rating in stars
// with one decimal ("4.5"), the review count, and the opening hours in their
// JSON form (package hours); a price, rating or hours not known is an empty
// cell. It buffers; call Flush at the end.
//
// Writer formats rows itself rather than through encoding/csv, because
// writing is most of the cost of a 10M-row file; it quotes exactly the
// fields encoding/csv would, and ReadCSV (which does use encoding/csv) reads
// every row back unchanged.
type Writer struct {
	w      io.Writer
	buf    []byte
	err    error                      // first write error; sticky
	header bool                       // written
	hours  map[*hours.Schedule][]byte // the CSV field of each schedule; generated ones are shared
}

// writerBuffer is the size at which Writer passes its buffer on.
const writerBuffer = 64 << 10

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, writerBuffer+512), hours: map[*hours.Schedule][]byte{}}
}

// Write writes one business, after the header if it is the first. It
// returns a nearby.EINVALID error, and writes nothing, for a business that
// ReadCSV would reject.
func (w *Writer) Write(b nearby.Business) error {
	if p := businessProblem(b); p != "" {
		return nearby.Errorf(nearby.EINVALID, "business %d: %s", b.ID, p)
	}
	if w.err != nil {
		return w.err
	}
	w.appendHeader()
	w.buf = strconv.AppendInt(w.buf, b.ID, 10)
	w.buf = append(w.buf, ',')
	w.buf = appendField(w.buf, b.Name)
	w.buf = append(w.buf, ',')
	w.buf = append(w.buf, b.Category.String()...)
	w.buf = append(w.buf, ',')
	w.buf = appendE7(w.buf, b.Lat)
	w.buf = append(w.buf, ',')
	w.buf = appendE7(w.buf, b.Lon)
	w.buf = append(w.buf, ',')
	if b.Price != 0 {
		w.buf = append(w.buf, '0'+byte(b.Price))
	}
	w.buf = append(w.buf, ',')
	if t := b.Rating.Tenths(); b.Rating.Rated() {
		w.buf = append(strconv.AppendInt(w.buf, int64(t/10), 10), '.', byte('0'+t%10))
	}
	w.buf = append(w.buf, ',')
	w.buf = strconv.AppendUint(w.buf, uint64(b.ReviewCount), 10)
	w.buf = append(w.buf, ',')
	if b.Hours != nil && b.Hours.Known() {
		w.buf = append(w.buf, w.hoursField(b.Hours)...)
	}
	w.buf = append(w.buf, '\n')
	if len(w.buf) >= writerBuffer {
		w.flushBuffer()
	}
	return w.err
}

// hoursField returns the CSV field of opening hours s, quoted JSON.
func (w *Writer) hoursField(s *hours.Schedule) []byte {
	f, ok := w.hours[s]
	if !ok {
		text, _ := s.MarshalJSON() // cannot fail
		f = appendField(nil, string(text))
		if len(w.hours) == maxCachedSchedules {
			clear(w.hours)
		}
		w.hours[s] = f
	}
	return f
}

func (w *Writer) appendHeader() {
	if !w.header {
		w.header = true
		w.buf = append(w.buf, strings.Join(businessHeader, ",")+"\n"...)
	}
}

func (w *Writer) flushBuffer() {
	if w.err == nil && len(w.buf) > 0 {
		_, w.err = w.w.Write(w.buf)
	}
	w.buf = w.buf[:0]
}

// Flush writes the header if no business was written, then any buffered
// data, and reports the first write error.
func (w *Writer) Flush() error {
	w.appendHeader()
	w.flushBuffer()
	return w.err
}

// appendField appends f as a CSV field, quoted when encoding/csv would quote
// it: when it contains a comma, a double quote, CR or LF, starts with a
// space, or is \. (which some tools read as end of data).
func appendField(dst []byte, f string) []byte {
	r, _ := utf8.DecodeRuneInString(f)
	if !strings.ContainsAny(f, ",\"\r\n") && !unicode.IsSpace(r) && f != `\.` {
		return append(dst, f...)
	}
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(f, '"')
		if i < 0 {
			break
		}
		dst = append(dst, f[:i+1]...)
		dst = append(dst, '"')
		f = f[i+1:]
	}
	dst = append(dst, f...)
	return append(dst, '"')
}

// appendE7 appends degrees x rounded to 7 decimals, e.g. -0.1278000. For a
// value already on the 1e-7 grid the digits are exact, so parsing them gives
// x back.
func appendE7(dst []byte, x float64) []byte {
	v := int64(math.Round(x * 1e7)) // |x| <= 180: no overflow
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	dst = strconv.AppendInt(dst, v/1e7, 10)
	frac := v % 1e7
	var digits [8]byte // "." and 7 digits
	digits[0] = '.'
	for i := 7; i > 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(dst, digits[:]...)
}

// WriteCSV writes bs to w as CSV in the format of Writer.
func WriteCSV(w io.Writer, bs []nearby.Business) error {
	cw := NewWriter(w)
	for _, b := range bs {
		if err := cw.Write(b); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// ReadCSV reads businesses from CSV in the format WriteCSV writes, calling
// fn for each in order, and stops at the first error fn returns (which it
// returns as is).
//
// The first record must be a header naming the columns id, name, category,
// lat and lon, once each, in any order; the columns price, rating,
// review_count and hours are read when present (each optional; an empty
// cell is "not known"), and other columns are ignored. Quoting follows RFC
// 4180 strictly. Every row must have as many fields as the header; ids must
// be positive, names non-empty valid UTF-8 without control characters and
// at most quadtree.MaxNameLen bytes, categories known wire names, lat and
// lon finite degrees in range, prices 1 to 4, ratings 0 to 5 stars with at most one decimal, review counts 0 to
// nearby.MaxReviewCount and hours valid JSON of package hours. Coordinates
// are rounded to 1e-7°, the index's resolution. Businesses with the same
// hours share one *hours.Schedule (as generated ones do), up to a bound on
// the distinct schedules remembered. Duplicate ids are not detected.
//
// A malformed header or row is a nearby.EINVALID error naming its line (the
// header is line 1); ReadCSV never panics. Errors reading r are returned
// wrapped.
func ReadCSV(r io.Reader, fn func(nearby.Business) error) error {
	schedules := scheduleCache{}
	return readRows(r, businessHeader, requiredColumns, func(rec []string, lay layout) (nearby.Business, string) {
		return parseBusiness(rec, lay, schedules)
	}, fn)
}

// parseBusiness parses one row; a non-empty problem says what is wrong.
func parseBusiness(rec []string, lay layout, schedules scheduleCache) (b nearby.Business, problem string) {
	if p := lay.check(rec); p != "" {
		return b, p
	}
	cols := lay.cols
	var err error
	f := rec[cols[colID]]
	if b.ID, err = strconv.ParseInt(f, 10, 64); err != nil {
		return b, fmt.Sprintf("bad id %q: not an integer in int64 range", f)
	}
	// Not a slice of the row: encoding/csv returns a row's fields as slices
	// of one string, which a kept name would keep whole.
	b.Name = strings.Clone(rec[cols[colName]])
	f = rec[cols[colCategory]]
	if b.Category, err = nearby.ParseCategory(f); err != nil {
		return b, fmt.Sprintf("unknown category %q", f)
	}
	if b.Lat, problem = parseDegrees(rec[cols[colLat]], "lat"); problem != "" {
		return b, problem
	}
	if b.Lon, problem = parseDegrees(rec[cols[colLon]], "lon"); problem != "" {
		return b, problem
	}
	// The optional attributes: an absent column or an empty cell is "not known".
	field := func(col int) string {
		if c := cols[col]; c >= 0 {
			return rec[c]
		}
		return ""
	}
	if f := field(colPrice); f != "" {
		p, err := strconv.Atoi(f)
		if err != nil || p < 1 || p > int(nearby.MaxPrice) {
			return b, fmt.Sprintf("bad price %q: want 1 to %d, or empty", f, nearby.MaxPrice)
		}
		b.Price = nearby.Price(p)
	}
	if f := field(colRating); f != "" {
		if b.Rating, err = nearby.ParseRating(f); err != nil {
			return b, fmt.Sprintf("bad rating %q: want 0 to 5 stars with at most one decimal, or empty", f)
		}
	}
	if f := field(colReviews); f != "" {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil || n > nearby.MaxReviewCount {
			return b, fmt.Sprintf("bad review_count %q: want an integer from 0 to %d, or empty", f, nearby.MaxReviewCount)
		}
		b.ReviewCount = uint32(n)
	}
	if f := field(colHours); f != "" {
		if b.Hours, err = schedules.get(f); err != nil {
			return b, fmt.Sprintf("bad hours: %v", err)
		}
	}
	if p := businessProblem(b); p != "" {
		return b, p
	}
	b.Lat, b.Lon = roundE7(b.Lat), roundE7(b.Lon)
	return b, ""
}

// businessProblem says what makes b unfit for the CSV format, or "".
func businessProblem(b nearby.Business) string {
	switch {
	case b.ID <= 0:
		return fmt.Sprintf("bad id %d: must be positive", b.ID)
	case b.Name == "":
		return "empty name"
	case !utf8.ValidString(b.Name):
		return fmt.Sprintf("name %q is not valid UTF-8", b.Name)
	case strings.ContainsFunc(b.Name, unicode.IsControl):
		return fmt.Sprintf("name %q contains a control character", b.Name)
	case len(b.Name) > quadtree.MaxNameLen:
		return fmt.Sprintf("name of %d bytes: the index keeps at most %d", len(b.Name), quadtree.MaxNameLen)
	case !b.Category.Valid():
		return fmt.Sprintf("unknown category %d", b.Category)
	case !b.Price.Valid():
		return fmt.Sprintf("price %d out of range 1 to %d", b.Price, nearby.MaxPrice)
	case !b.Rating.Valid():
		return "rating out of range 0 to 5 stars"
	case b.ReviewCount > nearby.MaxReviewCount:
		return fmt.Sprintf("review count %d over %d", b.ReviewCount, nearby.MaxReviewCount)
	}
	return latLonProblem(b.Lat, b.Lon)
}

// scheduleCache decodes opening hours once per distinct JSON text, so that
// businesses with the same hours share one *hours.Schedule. It forgets
// everything when it holds maxCachedSchedules.
type scheduleCache map[string]*hours.Schedule

// get returns the schedule of text; nil for "null" (unknown).
func (c scheduleCache) get(text string) (*hours.Schedule, error) {
	if s, ok := c[text]; ok {
		return s, nil
	}
	s := new(hours.Schedule)
	if err := s.UnmarshalJSON([]byte(text)); err != nil {
		return nil, err
	}
	if !s.Known() {
		s = nil
	}
	if len(c) == maxCachedSchedules {
		clear(c)
	}
	c[strings.Clone(text)] = s // not the row's memory
	return s, nil
}

// latLonProblem says what is wrong with a pair of coordinates, or "".
func latLonProblem(lat, lon float64) string {
	switch {
	case !(lat >= -90 && lat <= 90): // NaN too
		return fmt.Sprintf("lat %v out of range [-90, 90]", lat)
	case !(lon >= -180 && lon <= 180):
		return fmt.Sprintf("lon %v out of range [-180, 180]", lon)
	}
	return ""
}

// parseDegrees parses a coordinate field named col.
func parseDegrees(f, col string) (float64, string) {
	x, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return 0, fmt.Sprintf("bad %s %q: not a number", col, f)
	}
	return x, ""
}

// layout is where a CSV file keeps the columns a reader wants.
type layout struct {
	names []string // the wanted columns
	cols  []int    // position of names[i] in the header; -1 for an optional column it lacks
	width int      // number of header fields
}

// check says what is wrong with the number of fields of rec, or "".
func (l layout) check(rec []string) string {
	switch {
	case len(rec) == l.width:
		return ""
	case len(rec) > l.width:
		return fmt.Sprintf("%d fields, but the header has %d", len(rec), l.width)
	}
	for i, c := range l.cols {
		if c >= len(rec) {
			return fmt.Sprintf("missing field %q (%d fields, but the header has %d)", l.names[i], len(rec), l.width)
		}
	}
	return fmt.Sprintf("%d fields, but the header has %d", len(rec), l.width)
}

// openCSV starts reading a CSV whose header names each of want at most once,
// in any order, the first required of them necessarily, and returns the
// reader and the layout of the wanted columns.
func openCSV(r io.Reader, want []string, required int) (*csv.Reader, layout, error) {
	lay := layout{names: want, cols: make([]int, len(want))}
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		br.Discard(3) // a byte order mark, as spreadsheets write, maybe before a quote
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked per row by layout.check, for a better message
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if err == io.EOF {
		return nil, lay, nearby.Errorf(nearby.EINVALID, "line 1: missing header (want %s)", strings.Join(want, ","))
	}
	if err != nil {
		return nil, lay, csvError(err)
	}
	lay.width = len(hdr)
	for i, name := range want {
		lay.cols[i] = -1
		for j, h := range hdr {
			if h != name {
				continue
			}
			if lay.cols[i] >= 0 {
				return nil, lay, nearby.Errorf(nearby.EINVALID, "line 1: header names column %q twice", name)
			}
			lay.cols[i] = j
		}
		if lay.cols[i] < 0 && i < required {
			return nil, lay, nearby.Errorf(nearby.EINVALID, "line 1: header lacks column %q (want %s)", name, strings.Join(want[:required], ","))
		}
	}
	return cr, lay, nil
}

// readRows reads a CSV with the header openCSV checks, parses each row with
// parse (a non-empty problem is a nearby.EINVALID error naming its line),
// and calls fn for each value in order, stopping at fn's first error.
func readRows[T any](r io.Reader, want []string, required int, parse func([]string, layout) (T, string), fn func(T) error) error {
	cr, lay, err := openCSV(r, want, required)
	if err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(err)
		}
		line, _ := cr.FieldPos(0)
		v, p := parse(rec, lay)
		if p != "" {
			return nearby.Errorf(nearby.EINVALID, "line %d: %s", line, p)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
}

// csvError turns a CSV syntax error into a nearby.EINVALID error naming its
// line and wraps any other (an I/O error of the underlying reader).
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nearby.Errorf(nearby.EINVALID, "line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("read csv: %w", err)
}
