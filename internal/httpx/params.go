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
	v     url.Values
	known []string // in documented order
	bad   []nearby.InvalidParam
}

// NewParams reads v for an endpoint whose parameters are known; others,
// and known ones given more than once, are refused at once.
func NewParams(v url.Values, known ...string) *Params {
	p := &Params{v: v, known: known}
	for name, vals := range v {
		if !slices.Contains(known, name) {
			p.Fail(name, "unknown parameter")
		} else if len(vals) > 1 {
			p.Fail(name, "given more than once")
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

// Query returns r's query parameters as r.URL.Query does, except that a
// pair that does not decode (a bad %-escape, a semicolon separator), which
// r.URL.Query leaves out without a word, is an EINVALID error naming it: a
// cursor or filter dropped so would answer another question.
func Query(r *http.Request) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		return v, nil
	}
	var bad []nearby.InvalidParam
	for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if _, err := url.ParseQuery(pair); err != nil {
			name, _, _ := strings.Cut(pair, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			bad = append(bad, nearby.InvalidParam{Name: name, Reason: "does not decode: a bad %-escape, or ; as a separator (use &)"})
		}
	}
	return v, nearby.InvalidParams(bad)
}
