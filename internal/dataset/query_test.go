package dataset

import (
	"bytes"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
)

// writeQueries writes qs to w with a QueryWriter.
func writeQueries(w io.Writer, qs []Query) error {
	qw := NewQueryWriter(w)
	for _, q := range qs {
		if err := qw.Write(q); err != nil {
			return err
		}
	}
	return qw.Flush()
}

func readQueries(t testing.TB, in string) ([]Query, error) {
	t.Helper()
	var qs []Query
	err := ReadQueriesCSV(strings.NewReader(in), func(q Query) error {
		qs = append(qs, q)
		return nil
	})
	return qs, err
}

func TestQueriesDeterministic(t *testing.T) {
	seed := testSeed(t)
	a, b := Queries(2000, seed), Queries(2000, seed)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different queries")
	}
	if !reflect.DeepEqual(Queries(100, seed), a[:100]) {
		t.Fatal("Queries(100) is not a prefix of Queries(2000)")
	}
	c := Queries(2000, seed+1)
	same := 0
	for i := range a {
		if a[i].Lat == c[i].Lat && a[i].Lon == c[i].Lon {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds %d and %d share %d of 2000 query points", seed, seed+1, same)
	}
	// Same seed, but a different stream from the businesses.
	bs := Generate(2000, seed)
	for i := range bs {
		if bs[i].Lat == a[i].Lat && bs[i].Lon == a[i].Lon {
			t.Fatalf("query %d sits on business %d: the streams are not independent", i, bs[i].ID)
		}
	}
}

func TestQueriesShape(t *testing.T) {
	const n = 100_000
	qs := Queries(n, testSeed(t))
	radii := map[float64]int{}
	limits := map[int]int{}
	filtered, multi := 0, 0
	for _, q := range qs {
		if p := queryProblem(q); p != "" {
			t.Fatalf("query %+v: %s", q, p)
		}
		if !geo.Valid(q.Lat, q.Lon) || q.Lat != roundE7(q.Lat) || q.Lon != roundE7(q.Lon) {
			t.Fatalf("query %+v: coordinates invalid or not rounded", q)
		}
		radii[q.RadiusM]++
		limits[q.Limit]++
		if len(q.Categories) > 0 {
			filtered++
			if !slices.IsSorted(q.Categories) || len(slices.Compact(slices.Clone(q.Categories))) != len(q.Categories) {
				t.Fatalf("query %+v: filter not sorted and distinct", q)
			}
			if len(q.Categories) > 1 {
				multi++
			}
		}
	}
	// Shares within 1.5 percentage points (about 10 standard deviations at
	// n = 100,000).
	near := func(what string, got int, want float64) {
		t.Helper()
		if share := float64(got) / n; math.Abs(share-want) > 0.015 {
			t.Errorf("%s: share %.3f, want %.3f", what, share, want)
		}
	}
	near("radius 500 m", radii[500], 0.3)
	near("radius 2 km", radii[2000], 0.4)
	near("radius 5 km", radii[5000], 0.2)
	near("radius 20 km", radii[20000], 0.1)
	near("limit 20", limits[20], 0.85)
	near("filtered", filtered, 0.3)
	near("multi-category filters", multi, 0.3*0.25)
	if len(radii) != 4 || len(limits) != 4 {
		t.Errorf("radii %v, limits %v", radii, limits)
	}
}

func TestQuerySearchQuery(t *testing.T) {
	q := Query{Lat: 1, Lon: 2, RadiusM: 500, Limit: 20, Categories: []nearby.Category{nearby.Cafe, nearby.Bakery}}
	sq := q.SearchQuery()
	want := nearby.SearchQuery{Lat: 1, Lon: 2, RadiusM: 500, Limit: 20, Categories: nearby.CategorySet(0).Add(nearby.Cafe).Add(nearby.Bakery)}
	if sq != want {
		t.Errorf("SearchQuery() = %+v, want %+v", sq, want)
	}
	if sq := (Query{Lat: 1, Lon: 2, RadiusM: 500, Limit: 20}).SearchQuery(); sq.Categories != 0 {
		t.Errorf("no filter gave set %b", sq.Categories)
	}
}

