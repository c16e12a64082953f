package dataset

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/nearby/nearby/geo"
)

func TestCities(t *testing.T) {
	cs, err := Cities()
	if err != nil {
		t.Fatal(err)
	}
	// The count is pinned to the ATTRIBUTION.md description of the file.
	if len(cs) != 82068 {
		t.Errorf("%d cities, want 82068 (regenerated? update ATTRIBUTION.md and this test)", len(cs))
	}
	var total float64
	biggest := cs[0]
	for _, c := range cs {
		if c.Name == "" || len(c.Country) != 2 || !geo.Valid(c.Lat, c.Lon) || c.Population < 2000 {
			t.Fatalf("bad city %+v", c)
		}
		total += c.weight()
		if c.Population > biggest.Population {
			biggest = c
		}
	}
	if biggest.Name != "Shanghai" || biggest.Population != 22315474 {
		t.Errorf("biggest city is %+v, want Shanghai with 22,315,474", biggest)
	}
	if total < 3.0e9 || total > 3.2e9 {
		t.Errorf("total population %.3g, want about 3.07e9", total)
	}
	// Cities returns a copy: changing it must not change the next call.
	cs[0].Name = "changed"
	again, err := Cities()
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Name == "changed" {
		t.Error("Cities returned the cached slice, not a copy")
	}
}

func TestParseCitiesErrors(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty input", nil},
		{"not gzip", []byte("name,country,lat,lon,population\n")},
		{"no rows", gz("name,country,lat,lon,population\n")},
		{"bad lat", gz("name,country,lat,lon,population\nX,XX,95,0,1000\n")},
		{"bad pop", gz("name,country,lat,lon,population\nX,XX,5,0,many\n")},
		{"short row", gz("name,country,lat,lon,population\nX,XX,5,0\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if cs, err := parseCities(bytes.NewReader(tt.in)); err == nil {
				t.Errorf("parsed %d cities, want an error", len(cs))
			} else {
				t.Log(err)
			}
		})
	}
}
