package httpapi

import (
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nearby/nearby"
)

// params parses a search's query parameters, collecting every problem so
// that one answer names them all.
type params struct {
	v     url.Values
	known []string // in documented order
	bad   []nearby.InvalidParam
}

func newParams(v url.Values, known []string) *params {
	p := &params{v: v, known: known}
	for name, vals := range v {
		if !slices.Contains(known, name) {
			p.fail(name, "unknown parameter")
		} else if len(vals) > 1 {
			p.fail(name, "given more than once")
		}
	}
	return p
}

func (p *params) fail(name, reason string) {
	p.bad = append(p.bad, nearby.InvalidParam{Name: name, Reason: reason})
}

func (p *params) num(name string, def float64, required bool) float64 {
	s := p.v.Get(name)
	if s == "" {
		if required {
			p.fail(name, "required")
		}
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail(name, "not a finite number")
		return def
	}
	return f
}

func (p *params) integer(name string, def int) int {
	s := p.v.Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.fail(name, "not an integer")
		return def
	}
	return n
}

func (p *params) boolean(name string) bool {
	switch p.v.Get(name) {
	case "", "false":
		return false
	case "true":
		return true
	}
	p.fail(name, "must be true or false")
	return false
}

// oneOf returns the parameter's value if it is one of choices, else the
// first choice (the default).
func (p *params) oneOf(name string, choices ...string) string {
	s := p.v.Get(name)
	if s == "" {
		return choices[0]
	}
	if !slices.Contains(choices, s) {
		p.fail(name, "must be one of: "+strings.Join(choices, ", "))
		return choices[0]
	}
	return s
}

// filters reads category, price, min_rating, open_now, open_at and q.
// open_now means "open at now".
func (p *params) filters(now time.Time) (cats nearby.CategorySet, f nearby.Filters, openNow bool) {
	if s := p.v.Get("category"); s != "" {
		var err error
		if cats, err = nearby.ParseCategorySet(s); err != nil {
			p.fail("category", nearby.ErrorMessage(err))
		}
	}
	if s := p.v.Get("price"); s != "" {
		var err error
		if f.Prices, err = nearby.ParsePriceSet(s); err != nil {
			p.fail("price", err.Error())
		}
	}
	if s := p.v.Get("min_rating"); s != "" {
		var err error
		if f.MinRating, err = nearby.ParseRating(s); err != nil {
			p.fail("min_rating", err.Error())
		}
	}
	openNow = p.boolean("open_now")
	if s := p.v.Get("open_at"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		switch {
		case err != nil:
			p.fail("open_at", "must be an RFC 3339 time, e.g. 2026-11-27T18:30:00+01:00")
		case openNow:
			p.fail("open_at", "give open_now=true or open_at, not both")
		default:
			f.OpenAt = t
		}
	}
	if openNow {
		f.OpenAt = now
	}
	f.Name = p.v.Get("q")
	return cats, f, openNow
}

// Result fields a client may select with fields=.
var resultFields = []string{"id", "name", "category", "lat", "lon", "distance_m", "price", "rating", "review_count"}

// fieldSet is a bit set of resultFields (bit i for resultFields[i]); 0
// means all.
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
)

func (s fieldSet) has(f fieldSet) bool { return s == 0 || s&f != 0 }

// without returns s less f.
func (s fieldSet) without(f fieldSet) fieldSet {
	if s == 0 {
		s = 1<<len(resultFields) - 1
	}
	return s &^ f
}

func (p *params) fields() fieldSet {
	s := p.v.Get("fields")
	if s == "" {
		return 0
	}
	var set fieldSet
	for _, f := range strings.Split(s, ",") {
		i := slices.Index(resultFields, f)
		if i < 0 {
			p.fail("fields", "unknown field "+strconv.Quote(f)+"; fields are "+strings.Join(resultFields, ", "))
			return 0
		}
		set |= 1 << i
	}
	return set
}

func (p *params) geojson() bool { return p.oneOf("format", "json", "geojson") == "geojson" }

// merge adds the EINVALID parameters of err (from a Validate) not named yet.
func (p *params) merge(err error) {
	if err == nil {
		return
	}
	var de *nearby.Error
	if errors.As(err, &de) {
		for _, b := range de.Params {
			if !slices.ContainsFunc(p.bad, func(x nearby.InvalidParam) bool { return x.Name == b.Name }) {
				p.bad = append(p.bad, b)
			}
		}
	}
}

// err returns the problems found: known parameters in documented order,
// then unknown ones by name, each named once with its first reason.
func (p *params) err() error {
	rank := func(name string) int {
		if i := slices.Index(p.known, name); i >= 0 {
			return i
		}
		return len(p.known)
	}
	slices.SortStableFunc(p.bad, func(a, b nearby.InvalidParam) int {
		if c := rank(a.Name) - rank(b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	p.bad = slices.CompactFunc(p.bad, func(a, b nearby.InvalidParam) bool { return a.Name == b.Name })
	return nearby.InvalidParams(p.bad)
}

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

func (k searchKey) float(f float64) searchKey { return k.uint(math.Float64bits(f)) }

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
