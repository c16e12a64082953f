package httpx

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/nearby/nearby"
)

// TestParams: every bad parameter is named once, with its first reason,
// known ones in documented order then unknown ones by name; empty values
// count as absent.
func TestParams(t *testing.T) {
	v := ParseQuery("zeta=1&alpha=2&n=x&lat=91&lim=5&lim=6&flag=yes&mode=c&empty=")
	p := NewParams(v, "lat", "n", "lim", "flag", "mode", "empty", "opt")
	if got := p.FloatIn("lat", -90, 90); got != 91 {
		t.Errorf("lat = %v", got)
	}
	if got := p.Int("n", 7); got != 7 {
		t.Errorf("bad n gave %d, want the default", got)
	}
	p.IntIn("lim", 1, 1, 3) // refused already: given twice
	p.Bool("flag")
	if got := p.OneOf("mode", "a", "b"); got != "a" {
		t.Errorf("mode = %q", got)
	}
	if got := p.Float("empty", 2.5, false); got != 2.5 || !p.OK("empty") {
		t.Errorf("empty value: %v, refused %v", got, !p.OK("empty"))
	}
	p.Float("opt", 0, true)
	p.Merge(nearby.InvalidParams([]nearby.InvalidParam{{Name: "lat", Reason: "later"}, {Name: "opt", Reason: "later"}}))
	if p.Valid() {
		t.Fatal("Valid with bad parameters")
	}
	var de *nearby.Error
	if err := p.Err(); !errors.As(err, &de) || de.Code != nearby.EINVALID {
		t.Fatalf("Err = %v", err)
	}
	want := []nearby.InvalidParam{
		{Name: "lat", Reason: "must be a number in [-90, 90]"},
		{Name: "n", Reason: "not an integer"},
		{Name: "lim", Reason: "given more than once"},
		{Name: "flag", Reason: "must be true or false"},
		{Name: "mode", Reason: "must be one of: a, b"},
		{Name: "opt", Reason: "required"},
		{Name: "alpha", Reason: "unknown parameter"},
		{Name: "zeta", Reason: "unknown parameter"},
	}
	if !reflect.DeepEqual(de.Params, want) {
		t.Errorf("refused\n%v\nwant\n%v", de.Params, want)
	}
	if err := NewParams(Values{{Name: "a", Value: "1"}}, "a").Err(); err != nil {
		t.Errorf("good parameters: %v", err)
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	if err := WriteJSON(w, 201, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if w.Code != 201 || w.Header().Get("Content-Type") != "application/json" || w.Body.String() != "{\"n\":1}\n" {
		t.Errorf("%d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	w = httptest.NewRecorder()
	w.Header().Set("Content-Type", "application/geo+json")
	WriteJSON(w, 200, 1)
	if w.Header().Get("Content-Type") != "application/geo+json" {
		t.Errorf("the handler's content type was replaced by %q", w.Header().Get("Content-Type"))
	}
}

// TestQuery: a pair that does not decode is refused by name, once, where
// url.Query would drop it and answer as if it were absent; Get and Has do
// not see it.
func TestQuery(t *testing.T) {
	for raw, want := range map[string][]string{
		"lat=1&lon=2":                  nil,
		"lat=1&cursor=%zz":             {"cursor"},
		"lat=1;lon=2&limit=3":          {"lat"},
		"c%75rsor=%G0&q=caf%C3%A9&x=%": {"cursor", "x"},
		"%zz=1":                        {"%zz"},
		"cursor=%zz&lat=1&cursor=%":    {"cursor"}, // named once
		"":                             nil,
	} {
		v := Query(httptest.NewRequest("GET", "/?"+raw, nil))
		var names []string
		if e := (*nearby.Error)(nil); errors.As(NewParams(v, "lat", "lon", "limit", "cursor", "q", "x").Err(), &e) {
			for _, p := range e.Params {
				if p.Reason != undecodedReason {
					t.Errorf("%q: %s refused as %q", raw, p.Name, p.Reason)
				}
				names = append(names, p.Name)
			}
		}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("%q: refused %v, want %v", raw, names, want)
		}
		for _, name := range want {
			if v.Has(name) || v.Get(name) != "" {
				t.Errorf("%q: %s seen as given", raw, name)
			}
		}
		if raw == "lat=1&lon=2" && (v.Get("lat") != "1" || v.Get("lon") != "2" || v.Has("q")) {
			t.Errorf("%q: read %v", raw, v)
		}
	}
}

// FuzzParseQuery: ParseQuery reads what url.ParseQuery reads, in the
// order given, and refuses exactly when url.ParseQuery does.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"lat=1&lon=2", "a=1&a=2&&b", "c%75rsor=%G0&q=caf%C3%A9&x=%", "a=1;b=2", "=x&y=", "q=a+b%2Bc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if strings.Count(raw, "&") >= 10000 {
			return // url.ParseQuery refuses so many pairs whole (GODEBUG urlmaxqueryparams); servers cap queries at 4096 bytes
		}
		want, wantErr := url.ParseQuery(raw)
		v := ParseQuery(raw)
		got := url.Values{}
		undecoded := false
		for _, p := range v {
			if p.undecoded {
				undecoded = true
				continue
			}
			got[p.Name] = append(got[p.Name], p.Value)
		}
		if undecoded != (wantErr != nil) {
			t.Fatalf("%q: a pair that does not decode: %v; url.ParseQuery's error: %v", raw, undecoded, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: read %v, url.ParseQuery %v", raw, got, want)
		}
		for name, vals := range want {
			if v.Get(name) != vals[0] || !v.Has(name) {
				t.Fatalf("%q: Get(%q) = %q, want %q", raw, name, v.Get(name), vals[0])
			}
		}
	})
}

// TestManyBadParameters: a query of thousands of unknown or undecodable
// parameters names a few of them, not all (an answer as large as the
// query, and work growing with the square of it), and still every bad
// known one.
func TestManyBadParameters(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "u%d=1&x%d=%%&", i, i)
	}
	b.WriteString("n=abc")
	p := NewParams(ParseQuery(b.String()), "n")
	p.Int("n", 0)
	var de *nearby.Error
	if !errors.As(p.Err(), &de) {
		t.Fatalf("Err = %v", p.Err())
	}
	if len(de.Params) > MaxNamedUnknown+1 || de.Params[0].Name != "n" {
		t.Errorf("%d parameters named, the first %q; want at most %d, n first", len(de.Params), de.Params[0].Name, MaxNamedUnknown+1)
	}
}