func TestQueriesCSVRoundTrip(t *testing.T) {
	qs := append(Queries(5000, testSeed(t)),
		Query{Lat: 90, Lon: -180, RadiusM: 0.5, Limit: 1, Categories: nearby.Categories()},
		Query{Lat: -12.3456789, Lon: 179.9999999, RadiusM: nearby.MaxRadiusM, Limit: nearby.MaxLimit},
		Query{Lat: 0, Lon: 0, RadiusM: 1234.5678, Limit: 7, Categories: []nearby.Category{nearby.Cinema, nearby.Cinema}},
	)
	var buf bytes.Buffer
	if err := writeQueries(&buf, qs); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(buf.String(), "\n"); first != "lat,lon,radius_m,limit,categories" {
		t.Errorf("header %q", first)
	}
	got, err := readQueries(t, buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, qs) {
		t.Fatalf("round trip changed the queries (read %d, wrote %d)", len(got), len(qs))
	}
}

func TestQueryWriterFormat(t *testing.T) {
	var buf bytes.Buffer
	qs := []Query{
		{Lat: 48.8566, Lon: 2.3522, RadiusM: 2000, Limit: 20},
		{Lat: -33.8688, Lon: 151.2093, RadiusM: 500, Limit: 10, Categories: []nearby.Category{nearby.Cafe, nearby.HairSalon}},
	}
	if err := writeQueries(&buf, qs); err != nil {
		t.Fatal(err)
	}
	want := `lat,lon,radius_m,limit,categories
48.8566000,2.3522000,2000,20,
-33.8688000,151.2093000,500,10,cafe|hair_salon
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	if err := writeQueries(&buf, []Query{{Lat: 1, Lon: 2, RadiusM: 0, Limit: 20}}); nearby.ErrorCode(err) != nearby.EINVALID {
		t.Errorf("radius 0: got %v, want an %s error", err, nearby.EINVALID)
	}
}

func TestReadQueriesCSVErrors(t *testing.T) {
	const hdr = "lat,lon,radius_m,limit,categories\n"
	tests := []struct {
		name, in string
		want     string
	}{
		{"empty", "", "line 1: missing header"},
		{"business header", "id,name,category,lat,lon\n", `line 1: header lacks column "radius_m"`},
		{"lat out of range", hdr + "-91,0,500,20,\n", `line 2: lat -91 out of range`},
		{"lon not a number", hdr + "0,east,500,20,\n", `line 2: bad lon "east"`},
		{"radius zero", hdr + "0,0,0,20,\n", `line 2: radius_m 0 out of range`},
		{"radius too big", hdr + "0,0,50001,20,\n", `line 2: radius_m 50001 out of range`},
		{"radius NaN", hdr + "0,0,NaN,20,\n", `line 2: radius_m NaN out of range`},
		{"radius missing", hdr + "0,0,,20,\n", `line 2: bad radius_m ""`},
		{"limit zero", hdr + "0,0,500,0,\n", `line 2: limit 0 out of range`},
		{"limit 101", hdr + "0,0,500,101,\n", `line 2: limit 101 out of range`},
		{"limit fraction", hdr + "0,0,500,2.5,\n", `line 2: bad limit "2.5"`},
		{"unknown category", hdr + "0,0,500,20,cafe|casino\n", `line 2: unknown category "casino"`},
		{"comma separated", hdr + "0,0,500,20,\"cafe,bar\"\n", `line 2: unknown category "cafe,bar"`},
		{"empty category", hdr + "0,0,500,20,cafe||bar\n", `line 2: unknown category ""`},
		{"missing field", hdr + "0,0,500,20\n", `line 2: missing field "categories"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readQueries(t, tt.in)
			if nearby.ErrorCode(err) != nearby.EINVALID {
				t.Fatalf("err = %v, want an %s error", err, nearby.EINVALID)
			}
			if msg := nearby.ErrorMessage(err); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
		})
	}
}

func FuzzReadQueriesCSV(f *testing.F) {
	var buf bytes.Buffer
	if err := writeQueries(&buf, Queries(20, 1)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("categories,limit,radius_m,lon,lat\ncafe|bar,5,1e3,-180,90\n"))
	f.Add([]byte("lat,lon,radius_m,limit,categories\n0,0,0x1p4,020,\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var qs []Query
		err := ReadQueriesCSV(bytes.NewReader(in), func(q Query) error {
			qs = append(qs, q)
			return nil
		})
		if err != nil {
			if nearby.ErrorCode(err) != nearby.EINVALID {
				t.Fatalf("error %v is not %s", err, nearby.EINVALID)
			}
			return
		}
		var out bytes.Buffer
		if err := writeQueries(&out, qs); err != nil {
			t.Fatalf("read %+v but cannot write it: %v", qs, err)
		}
		again, err := readQueries(t, out.String())
		if err != nil {
			t.Fatalf("cannot read what was written: %v\n%s", err, out.String())
		}
		if !reflect.DeepEqual(again, qs) {
			t.Fatalf("round trip changed\n%+v\nto\n%+v", qs, again)
		}
	})
}
