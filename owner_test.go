package nearby

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/nearby/nearby/hours"
)

func refOf[T any](v T) *T { return &v }

// weekdays9to6 is a known schedule for tests.
func weekdays9to6(t testing.TB) *hours.Schedule {
	t.Helper()
	nine := []hours.Span{{Open: 9 * 60, Close: 18 * 60}}
	s, err := hours.New("America/New_York", [7][]hours.Span{1: nine, 2: nine, 3: nine, 4: nine, 5: nine})
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

func validInput() BusinessInput {
	return BusinessInput{
		Name: refOf("Blue Bottle"), Category: refOf(Cafe), Lat: refOf(40.758), Lon: refOf(-73.9855),
		Address: refOf("1 Main St"), City: refOf("New York"), State: refOf("NY"), Country: refOf("US"), Zip: refOf("10036"),
		Description: refOf("Coffee.\nSince 2002."), Photos: refOf([]string{"https://example.com/a.jpg", "HTTP://example.com:8080/b?c=d#e"}),
		Price: refOf(Price(2)), Rating: refOf(RatingOf(45)), ReviewCount: refOf(uint32(1234)),
	}
}

func paramNames(err error) []string {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	var names []string
	for _, p := range e.Params {
		names = append(names, p.Name)
	}
	return names
}

func TestBusinessInputValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*BusinessInput)
		full   bool
		bad    []string // the fields named, in order; nil = valid
	}{
		{"valid", func(*BusinessInput) {}, true, nil},
		{"only required", func(in *BusinessInput) {
			*in = BusinessInput{Name: in.Name, Category: in.Category, Lat: in.Lat, Lon: in.Lon}
		}, true, nil},
		{"empty patch", func(in *BusinessInput) { *in = BusinessInput{} }, false, nil},
		{"missing required", func(in *BusinessInput) { *in = BusinessInput{City: refOf("x")} }, true, []string{"name", "category", "lat", "lon"}},
		{"empty name", func(in *BusinessInput) { in.Name = refOf("") }, true, []string{"name"}},
		{"blank name", func(in *BusinessInput) { in.Name = refOf(" \t ") }, false, []string{"name"}},
		{"name 200 chars", func(in *BusinessInput) { in.Name = refOf(strings.Repeat("é", 200)) }, true, nil},
		{"name 201 chars", func(in *BusinessInput) { in.Name = refOf(strings.Repeat("é", 201)) }, true, []string{"name"}},
		{"name control", func(in *BusinessInput) { in.Name = refOf("a\x00b") }, true, []string{"name"}},
		{"name newline", func(in *BusinessInput) { in.Name = refOf("a\nb") }, true, []string{"name"}},
		{"name bad utf8", func(in *BusinessInput) { in.Name = refOf("a\xffb") }, true, []string{"name"}},
		{"unknown category", func(in *BusinessInput) { in.Category = refOf(Category(99)) }, true, []string{"category"}},
		{"lat NaN", func(in *BusinessInput) { in.Lat = refOf(math.NaN()) }, true, []string{"lat"}},
		{"lat high", func(in *BusinessInput) { in.Lat = refOf(90.0000001) }, true, []string{"lat"}},
		{"lat edge", func(in *BusinessInput) { in.Lat = refOf(-90.0) }, true, nil},
		{"lon Inf", func(in *BusinessInput) { in.Lon = refOf(math.Inf(-1)) }, false, []string{"lon"}},
		{"lon edge", func(in *BusinessInput) { in.Lon = refOf(180.0) }, true, nil},
		{"lon low", func(in *BusinessInput) { in.Lon = refOf(-180.1) }, true, []string{"lon"}},
		{"address long", func(in *BusinessInput) { in.Address = refOf(strings.Repeat("a", 201)) }, true, []string{"address"}},
		{"city long", func(in *BusinessInput) { in.City = refOf(strings.Repeat("a", 101)) }, true, []string{"city"}},
		{"state control", func(in *BusinessInput) { in.State = refOf("N\tY") }, true, []string{"state"}},
		{"name line separator", func(in *BusinessInput) { in.Name = refOf("Café\u2028Bar") }, true, []string{"name"}},
		{"address paragraph separator", func(in *BusinessInput) { in.Address = refOf("1 Main St\u2029Apt 2") }, true, []string{"address"}},
		{"zip long", func(in *BusinessInput) { in.Zip = refOf(strings.Repeat("1", 21)) }, true, []string{"zip"}},
		{"country lower", func(in *BusinessInput) { in.Country = refOf("us") }, true, []string{"country"}},
		{"country alpha-3", func(in *BusinessInput) { in.Country = refOf("USA") }, true, []string{"country"}},
		{"country unassigned", func(in *BusinessInput) { in.Country = refOf("ZZ") }, true, []string{"country"}},
		{"country empty", func(in *BusinessInput) { in.Country = refOf("") }, true, nil},
		{"country XK", func(in *BusinessInput) { in.Country = refOf("XK") }, true, nil},
		{"description 5120 bytes", func(in *BusinessInput) { in.Description = refOf(strings.Repeat("a", 5120)) }, true, nil},
		{"description 5121 bytes", func(in *BusinessInput) { in.Description = refOf(strings.Repeat("a", 5121)) }, true, []string{"description"}},
		{"description multibyte", func(in *BusinessInput) { in.Description = refOf(strings.Repeat("é", 2561)) }, true, []string{"description"}},
		{"description NUL", func(in *BusinessInput) { in.Description = refOf("a\x00") }, true, []string{"description"}},
		{"20 photos", func(in *BusinessInput) { in.Photos = refOf(slices.Repeat([]string{"https://x.example/p"}, 20)) }, true, nil},
		{"21 photos", func(in *BusinessInput) { in.Photos = refOf(slices.Repeat([]string{"https://x.example/p"}, 21)) }, true, []string{"photos"}},
		{"photo relative", func(in *BusinessInput) { in.Photos = refOf([]string{"/a.jpg"}) }, true, []string{"photos"}},
		{"photo ftp", func(in *BusinessInput) { in.Photos = refOf([]string{"ftp://x.example/a.jpg"}) }, true, []string{"photos"}},
		{"photo javascript", func(in *BusinessInput) { in.Photos = refOf([]string{"javascript:alert(1)"}) }, true, []string{"photos"}},
		{"photo no host", func(in *BusinessInput) { in.Photos = refOf([]string{"https:///a.jpg"}) }, true, []string{"photos"}},
		{"photo one slash", func(in *BusinessInput) { in.Photos = refOf([]string{"https:/x.example/a.jpg"}) }, true, []string{"photos"}},
		{"photo credentials", func(in *BusinessInput) { in.Photos = refOf([]string{"https://u:p@x.example/a.jpg"}) }, true, []string{"photos"}},
		{"photo space", func(in *BusinessInput) { in.Photos = refOf([]string{"https://x.example/a b.jpg"}) }, true, []string{"photos"}},
		{"photo empty", func(in *BusinessInput) { in.Photos = refOf([]string{""}) }, true, []string{"photos"}},
		{"photo long", func(in *BusinessInput) { in.Photos = refOf([]string{"https://x.example/" + strings.Repeat("a", 2048)}) }, true, []string{"photos"}},
		{"photos empty", func(in *BusinessInput) { in.Photos = refOf([]string{}) }, true, nil},
		{"price 1", func(in *BusinessInput) { in.Price = refOf(Price(1)) }, true, nil},
		{"price 4", func(in *BusinessInput) { in.Price = refOf(MaxPrice) }, true, nil},
		{"price cleared", func(in *BusinessInput) { in.Price = refOf(Price(0)) }, false, nil},
		{"price 5", func(in *BusinessInput) { in.Price = refOf(Price(5)) }, true, []string{"price"}},
		{"rating 0 stars", func(in *BusinessInput) { in.Rating = refOf(RatingOf(0)) }, true, nil},
		{"rating 5 stars", func(in *BusinessInput) { in.Rating = refOf(RatingOf(50)) }, true, nil},
		{"rating cleared", func(in *BusinessInput) { in.Rating = refOf(Unrated) }, false, nil},
		{"rating 5.1", func(in *BusinessInput) { in.Rating = refOf(RatingOf(51)) }, false, []string{"rating"}},
		{"review count 0", func(in *BusinessInput) { in.ReviewCount = refOf(uint32(0)) }, true, nil},
		{"review count max", func(in *BusinessInput) { in.ReviewCount = refOf(uint32(MaxReviewCount)) }, true, nil},
		{"review count 2^31", func(in *BusinessInput) { in.ReviewCount = refOf(uint32(MaxReviewCount + 1)) }, true, []string{"review_count"}},
		{"hours", func(in *BusinessInput) { in.Hours = weekdays9to6(t) }, true, nil},
		{"hours cleared", func(in *BusinessInput) { in.Hours = &hours.Schedule{} }, false, nil},
		{"everything bad, in order", func(in *BusinessInput) {
			*in = BusinessInput{Name: refOf(""), Category: refOf(Category(200)), Lat: refOf(91.0), Lon: refOf(181.0),
				Address: refOf(strings.Repeat("a", 201)), City: refOf(strings.Repeat("a", 101)), State: refOf(strings.Repeat("a", 101)),
				Country: refOf("U"), Zip: refOf(strings.Repeat("1", 21)), Description: refOf(strings.Repeat("a", 6000)), Photos: refOf([]string{"x"}),
				Price: refOf(Price(9)), Rating: refOf(Rating(99)), ReviewCount: refOf(uint32(math.MaxUint32))}
		}, true, slices.DeleteFunc(slices.Clone(BusinessFields), func(f string) bool { return f == "hours" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.change(&in)
			err := in.Validate(tt.full)
			if got := paramNames(err); !slices.Equal(got, tt.bad) {
				t.Errorf("Validate(%v) names %v (%v), want %v", tt.full, got, err, tt.bad)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Errorf("code %q", ErrorCode(err))
			}
		})
	}
}

