package geohash

import (
	"errors"
	"fmt"
	"math"

	gh "github.com/mmcloughlin/geohash"

	"github.com/nearby/nearby/geo"
)

// MaxPrecision is the longest geohash, in characters: 60 bits, the most the
// library's 64-bit integers hold in whole characters.
const MaxPrecision = 12

// Errors returned for bad input. They are wrapped with details; test with
// errors.Is.
var (
	ErrInvalidHash   = errors.New("geohash: invalid hash")
	ErrPrecision     = errors.New("geohash: precision not in 1..12")
	ErrInvalidPoint  = errors.New("geohash: invalid coordinates")
	ErrInvalidRadius = errors.New("geohash: invalid radius")
	ErrTooManyCells  = errors.New("geohash: too many cells")
)

// alphabet is the geohash base32 alphabet. It is in ASCII order, so sorting
// hashes of one length as strings sorts them as integers.
const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// edge keeps coordinates off the world's edges before they reach the
// library: at exactly ±90° or ±180°, and within rounding of them, its
// encoder wraps to the opposite row or column. 1e-7° is less than half the
// smallest cell (1.68e-7° high at precision 12), so clamping never moves a
// point into another row or column except the one it borders.
const edge = 1e-7

// Encode returns the geohash of precision characters (1..12) of the cell
// holding lat, lon degrees. Latitude 90 is in the northernmost row and
// longitude 180 in the easternmost column (see the package rules). Encode
// returns "" if the point is not valid (geo.Valid) or precision is not in
// 1..12.
func Encode(lat, lon float64, precision uint) string {
	if !geo.Valid(lat, lon) || precision < 1 || precision > MaxPrecision {
		return ""
	}
	lat, lon = clamp(lat, lon)
	return gh.EncodeWithPrecision(lat, lon, precision)
}

// clamp moves a valid point just inside the world's edges; see edge.
func clamp(lat, lon float64) (float64, float64) {
	return math.Max(-90+edge, math.Min(90-edge, lat)),
		math.Max(-180+edge, math.Min(180-edge, lon))
}

// Decode returns the centre, in degrees, of the cell named by hash. A
// malformed hash gives an error wrapping ErrInvalidHash, and also
// ErrPrecision if its length is not in 1..12.
func Decode(hash string) (lat, lon float64, err error) {
	if err := validate(hash); err != nil {
		return 0, 0, fmt.Errorf("decode: %w", err)
	}
	lat, lon = gh.DecodeCenter(hash)
	return lat, lon, nil
}

// Bounds returns the cell named by hash as a rectangle in degrees. The
// rectangle includes its edges; cells never cross the antimeridian. Errors
// are those of Decode.
func Bounds(hash string) (geo.Rect, error) {
	if err := validate(hash); err != nil {
		return geo.Rect{}, fmt.Errorf("bounds: %w", err)
	}
	b := gh.BoundingBox(hash)
	return geo.Rect{MinLat: b.MinLat, MinLon: b.MinLng, MaxLat: b.MaxLat, MaxLon: b.MaxLng}, nil
}

// validate checks hash before it reaches the library, which does not check
// lengths or characters when decoding.
func validate(hash string) error {
	if len(hash) < 1 || len(hash) > MaxPrecision {
		return fmt.Errorf("%w: %s has %d characters: %w", ErrInvalidHash, quote(hash), len(hash), ErrPrecision)
	}
	for i := range len(hash) {
		if decodeTable[hash[i]] == invalid {
			return fmt.Errorf("%w: %s: character %q at %d", ErrInvalidHash, quote(hash), hash[i], i)
		}
	}
	return nil
}

// quote quotes s for an error message, cut short: hashes may come from
// untrusted input of any size.
func quote(s string) string {
	const maxLen = 16
	if len(s) > maxLen {
		return fmt.Sprintf("%q...", s[:maxLen])
	}
	return fmt.Sprintf("%q", s)
}

const invalid = 0xff

// decodeTable maps a byte to its value in alphabet, or invalid.
var decodeTable = func() (t [256]byte) {
	for i := range t {
		t[i] = invalid
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// PrecisionForRadius returns the precision for covering circles of radiusM
// metres: the largest in 1..12 whose cells are at least radiusM high. The
// height is a cell's smaller side at the equator and is the same in metres at
// every latitude (cells narrow towards the poles instead). A circle then
// spans at most three rows and, up to ±45° latitude, four columns: Cover
// returns at most 9 cells on the equator and 12 up to ±45°, more towards the
// poles. Cells are 1 to 8 times as high as the radius. A radius ≤ 0 gives 12;
// NaN, +Inf and radii above 5000 km give 1.
func PrecisionForRadius(radiusM float64) uint {
	for p := uint(MaxPrecision); p > 1; p-- {
		if cellHeightM(p) >= radiusM || radiusM <= 0 {
			return p
		}
	}
	return 1
}

// cellHeightM is the height in metres of a cell of precision p.
func cellHeightM(p uint) float64 {
	return math.Ldexp(math.Pi*geo.EarthRadiusM, -int(5*p/2))
}
