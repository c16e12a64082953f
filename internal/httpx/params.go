// Package httpx is the HTTP plumbing searchd's API, its map explorer,
// owner-api and the indexer's admin server share: query parameters read so
// that one answer names every bad parameter, JSON answers, and the URL a
// server logs.
package httpx

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/nearby/nearby"
)

// Params reads a request's query parameters, collecting every refusal so
// that one EINVALID error (Err) names each bad parameter once, with its
// first reason, in the order the endpoint documents them. A parameter
// given with an empty value counts as absent.
type Params struct {
	v     Values
	known []string // in documented order
	bad   []nearby.InvalidParam
}

// MaxNamedUnknown bounds the parameters an error names as unknown or as
// not decoding: a query of thousands would otherwise get an answer as
// long, and cost work growing with their square.
const MaxNamedUnknown = 16

// undecodedReason is the refusal of a pair that does not decode.
const undecodedReason = "does not decode: a bad %-escape, or ; as a separator (use &)"

// NewParams reads v for an endpoint whose parameters are known. Pairs that
// do not decode, unknown parameters (the first MaxNamedUnknown of the two
// kinds) and known ones given more than once are refused at once.
func NewParams(v Values, known ...string) *Params {
	if len(known) > 64 {
		panic("httpx: an endpoint with more than 64 parameters")
	}
	p := &Params{v: v, known: known}
	var seen uint64 // bit k: known[k] given
	named := 0      // refused parameters that are not known ones
	for _, pair := range v {
		k := slices.Index(known, pair.Name)
		if k < 0 {
			if named < MaxNamedUnknown && p.OK(pair.Name) {
				reason := "unknown parameter"
				if pair.undecoded {
					reason = undecodedReason
				}
				p.Fail(pair.Name, reason)
				named++
			}
			continue
		}
		switch {
		case pair.undecoded:
			p.Fail(pair.Name, undecodedReason)
		case seen&(1<<k) != 0:
			p.Fail(pair.Name, "given more than once")
		default:
			seen |= 1 << k
		}
	}
	return p
}

// Get returns the parameter's value, "" when absent.
func (p *Params) Get(name string) string { return p.v.Get(name) }

// Fail refuses a parameter; a parameter refused already keeps its first
// reason.
func (p *Params) Fail(name, reason string) {
	if p.OK(name) {
		p.bad = append(p.bad, nearby.InvalidParam{Name: name, Reason: reason})
	}
}

// OK reports whether name has not been refused.
func (p *Params) OK(name string) bool {
	return !slices.ContainsFunc(p.bad, func(b nearby.InvalidParam) bool { return b.Name == name })
}

// Valid reports whether no parameter has been refused.
func (p *Params) Valid() bool { return len(p.bad) == 0 }

// Float returns a finite number, def when absent (refused if required).
func (p *Params) Float(name string, def float64, required bool) float64 {
	s := p.v.Get(name)
	if s == "" {
		if required {
			p.Fail(name, "required")
		}
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.Fail(name, "not a finite number")
		return def
	}
	return f
}

// FloatIn returns a required number in [lo, hi].
func (p *Params) FloatIn(name string, lo, hi float64) float64 {
	f := p.Float(name, 0, true)
	if p.OK(name) && (f < lo || f > hi) {
		p.Fail(name, "must be a number in ["+strconv.FormatFloat(lo, 'f', -1, 64)+", "+strconv.FormatFloat(hi, 'f', -1, 64)+"]")
	}
	return f
}

// Int returns an integer, def when absent.
func (p *Params) Int(name string, def int) int {
	s := p.v.Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.Fail(name, "not an integer")
		return def
	}
	return n
}

// IntIn returns an integer in [lo, hi], def when absent.
func (p *Params) IntIn(name string, def, lo, hi int) int {
	n := p.Int(name, def)
	if p.OK(name) && (n < lo || n > hi) {
		p.Fail(name, "must be an integer in ["+strconv.Itoa(lo)+", "+strconv.Itoa(hi)+"]")
	}
	return n
}

// Bool returns true or false, false when absent.
func (p *Params) Bool(name string) bool {
	switch p.v.Get(name) {
	case "", "false":
		return false
	case "true":
		return true
	}
	p.Fail(name, "must be true or false")
	return false
}

// OneOf returns the parameter's value if it is one of choices, else the
// first choice (the default).
func (p *Params) OneOf(name string, choices ...string) string {
	s := p.v.Get(name)
	if s == "" {
		return choices[0]
	}
	if !slices.Contains(choices, s) {
		p.Fail(name, "must be one of: "+strings.Join(choices, ", "))
		return choices[0]
	}
	return s
}

// Merge refuses the parameters an EINVALID error names (from a
// Validate), but those refused already.
func (p *Params) Merge(err error) {
	if err == nil {
		return
	}
	var de *nearby.Error
	if errors.As(err, &de) {
		for _, b := range de.Params {
			p.Fail(b.Name, b.Reason)
		}
	}
}

// Err returns the EINVALID error naming the refused parameters, known
// ones in documented order then unknown ones by name, or nil.
func (p *Params) Err() error {
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
	return nearby.InvalidParams(p.bad)
}

// Values are a query string's parameters, decoded, in the order given:
// a few name=value pairs, which a slice holds more cheaply than
// url.Values' map (parsing the query was a tenth of a search's handler).
// A pair that does not decode is kept, for Params to refuse, but Get and
// Has do not see it.
type Values []Pair

// Pair is one name=value of a query string.
type Pair struct {
	Name, Value string
	undecoded   bool // a bad %-escape or a ";" in it; Name as sent if it does not decode
}

// Get returns the first value of the named parameter, "" when absent.
func (v Values) Get(name string) string {
	for _, p := range v {
		if p.Name == name && !p.undecoded {
			return p.Value
		}
	}
	return ""
}

// Has reports whether the named parameter was given, even empty.
func (v Values) Has(name string) bool {
	return slices.ContainsFunc(v, func(p Pair) bool { return p.Name == name && !p.undecoded })
}

// Query returns r's query parameters as url.ParseQuery reads them, except
// that a pair that does not decode (a bad %-escape, a semicolon separator),
// which r.URL.Query leaves out without a word, is kept for Params to
// refuse by name: a cursor or filter dropped so would answer another
// question.
func Query(r *http.Request) Values {
	return ParseQuery(r.URL.RawQuery)
}

// ParseQuery reads a raw query string as Query does.
func ParseQuery(raw string) Values {
	var v Values
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		if v == nil {
			v = make(Values, 0, strings.Count(raw, "&")+2) // this pair and those after it
		}
		name, value, _ := strings.Cut(pair, "=")
		n, nameErr := url.QueryUnescape(name)
		value, valueErr := url.QueryUnescape(value)
		if nameErr == nil {
			name = n
		}
		if nameErr != nil || valueErr != nil || strings.Contains(pair, ";") {
			v = append(v, Pair{Name: name, undecoded: true})
			continue
		}
		v = append(v, Pair{Name: name, Value: value})
	}
	return v
}
