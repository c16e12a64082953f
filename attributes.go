package nearby

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Price is a business's price level, 1 ($) to 4 ($$$$); 0 when not set.
type Price uint8

// MaxPrice is the highest price level.
const MaxPrice Price = 4

// Valid reports whether p is a price level or 0 (not set).
func (p Price) Valid() bool { return p <= MaxPrice }

// PriceSet is a set of price levels: bit p for level p. The empty set means
// every level (and businesses without one).
type PriceSet uint8

// Has reports whether s holds p.
func (s PriceSet) Has(p Price) bool { return p >= 1 && p <= MaxPrice && s&(1<<p) != 0 }

// ParsePriceSet parses a comma-separated list of price levels ("1,2").
func ParsePriceSet(list string) (PriceSet, error) {
	var s PriceSet
	for _, f := range strings.Split(list, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 1 || p > int(MaxPrice) {
			return 0, fmt.Errorf("price %q: want levels 1 to %d, comma-separated", f, MaxPrice)
		}
		s |= 1 << p
	}
	return s, nil
}

// Rating is an average review score in tenths of a star, 0.0 to 5.0 stars,
// stored offset by one so that the zero value means "not rated": Rating 46
// is 4.5 stars. Build one with RatingOf or ParseRating.
type Rating uint8

// Unrated is the rating of a business without one.
const Unrated Rating = 0

// MaxRatingTenths is 5.0 stars in tenths.
const MaxRatingTenths = 50

// RatingOf returns the rating of tenths of a star (0 to 50).
func RatingOf(tenths int) Rating { return Rating(tenths + 1) }

// Valid reports whether r is a rating or Unrated.
func (r Rating) Valid() bool { return r <= MaxRatingTenths+1 }

// Rated reports whether r is a rating, not Unrated.
func (r Rating) Rated() bool { return r != Unrated }

// Tenths returns r in tenths of a star (45 for 4.5 stars); -1 when Unrated.
func (r Rating) Tenths() int { return int(r) - 1 }

// Stars returns r in stars with one decimal (4.5); NaN when Unrated.
func (r Rating) Stars() float64 {
	if r == Unrated {
		return math.NaN()
	}
	return float64(r.Tenths()) / 10
}

// String formats r as stars with one decimal ("4.5"), or "unrated".
func (r Rating) String() string {
	if r == Unrated {
		return "unrated"
	}
	return strconv.FormatFloat(r.Stars(), 'f', 1, 64)
}

// ParseRating parses stars from 0 to 5 with at most one decimal ("4.5").
func ParseRating(s string) (Rating, error) {
	f, err := strconv.ParseFloat(s, 64)
	tenths := math.Round(f * 10)
	// A number with one decimal parses to the float64 nearest it, which
	// is tenths/10 exactly (the division rounds correctly too); a number
	// further from every tenth than a float64 can tell is refused.
	if err != nil || !(f >= 0 && f <= 5) || tenths/10 != f {
		return Unrated, fmt.Errorf("rating %q: want 0 to 5 stars with at most one decimal", s)
	}
	return RatingOf(int(tenths)), nil
}
