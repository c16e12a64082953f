package nearby

import (
	"math"
	"testing"

	"github.com/nearby/nearby/hours"
)

func TestRating(t *testing.T) {
	for _, tc := range []struct {
		in     string
		tenths int
		ok     bool
	}{
		{"0", 0, true}, {"4.5", 45, true}, {"5", 50, true}, {"5.0", 50, true}, {"3.7", 37, true},
		{"5.1", 0, false}, {"-0.1", 0, false}, {"4.55", 0, false}, {"NaN", 0, false}, {"x", 0, false}, {"", 0, false},
		{"0.3", 3, true}, {"4.50", 45, true}, {"4.10000000001", 0, false}, {"0.00000000001", 0, false}, {"4.99999999999", 0, false},
	} {
		r, err := ParseRating(tc.in)
		if (err == nil) != tc.ok || tc.ok && (r.Tenths() != tc.tenths || !r.Rated() || !r.Valid()) {
			t.Errorf("ParseRating(%q) = %v (%d tenths), %v", tc.in, r, r.Tenths(), err)
		}
	}
	if Unrated.Rated() || !math.IsNaN(Unrated.Stars()) || Unrated.String() != "unrated" || RatingOf(45).String() != "4.5" {
		t.Error("Unrated or String wrong")
	}
	if Rating(52).Valid() {
		t.Error("rating above 5 stars is valid")
	}
}

func TestPriceSet(t *testing.T) {
	s, err := ParsePriceSet("1, 3")
	if err != nil || !s.Has(1) || s.Has(2) || !s.Has(3) || s.Has(0) {
		t.Fatalf("ParsePriceSet: %b, %v", s, err)
	}
	for _, bad := range []string{"", "0", "5", "1,,2", "$"} {
		if _, err := ParsePriceSet(bad); err == nil {
			t.Errorf("ParsePriceSet(%q) accepted", bad)
		}
	}
}

func TestBusinessEqual(t *testing.T) {
	a, err := hours.New("Europe/Paris", [7][]hours.Span{1: {{Open: 540, Close: 1080}}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := hours.New("Europe/Paris", [7][]hours.Span{1: {{Open: 540, Close: 1080}}})
	c, _ := hours.New("Europe/Paris", [7][]hours.Span{2: {{Open: 540, Close: 1080}}})
	x := Business{ID: 1, Name: "x", Hours: &a}
	y := x
	y.Hours = &b
	if !x.Equal(y) {
		t.Error("equal hours at different addresses differ")
	}
	y.Hours = &c
	if x.Equal(y) {
		t.Error("different hours are equal")
	}
	y.Hours = nil
	if x.Equal(y) || !y.Equal(y) {
		t.Error("nil hours")
	}
	y = x
	y.Price = 2
	if x.Equal(y) {
		t.Error("different prices are equal")
	}
}