func TestApply(t *testing.T) {
	in := validInput()
	in.Lat, in.Lon = refOf(40.75801234999), refOf(-73.98550005)
	var r BusinessRecord
	in.Apply(&r)
	if r.Name != "Blue Bottle" || r.Category != Cafe || r.Lat != 40.7580123 || r.Lon != -73.9855001 ||
		r.Country != "US" || len(r.Photos) != 2 || r.Validate() != nil {
		t.Fatalf("applied %+v", r)
	}
	// The record does not share the input's slice.
	(*in.Photos)[0] = "changed"
	if r.Photos[0] == "changed" {
		t.Error("Photos aliases the input")
	}
	// A patch changes only what it sets; empty values clear.
	patch := BusinessInput{City: refOf(""), Photos: refOf([]string{})}
	patch.Apply(&r)
	if r.City != "" || len(r.Photos) != 0 || r.Photos == nil || r.Name != "Blue Bottle" || r.State != "NY" {
		t.Errorf("patched %+v", r)
	}
	if b := r.Business(); b.Name != r.Name || b.Lat != r.Lat || b.Category != r.Category ||
		b.Price != 2 || b.Rating != RatingOf(45) || b.ReviewCount != 1234 {
		t.Errorf("Business() = %+v", b)
	}
}

// TestApplyAttributes checks the patch semantics of the attributes: nil
// keeps, a set value replaces, the zero value clears (hours to nil), and
// hours are shared, not copied.
func TestApplyAttributes(t *testing.T) {
	h := weekdays9to6(t)
	var r BusinessRecord
	full := validInput()
	full.Hours = h
	full.Apply(&r)
	if r.Price != 2 || r.Rating != RatingOf(45) || r.ReviewCount != 1234 || r.Hours != h || r.Validate() != nil {
		t.Fatalf("applied %+v", r)
	}
	if b := r.Business(); b.Hours != h {
		t.Error("Business() does not carry the hours")
	}
	// Not sent: kept.
	(&BusinessInput{Name: refOf("Renamed")}).Apply(&r)
	if r.Price != 2 || r.Rating != RatingOf(45) || r.ReviewCount != 1234 || r.Hours != h {
		t.Errorf("a patch of the name changed the attributes: %+v", r)
	}
	// Sent: replaced.
	(&BusinessInput{Price: refOf(MaxPrice), Rating: refOf(RatingOf(0)), ReviewCount: refOf(uint32(1))}).Apply(&r)
	if r.Price != 4 || r.Rating != RatingOf(0) || !r.Rating.Rated() || r.ReviewCount != 1 || r.Hours != h {
		t.Errorf("replaced %+v", r)
	}
	// The zero values clear.
	clear := BusinessInput{Price: refOf(Price(0)), Rating: refOf(Unrated), ReviewCount: refOf(uint32(0)), Hours: &hours.Schedule{}}
	if err := clear.Validate(false); err != nil {
		t.Fatal(err)
	}
	clear.Apply(&r)
	if r.Price != 0 || r.Rating != Unrated || r.ReviewCount != 0 || r.Hours != nil || r.Validate() != nil {
		t.Errorf("cleared %+v", r)
	}
}

