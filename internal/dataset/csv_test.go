package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/quadtree"
)

// readAll reads every business of a CSV.
func readAll(t testing.TB, in string) ([]nearby.Business, error) {
	t.Helper()
	var bs []nearby.Business
	err := ReadCSV(strings.NewReader(in), func(b nearby.Business) error {
		bs = append(bs, b)
		return nil
	})
	return bs, err
}

// awkward are businesses whose names and coordinates test the format's
// edges: quoting, non-ASCII, the poles and the antimeridian.
var awkward = []nearby.Business{
	{ID: 1, Name: `Smith, Patel & Kim Dental`, Category: nearby.Dentist, Lat: 40.7128, Lon: -74.006},
	{ID: 2, Name: `Joe "The Boss" Rossi's Pizzeria`, Category: nearby.Restaurant, Lat: -33.8688, Lon: 151.2093},
	{ID: 3, Name: `"Sweet Fig", Bakery`, Category: nearby.Bakery, Lat: 90, Lon: 180},
	{ID: 4, Name: `Café Müller — Ørsted ✓ 東京`, Category: nearby.Cafe, Lat: -90, Lon: -180},
	{ID: 5, Name: ` leading space`, Category: nearby.Bar, Lat: 0, Lon: 0},
	{ID: 6, Name: `\.`, Category: nearby.Museum, Lat: 1e-7, Lon: -1e-7},
	{ID: math.MaxInt64, Name: `""`, Category: nearby.Clothing, Lat: 12.3456789, Lon: -179.9999999},
}

func TestCSVRoundTrip(t *testing.T) {
	bs := append(Generate(20_000, testSeed(t)), awkward...)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, bs); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(buf.String(), "\n"); first != "id,name,category,lat,lon,price,rating,review_count,hours" {
		t.Errorf("header %q", first)
	}
	got, err := readAll(t, buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(bs) {
		t.Fatalf("read %d businesses, wrote %d", len(got), len(bs))
	}
	for i := range bs {
		if !got[i].Equal(bs[i]) {
			t.Errorf("row %d: read %+v, wrote %+v", i, got[i], bs[i])
		}
	}
	// Businesses read with the same hours share one schedule, as generated ones do.
	read, generated := distinctSchedules(got), distinctSchedules(bs)
	if read != generated || read < 100 {
		t.Errorf("%d distinct schedules read, %d generated", read, generated)
	}
}

// distinctSchedules counts the distinct schedules of bs, failing if equal
// schedules are at different addresses.
func distinctSchedules(bs []nearby.Business) int {
	byKey := map[string]*hours.Schedule{}
	for _, b := range bs {
		if b.Hours == nil {
			continue
		}
		if s, ok := byKey[b.Hours.Key()]; ok && s != b.Hours {
			return -1
		}
		byKey[b.Hours.Key()] = b.Hours
	}
	return len(byKey)
}

