package ownerapi

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/nearby/nearby"
)

// encodeInput writes in as the JSON object a client would send.
func encodeInput(in nearby.BusinessInput) []byte {
	m := map[string]any{}
	set := func(name string, v *string) {
		if v != nil {
			m[name] = *v
		}
	}
	set("name", in.Name)
	if in.Category != nil {
		m["category"] = in.Category.String()
	}
	if in.Lat != nil {
		m["lat"] = *in.Lat
	}
	if in.Lon != nil {
		m["lon"] = *in.Lon
	}
	set("address", in.Address)
	set("city", in.City)
	set("state", in.State)
	set("country", in.Country)
	set("zip", in.Zip)
	set("description", in.Description)
	if in.Photos != nil {
		m["photos"] = *in.Photos
	}
	if in.Price != nil {
		m["price"] = nil
		if *in.Price != 0 {
			m["price"] = *in.Price
		}
	}
	if in.Rating != nil {
		m["rating"] = nil
		if in.Rating.Rated() {
			m["rating"] = in.Rating.Stars()
		}
	}
	if in.ReviewCount != nil {
		m["review_count"] = *in.ReviewCount
	}
	if in.Hours != nil {
		m["hours"] = *in.Hours // null when unknown
	}
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return data
}

// FuzzDecodeInput feeds request bodies to the strict decoder, as a create
// or replace and as a merge patch. It must never panic; a refusal is an
// EINVALID error naming at least one field; an accepted body must pass
// validation, and re-encoding what was decoded must decode to the same.
func FuzzDecodeInput(f *testing.F) {
	for _, seed := range []string{
		validBody,
		`{"name":"A","category":"bakery","lat":-90,"lon":180,"address":"1 Rue","city":"Paris","state":"","country":"FR",` +
			`"zip":"75001","description":"Pain.\nCroissants.","photos":["https://x.example/a.jpg","http://y.example/b?c=1"]}`,
		`{"city":null,"photos":null,"description":"x"}`,
		`{"name":"\u00e9\u0000","lat":1e400}`,
		`{"name":"a","name":"b"}`,
		`{"id":"1"} {}`,
		`[]`, `null`, `{`, `{"lat":-0}`, `{"photos":[1,"x",null]}`,
		`{"lat":NaN,"lon":-Infinity,"name":"Infinity \" NaN"}`, `NaN`,
		`{"price":4,"rating":4.5,"review_count":12,"hours":{"time_zone":"Europe/Paris","weekly":{"fri":[["22:00","02:00"]],"sat":[["09:00","09:00"]]}}}`,
		`{"price":null,"rating":null,"review_count":null,"hours":null}`,
		`{"rating":0,"price":0,"hours":{"time_zone":"UTC","weekly":{"mon":[["18:00","00:00"]],"xyz":[]}}}`,
		`{"name":"\ud83d\ude00\\ud800","city":"\udc00","hours":{"time_zone":"UTC","weekly":{"mon":[],"m\u006fn":[]}}}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, patch bool) {
		in, err := decodeInput(body, patch)
		if err != nil {
			var de *nearby.Error
			if !errors.As(err, &de) || de.Code != nearby.EINVALID || len(de.Params) == 0 {
				t.Fatalf("refusal is not an EINVALID naming fields: %#v", err)
			}
			seen := map[string]bool{}
			for _, p := range de.Params {
				if seen[p.Name] {
					t.Fatalf("field %q named twice: %v", p.Name, de.Params)
				}
				seen[p.Name] = true
			}
			return
		}
		if err := in.Validate(!patch); err != nil {
			t.Fatalf("accepted input does not validate: %v\n%s", err, body)
		}
		if in.Lat != nil && (math.IsNaN(*in.Lat) || math.IsInf(*in.Lat, 0)) {
			t.Fatalf("lat %v accepted", *in.Lat)
		}
		again, err := decodeInput(encodeInput(in), patch)
		if err != nil {
			t.Fatalf("re-encoded input refused: %v\n%s", err, encodeInput(in))
		}
		if !reflect.DeepEqual(in, again) {
			t.Fatalf("round trip changed the input:\n%+v\n%+v", in, again)
		}
	})
}

func TestLoneSurrogate(t *testing.T) {
	tests := []struct {
		raw  string
		lone bool
	}{
		{`"plain"`, false},
		{`"\u00e9\n\\u"`, false},
		{`"\ud83d\ude00"`, false},
		{`"\\ud800"`, false},        // an escaped backslash, then text
		{`"\\\ud83d\ude00"`, false}, // an escaped backslash, then a pair
		{`"\ud800"`, true},
		{`"\ud800x"`, true},
		{`"\udc00"`, true},
		{`"\udc00\ud800"`, true},
		{`"\ud800\u0041"`, true},
		{`"\\\ud800"`, true},
		{`["ok","\uDBFF"]`, true},
	}
	for _, tt := range tests {
		if got := loneSurrogate([]byte(tt.raw)); got != tt.lone {
			t.Errorf("loneSurrogate(%s) = %v, want %v", tt.raw, got, tt.lone)
		}
	}
}