func TestRoundE7(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{
		{0, 0}, {90, 90}, {-180, -180}, {40.758, 40.758}, {1.00000005, 1.0000001}, {-1.00000005, -1.0000001},
		{179.99999996, 180}, {1e-8, 0},
	} {
		if got := RoundE7(tt.in); got != tt.want {
			t.Errorf("RoundE7(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !math.IsNaN(RoundE7(math.NaN())) {
		t.Error("NaN not kept")
	}
}

func TestCountries(t *testing.T) {
	if !slices.IsSorted(countryCodes) {
		t.Fatal("countryCodes not sorted")
	}
	if len(countryCodes) != 250 { // 249 assigned + XK
		t.Errorf("%d country codes, want 250", len(countryCodes))
	}
	for _, c := range countryCodes {
		if len(c) != 2 || strings.ToUpper(c) != c {
			t.Errorf("bad code %q", c)
		}
	}
	for _, c := range []string{"US", "DE", "JP", "AX", "SS", "XK"} {
		if !ValidCountry(c) {
			t.Errorf("%s refused", c)
		}
	}
	for _, c := range []string{"", "U", "us", "USA", "UK", "EU", "ZZ", "AA"} {
		if ValidCountry(c) {
			t.Errorf("%q accepted", c)
		}
	}
}

func TestValidIdempotencyKey(t *testing.T) {
	for k, want := range map[string]bool{
		"a": true, "550e8400-e29b-41d4-a716-446655440000": true, "with space ~": true, strings.Repeat("k", 255): true,
		"": false, strings.Repeat("k", 256): false, "tab\t": false, "é": false, "nl\n": false,
	} {
		if got := ValidIdempotencyKey(k); got != want {
			t.Errorf("ValidIdempotencyKey(%q) = %v", k, got)
		}
	}
}