// TestReadCSVDoesNotPinRows keeps every business read from rows of 2 KB
// (an ignored column): what they hold must be about the size of a
// business, not of its row. encoding/csv returns a row's fields as slices
// of one string, so a name kept as is holds the whole row in memory, and
// an indexer reading 10M rows of some 320 bytes (hours make them long)
// would keep 3 GB of text for 200 MB of names.
func TestReadCSVDoesNotPinRows(t *testing.T) {
	const n = 20_000
	var in strings.Builder
	in.WriteString("id,name,category,lat,lon,note\n")
	note := strings.Repeat("x", 2000)
	for i := range n {
		fmt.Fprintf(&in, "%d,Shop %d,cafe,1,2,%s\n", i+1, i, note)
	}
	data := in.String()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	var kept []nearby.Business
	if err := ReadCSV(strings.NewReader(data), func(b nearby.Business) error {
		kept = append(kept, b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	runtime.KeepAlive(data) // not freed meanwhile: only what was kept counts
	perBusiness := (float64(ms1.HeapAlloc) - float64(ms0.HeapAlloc)) / n
	if len(kept) != n || perBusiness > 500 {
		t.Errorf("%d businesses read from rows of 2 KB keep %.0f bytes each: they pin their rows", len(kept), perBusiness)
	}
	runtime.KeepAlive(kept)
}

// TestCSVWithoutAttributes reads files of the format before attributes,
// and files with only some of them.
func TestCSVWithoutAttributes(t *testing.T) {
	bs := Generate(2000, testSeed(t))
	var buf bytes.Buffer
	if err := WriteCSV(&buf, bs); err != nil {
		t.Fatal(err)
	}
	// Drop columns from the CSV as written, through encoding/csv.
	keep := func(cols ...string) string {
		rs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var idx []int
		for _, c := range cols {
			idx = append(idx, slices.Index(rs[0], c))
		}
		var out bytes.Buffer
		w := csv.NewWriter(&out)
		for _, r := range rs {
			var row []string
			for _, i := range idx {
				row = append(row, r[i])
			}
			w.Write(row)
		}
		w.Flush()
		return out.String()
	}
	for _, cols := range [][]string{
		{"id", "name", "category", "lat", "lon"},
		{"lon", "hours", "lat", "name", "id", "category"},
		{"id", "name", "category", "lat", "lon", "rating", "price"},
	} {
		got, err := readAll(t, keep(cols...))
		if err != nil {
			t.Fatalf("columns %v: %v", cols, err)
		}
		for i, b := range got {
			want := bs[i]
			if !slices.Contains(cols, "price") {
				want.Price = 0
			}
			if !slices.Contains(cols, "rating") {
				want.Rating = nearby.Unrated
			}
			want.ReviewCount = 0
			if !slices.Contains(cols, "hours") {
				want.Hours = nil
			}
			if !b.Equal(want) {
				t.Fatalf("columns %v, row %d: read %+v, want %+v", cols, i, b, want)
			}
		}
	}
}

func TestWriteCSVFormat(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, awkward[:3]); err != nil {
		t.Fatal(err)
	}
	want := `id,name,category,lat,lon,price,rating,review_count,hours
1,"Smith, Patel & Kim Dental",dentist,40.7128000,-74.0060000,,,0,
2,"Joe ""The Boss"" Rossi's Pizzeria",restaurant,-33.8688000,151.2093000,,,0,
3,"""Sweet Fig"", Bakery",bakery,90.0000000,180.0000000,,,0,
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	var h hours.Schedule
	if err := h.UnmarshalJSON([]byte(`{"time_zone":"Europe/Paris","weekly":{"fri":[["22:00","02:00"]]}}`)); err != nil {
		t.Fatal(err)
	}
	bar := nearby.Business{ID: 9, Name: "Le Zinc", Category: nearby.Bar, Lat: 48.85, Lon: 2.35,
		Price: 2, Rating: nearby.RatingOf(40), ReviewCount: 17, Hours: &h}
	zero := nearby.Business{ID: 10, Name: "Harsh", Category: nearby.Bar, Lat: 1, Lon: 2, Rating: nearby.RatingOf(0), ReviewCount: 1}
	if err := WriteCSV(&buf, []nearby.Business{bar, zero}); err != nil {
		t.Fatal(err)
	}
	want = `id,name,category,lat,lon,price,rating,review_count,hours
9,Le Zinc,bar,48.8500000,2.3500000,2,4.0,17,"{""time_zone"":""Europe/Paris"",""weekly"":{""mon"":[],""tue"":[],""wed"":[],""thu"":[],""fri"":[[""22:00"",""02:00""]],""sat"":[],""sun"":[]}}"
10,Harsh,bar,1.0000000,2.0000000,,0.0,1,
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	if err := WriteCSV(&buf, nil); err != nil || buf.String() != "id,name,category,lat,lon,price,rating,review_count,hours\n" {
		t.Errorf("no businesses: wrote %q, %v; want the header alone", buf.String(), err)
	}
}

func TestWriteCSVInvalid(t *testing.T) {
	ok := nearby.Business{ID: 1, Name: "Blue Door Café", Category: nearby.Cafe, Lat: 1, Lon: 2}
	tests := []struct {
		name string
		edit func(*nearby.Business)
	}{
		{"zero id", func(b *nearby.Business) { b.ID = 0 }},
		{"empty name", func(b *nearby.Business) { b.Name = "" }},
		{"newline in name", func(b *nearby.Business) { b.Name = "a\nb" }},
		{"invalid UTF-8", func(b *nearby.Business) { b.Name = "a\xffb" }},
		{"name of 1025 bytes", func(b *nearby.Business) { b.Name = strings.Repeat("x", quadtree.MaxNameLen+1) }},
		{"unknown category", func(b *nearby.Business) { b.Category = 200 }},
		{"lat NaN", func(b *nearby.Business) { b.Lat = math.NaN() }},
		{"lat 91", func(b *nearby.Business) { b.Lat = 91 }},
		{"lon -181", func(b *nearby.Business) { b.Lon = -181 }},
		{"lon +Inf", func(b *nearby.Business) { b.Lon = math.Inf(1) }},
		{"price 5", func(b *nearby.Business) { b.Price = 5 }},
		{"rating 5.1", func(b *nearby.Business) { b.Rating = nearby.RatingOf(51) }},
		{"review count 2^31", func(b *nearby.Business) { b.ReviewCount = nearby.MaxReviewCount + 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := ok
			tt.edit(&b)
			var buf bytes.Buffer
			err := WriteCSV(&buf, []nearby.Business{ok, b})
			if nearby.ErrorCode(err) != nearby.EINVALID {
				t.Fatalf("WriteCSV(%+v) = %v, want an %s error", b, err, nearby.EINVALID)
			}
			t.Log(err)
		})
	}
}

func TestReadCSVLayout(t *testing.T) {
	tests := []struct {
		name, in string
		want     []nearby.Business
	}{
		{"header only", "id,name,category,lat,lon\n", nil},
		{"columns reordered, extra columns ignored",
			"lon,stars,category,id,name,lat\n2.5,4.5,cafe,7,\"A, B\",1.25\n",
			[]nearby.Business{{ID: 7, Name: "A, B", Category: nearby.Cafe, Lat: 1.25, Lon: 2.5}}},
		{"attributes, empty cells unknown",
			"id,name,category,lat,lon,review_count,rating,price,hours\n1,X,bar,3,4,12,4.5,4,\n2,Y,bar,3,4,,,,null\n3,Z,bar,3,4,0,0,,\n",
			[]nearby.Business{{ID: 1, Name: "X", Category: nearby.Bar, Lat: 3, Lon: 4, Price: 4, Rating: nearby.RatingOf(45), ReviewCount: 12},
				{ID: 2, Name: "Y", Category: nearby.Bar, Lat: 3, Lon: 4}, {ID: 3, Name: "Z", Category: nearby.Bar, Lat: 3, Lon: 4, Rating: nearby.RatingOf(0)}}},
		{"byte order mark and CRLF",
			"\uFEFFid,name,category,lat,lon\r\n1,X,bar,3,4\r\n",
			[]nearby.Business{{ID: 1, Name: "X", Category: nearby.Bar, Lat: 3, Lon: 4}}},
		{"byte order mark before a quoted header", // as spreadsheets export
			"\uFEFF\"id\",\"name\",\"category\",\"lat\",\"lon\"\r\n\"1\",\"X\",\"bar\",\"3\",\"4\"\r\n",
			[]nearby.Business{{ID: 1, Name: "X", Category: nearby.Bar, Lat: 3, Lon: 4}}},
		{"rounded to 1e-7, no trailing newline",
			"id,name,category,lat,lon\n1,X,bar,0.123456789,-0.00000004",
			[]nearby.Business{{ID: 1, Name: "X", Category: nearby.Bar, Lat: 0.1234568, Lon: 0}}},
		{"blank lines skipped",
			"id,name,category,lat,lon\n\n1,X,bar,3,4\n\n",
			[]nearby.Business{{ID: 1, Name: "X", Category: nearby.Bar, Lat: 3, Lon: 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, nearby.Business.Equal) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	const hdr = "id,name,category,lat,lon\n"
	tests := []struct {
		name, in string
		want     string // in the message
	}{
		{"empty", "", "line 1: missing header"},
		{"missing column", "id,name,category,lat\n", `line 1: header lacks column "lon"`},
		{"column twice", "id,name,category,lat,lon,id\n", `line 1: header names column "id" twice`},
		{"wrong case", "ID,name,category,lat,lon\n", `header lacks column "id"`},
		{"bad id", hdr + "1,A,cafe,1,2\nx,B,cafe,1,2\n", `line 3: bad id "x"`},
		{"id overflow", hdr + "99999999999999999999,B,cafe,1,2\n", `line 2: bad id`},
		{"zero id", hdr + "0,B,cafe,1,2\n", `line 2: bad id 0`},
		{"negative id", hdr + "-4,B,cafe,1,2\n", `line 2: bad id -4`},
		{"empty name", hdr + "1,,cafe,1,2\n", `line 2: empty name`},
		{"control character", hdr + "1,\"a\tb\",cafe,1,2\n", `line 2: name "a\tb" contains a control character`},
		{"invalid UTF-8", hdr + "1,a\xffb,cafe,1,2\n", `line 2: name "a\xffb" is not valid UTF-8`},
		{"name too long", hdr + "1," + strings.Repeat("é", 513) + ",cafe,1,2\n", `line 2: name of 1026 bytes: the index keeps at most 1024`},
		{"unknown category", hdr + "1,A,casino,1,2\n", `line 2: unknown category "casino"`},
		{"category by number", hdr + "1,A,3,1,2\n", `line 2: unknown category "3"`},
		{"lat not a number", hdr + "1,A,cafe,north,2\n", `line 2: bad lat "north"`},
		{"lat empty", hdr + "1,A,cafe,,2\n", `line 2: bad lat ""`},
		{"lat NaN", hdr + "1,A,cafe,NaN,2\n", `line 2: lat NaN out of range`},
		{"lat 90.0000001", hdr + "1,A,cafe,90.0000001,2\n", `line 2: lat 90.0000001 out of range`},
		{"lon Inf", hdr + "1,A,cafe,1,+Inf\n", `line 2: lon +Inf out of range`},
		{"lon 180.5", hdr + "1,A,cafe,1,180.5\n", `line 2: lon 180.5 out of range`},
		{"missing field", hdr + "1,A,cafe,1\n", `line 2: missing field "lon"`},
		{"extra field", hdr + "1,A,cafe,1,2,3\n", `line 2: 6 fields, but the header has 5`},
		{"bare quote", hdr + "1,Joe \"Big\" Rossi,cafe,1,2\n", `line 2, column 7: bare " in non-quoted-field`},
		{"unterminated quote", hdr + "1,\"Joe,cafe,1,2\n", `extraneous or missing " in quoted-field`},
		{"newline in name", hdr + "1,\"A\nB\",cafe,1,2\n", `line 2: name "A\nB" contains a control character`},
		{"line counts multi-line fields", "id,name,category,lat,lon,note\n1,A,cafe,1,2,\"x\ny\"\n2,C,cafe,1,x,\n", `line 4: bad lon "x"`},
		{"price 0", "id,name,category,lat,lon,price\n1,A,cafe,1,2,0\n", `line 2: bad price "0"`},
		{"price $$", "id,name,category,lat,lon,price\n1,A,cafe,1,2,$$\n", `line 2: bad price "$$"`},
		{"rating 4.55", "id,name,category,lat,lon,rating\n1,A,cafe,1,2,4.55\n", `line 2: bad rating "4.55"`},
		{"rating 6", "id,name,category,lat,lon,rating\n1,A,cafe,1,2,6\n", `line 2: bad rating "6"`},
		{"review count -1", "id,name,category,lat,lon,review_count\n1,A,cafe,1,2,-1\n", `line 2: bad review_count "-1"`},
		{"review count 2^31", "id,name,category,lat,lon,review_count\n1,A,cafe,1,2,2147483648\n", `line 2: bad review_count`},
		{"hours not JSON", "id,name,category,lat,lon,hours\n1,A,cafe,1,2,9-5\n", `line 2: bad hours: hours: must be a JSON object`},
		{"hours overlap", "id,name,category,lat,lon,hours\n1,A,cafe,1,2,\"{\"\"time_zone\"\":\"\"UTC\"\",\"\"weekly\"\":{\"\"mon\"\":[[\"\"09:00\"\",\"\"13:00\"\"],[\"\"12:00\"\",\"\"14:00\"\"]]}}\"\n",
			`line 2: bad hours: hours: weekly.mon[1]: overlaps weekly.mon[0]`},
		{"hours zone", "id,name,category,lat,lon,hours\n1,A,cafe,1,2,\"{\"\"time_zone\"\":\"\"Mars/Base\"\"}\"\n", `line 2: bad hours: hours: time_zone`},
		{"hours twice", "id,name,category,lat,lon,hours,hours\n", `line 1: header names column "hours" twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(t, tt.in)
			if nearby.ErrorCode(err) != nearby.EINVALID {
				t.Fatalf("err = %v, want an %s error", err, nearby.EINVALID)
			}
			if msg := nearby.ErrorMessage(err); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
		})
	}
}

func TestReadCSVStops(t *testing.T) {
	in := "id,name,category,lat,lon\n1,A,cafe,1,2\n2,B,cafe,1,2\n3,C,cafe,1,2\n"
	stop := errors.New("stop")
	n := 0
	err := ReadCSV(strings.NewReader(in), func(nearby.Business) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("ReadCSV = %v after %d calls, want the callback's error after 2", err, n)
	}
	// An I/O error is passed on wrapped, not turned into EINVALID.
	broken := io.MultiReader(strings.NewReader(in), iotest.ErrReader(io.ErrUnexpectedEOF))
	err = ReadCSV(broken, func(nearby.Business) error { return nil })
	if !errors.Is(err, io.ErrUnexpectedEOF) || nearby.ErrorCode(err) != nearby.EINTERNAL {
		t.Errorf("read error: got %v, want io.ErrUnexpectedEOF wrapped", err)
	}
}

func FuzzReadCSV(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, append(Generate(20, 1), awkward...)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("lon,x,category,id,name,lat\n2.5,,cafe,7,\"A, B\",1.25\n"))
	f.Add([]byte("id,name,category,lat,lon\n1,\"A\"\"\",bar,NaN,0x1p-2\n"))
	f.Add([]byte("id,name,category,lat,lon\n1,A,cafe,1\n"))
	f.Add([]byte("\uFEFFid,name,category,lat,lon\r\n1,\"a\r\nb\",bar,3,4\r\n"))
	f.Add([]byte("id,name,category,lat,lon,price,rating,review_count,hours\n1,A,cafe,1,2,4,0.5,7,\"{\"\"time_zone\"\":\"\"UTC\"\"}\"\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var bs []nearby.Business
		err := ReadCSV(bytes.NewReader(in), func(b nearby.Business) error {
			bs = append(bs, b)
			return nil
		})
		if err != nil {
			if nearby.ErrorCode(err) != nearby.EINVALID {
				t.Fatalf("error %v is not %s", err, nearby.EINVALID)
			}
			return
		}
		// What was read is valid and survives a write and a read unchanged.
		var out bytes.Buffer
		if err := WriteCSV(&out, bs); err != nil {
			t.Fatalf("read %+v but cannot write it: %v", bs, err)
		}
		again, err := readAll(t, out.String())
		if err != nil {
			t.Fatalf("cannot read what was written: %v\n%s", err, out.String())
		}
		if !slices.EqualFunc(again, bs, nearby.Business.Equal) {
			t.Fatalf("round trip changed\n%+v\nto\n%+v", bs, again)
		}
	})
}

// TestWriterMatchesEncodingCSV checks the hand-rolled formatting of Writer
// against the standard library: fields quoted as encoding/csv quotes them,
// coordinates as strconv prints them.
func TestWriterMatchesEncodingCSV(t *testing.T) {
	seed := testSeed(t)
	names := []string{"", " x", "\tx", "x ", `\.`, `\.x`, "a\rb", "a\nb", `a"b`, `"`, `""`, "a,b", ",", "plain", "Café"}
	for _, b := range append(Generate(20_000, seed), awkward...) {
		names = append(names, b.Name)
	}
	for _, name := range names {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		cw.Write([]string{name, ""}) // two fields, so "" is not special
		cw.Flush()
		if got := string(appendField(nil, name)) + ",\n"; got != want.String() {
			t.Errorf("appendField(%q) = %q, encoding/csv writes %q", name, got, want.String())
		}
	}
	r := rand.New(rand.NewPCG(seed, 0))
	for range 100_000 {
		x := roundE7((r.Float64()*2 - 1) * 180)
		if got, want := string(appendE7(nil, x)), strconv.FormatFloat(x, 'f', 7, 64); got != want {
			t.Fatalf("appendE7(%v) = %s, want %s", x, got, want)
		}
	}
	for _, x := range []float64{0, 90, -90, 180, -180, 1e-7, -1e-7, 12.3456789} {
		if got, want := string(appendE7(nil, x)), strconv.FormatFloat(x, 'f', 7, 64); got != want {
			t.Errorf("appendE7(%v) = %s, want %s", x, got, want)
		}
	}
	// Off the grid, the digits are those of roundE7 (which may differ from
	// strconv's in the last digit at exact halves such as 0.5e-7).
	for _, x := range []float64{0.5e-7, -0.5e-7, 0.15e-6, 89.99999996, -179.99999995, 1.23456785} {
		got, err := strconv.ParseFloat(string(appendE7(nil, x)), 64)
		if err != nil || got != roundE7(x) {
			t.Errorf("appendE7(%v) = %s, want the digits of %v", x, appendE7(nil, x), roundE7(x))
		}
	}
}

// BenchmarkWriteCSV measures writing, most of the cost of a CSV file made by
// nearby-gen.
func BenchmarkWriteCSV(b *testing.B) {
	const n = 100_000
	b.Run("n=100k", func(b *testing.B) {
		bs := Generate(n, 1)
		b.ReportAllocs()
		var cw countWriter
		for b.Loop() {
			if err := WriteCSV(&cw, bs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "businesses/s")
		b.ReportMetric(float64(cw)/float64(n)/float64(b.N), "bytes/business")
	})
}

// BenchmarkReadCSV measures reading back what WriteCSV writes.
func BenchmarkReadCSV(b *testing.B) {
	const n = 100_000
	b.Run("n=100k", func(b *testing.B) {
		var buf bytes.Buffer
		if err := WriteCSV(&buf, Generate(n, 1)); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		var rows int
		for b.Loop() {
			if err := ReadCSV(bytes.NewReader(buf.Bytes()), func(nearby.Business) error { rows++; return nil }); err != nil {
				b.Fatal(err)
			}
		}
		if rows != n*b.N {
			b.Fatalf("read %d rows, want %d", rows, n*b.N)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "businesses/s")
	})
}

// countWriter counts the bytes written to it.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
