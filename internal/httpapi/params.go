package httpapi

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/httpx"
)

// parseFilters reads category, price, min_rating, open_now, open_at and
// q, the filters every search takes. open_now means "open at now".
func parseFilters(p *httpx.Params, now time.Time) (cats nearby.CategorySet, f nearby.Filters, openNow bool) {
	if s := p.Get("category"); s != "" {
		var err error
		if cats, err = nearby.ParseCategorySet(s); err != nil {
			p.Fail("category", nearby.ErrorMessage(err))
		}
	}
	if s := p.Get("price"); s != "" {
		var err error
		if f.Prices, err = nearby.ParsePriceSet(s); err != nil {
			p.Fail("price", err.Error())
		}
	}
	if s := p.Get("min_rating"); s != "" {
		var err error
		if f.MinRating, err = nearby.ParseRating(s); err != nil {
			p.Fail("min_rating", err.Error())
		}
	}
	openNow = p.Bool("open_now")
	if s := p.Get("open_at"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil && len(s) > 19 && s[len(s)-6] == ' ' {
			// An offset's "+" sent unencoded (…T18:30:00+01:00, as curl and
			// hand-written URLs send it) arrives as a space, since query
			// strings are form-decoded. No RFC 3339 time has a space there.
			t, err = time.Parse(time.RFC3339, s[:len(s)-6]+"+"+s[len(s)-5:])
		}
		switch {
		case err != nil:
			p.Fail("open_at", "must be an RFC 3339 time, e.g. 2026-11-27T18:30:00+01:00")
		case t.Year() < 1900 || t.Year() > 2199:
			// Time zone rules are not known outside, the zero instant is
			// Filters.OpenAt's "no filter", and cursor keys hold UnixNano.
			p.Fail("open_at", "must be a time from the years 1900 to 2199")
		case openNow:
			p.Fail("open_at", "give open_now=true or open_at, not both")
		default:
			f.OpenAt = t
		}
	}
	if openNow {
		f.OpenAt = now
	}
	f.Name = p.Get("q")
	return cats, f, openNow
}

// Result fields a client may select with fields=.
var resultFields = []string{"id", "name", "category", "lat", "lon", "distance_m", "price", "rating", "review_count"}

// fieldSet is a bit set of resultFields (bit i for resultFields[i]); 0
// means all, and fieldNone, a bit of no field, none.
type fieldSet uint16

// The bits of fieldSet, in resultFields order.
const (
	fieldID fieldSet = 1 << iota
	fieldName
	fieldCategory
	fieldLat
	fieldLon
	fieldDistance
	fieldPrice
	fieldRating
	fieldReviewCount
	fieldNone // no field: a selection without any field a search shows
)

func (s fieldSet) has(f fieldSet) bool { return s == 0 || s&f != 0 }

// without returns s less f; a selection left empty selects none, not all
// (fields=distance_m on a search without distances).
func (s fieldSet) without(f fieldSet) fieldSet {
	if s == 0 {
		s = 1<<len(resultFields) - 1
	}
	if s &^= f; s == 0 {
		return fieldNone
	}
	return s
}

// parseFields reads fields=, a comma list of resultFields.
func parseFields(p *httpx.Params) fieldSet {
	s := p.Get("fields")
	if s == "" {
		return 0
	}
	var set fieldSet
	for _, f := range strings.Split(s, ",") {
		i := slices.Index(resultFields, f)
		if i < 0 {
			p.Fail("fields", "unknown field "+strconv.Quote(f)+"; fields are "+strings.Join(resultFields, ", "))
			return 0
		}
		set |= 1 << i
	}
	return set
}

// parseGeoJSON reads format=: whether the answer is GeoJSON.
func parseGeoJSON(p *httpx.Params) bool { return p.OneOf("format", "json", "geojson") == "geojson" }

// searchKey identifies a search for its cursors: an FNV-1a (64-bit) hash
// of the parameters that define the result set and its order (not limit,
// fields or format, which may change from page to page). Numbers are
// hashed as 8 big-endian bytes, strings as their length then their bytes.
// It hashes in place: no allocation on the search path.
type searchKey uint64

const (
	fnvOffset searchKey = 14695981039346656037
	fnvPrime  searchKey = 1099511628211
)

func newSearchKey(kind string) searchKey {
	k := fnvOffset
	for i := 0; i < len(kind); i++ {
		k = (k ^ searchKey(kind[i])) * fnvPrime
	}
	return k
}

func (k searchKey) uint(v uint64) searchKey {
	for shift := 56; shift >= 0; shift -= 8 {
		k = (k ^ searchKey(byte(v>>shift))) * fnvPrime
	}
	return k
}

func (k searchKey) float(f float64) searchKey {
	if f == 0 {
		f = 0 // -0 is 0: the same search
	}
	return k.uint(math.Float64bits(f))
}

func (k searchKey) bool(b bool) searchKey {
	if b {
		return k.uint(1)
	}
	return k.uint(0)
}

func (k searchKey) str(s string) searchKey {
	k = k.uint(uint64(len(s)))
	for i := 0; i < len(s); i++ {
		k = (k ^ searchKey(s[i])) * fnvPrime
	}
	return k
}

func (k searchKey) bytes(b []byte) searchKey {
	k = k.uint(uint64(len(b)))
	for _, c := range b {
		k = (k ^ searchKey(c)) * fnvPrime
	}
	return k
}

// filters adds what a search's filters contribute. open_now counts as a
// flag, not as the instant each page was asked at.
func (k searchKey) filters(cats nearby.CategorySet, f nearby.Filters, openNow bool) searchKey {
	openAt := uint64(0)
	if !openNow && !f.OpenAt.IsZero() {
		openAt = uint64(f.OpenAt.UnixNano())
	}
	return k.uint(uint64(cats)).uint(uint64(f.Prices)).uint(uint64(f.MinRating)).bool(openNow).uint(openAt).str(f.Name)
}
