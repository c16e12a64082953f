package httpapi

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/nearby/nearby"
)

// Search answers are the hot path of searchd, so they are encoded by hand
// rather than through reflection (encoding/json took a third of a search
// request's CPU). The output is what encoding/json would produce for
// nearbyJSON, minus HTML escaping; tests check the two decode alike.

// appendPage appends the JSON document of a page of results.
func appendPage(b []byte, page *nearby.SearchPage, next *string, shape answerShape) []byte {
	b = append(b, `{"results":`...)
	b = appendResults(b, page.Results, shape)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(len(page.Results)), 10)
	b = append(b, `,"next_cursor":`...)
	if next == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *next)
	}
	b = append(b, `,"partial":`...)
	b = strconv.AppendBool(b, page.Partial)
	if len(page.Missing) > 0 {
		b = append(b, `,"missing_regions":[`...)
		for i, m := range page.Missing {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m)
		}
		b = append(b, ']')
	}
	if shape.total {
		b = append(b, `,"total":`...)
		b = strconv.AppendInt(b, int64(page.Total), 10)
		b = append(b, `,"total_capped":`...)
		b = strconv.AppendBool(b, page.TotalCapped)
	}
	b = append(b, `,"index_version":`...)
	b = appendString(b, page.IndexVersion)
	return append(b, "}\n"...)
}

// appendResults appends a JSON array of results with the shape's fields.
func appendResults(b []byte, rs []nearby.SearchResult, shape answerShape) []byte {
	fs := shape.fields
	if !shape.distance {
		fs = fs.without(fieldDistance)
	}
	b = append(b, '[')
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		start := len(b)
		if fs.has(fieldID) {
			b = appendKey(b, start, "id")
			b = append(b, '"')
			b = strconv.AppendInt(b, r.ID, 10)
			b = append(b, '"')
		}
		if fs.has(fieldName) {
			b = appendString(appendKey(b, start, "name"), r.Name)
		}
		if fs.has(fieldCategory) {
			b = append(appendKey(b, start, "category"), '"')
			b = append(b, r.Category.String()...)
			b = append(b, '"')
		}
		if fs.has(fieldLat) {
			b = appendCoord(appendKey(b, start, "lat"), r.Lat)
		}
		if fs.has(fieldLon) {
			b = appendCoord(appendKey(b, start, "lon"), r.Lon)
		}
		if fs.has(fieldDistance) {
			b = appendFloat(appendKey(b, start, "distance_m"), r.DistanceM)
		}
		if fs.has(fieldPrice) {
			b = appendKey(b, start, "price")
			if r.Price == 0 {
				b = append(b, "null"...)
			} else {
				b = strconv.AppendInt(b, int64(r.Price), 10)
			}
		}
		if fs.has(fieldRating) {
			b = appendKey(b, start, "rating")
			switch t := r.Rating.Tenths(); {
			case !r.Rating.Rated():
				b = append(b, "null"...)
			case t <= nearby.MaxRatingTenths:
				b = append(b, starsText[t]...)
			default: // not a valid rating; written as encoding/json would
				b = appendFloat(b, r.Rating.Stars())
			}
		}
		if fs.has(fieldReviewCount) {
			b = strconv.AppendUint(appendKey(b, start, "review_count"), uint64(r.ReviewCount), 10)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// starsText[t] is the JSON of a rating of t tenths of a star, as
// appendFloat writes it ("4.2", "5").
var starsText = func() (t [nearby.MaxRatingTenths + 1]string) {
	for i := range t {
		t[i] = string(appendFloat(nil, float64(i)/10))
	}
	return t
}()

// appendKey appends an object key, after a comma unless the object, which
// began at start, is still empty.
func appendKey(b []byte, start int, key string) []byte {
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// appendFloat formats like encoding/json: shortest representation, with an
// exponent only for very small or very large magnitudes.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendCoord appends a coordinate. Index coordinates are multiples of
// 1e-7°, whose shortest representation is their 7-decimal form without
// trailing zeros: integer formatting gives it without the float printer.
func appendCoord(b []byte, deg float64) []byte {
	e7 := math.Round(deg * 1e7)
	if math.Abs(e7) > 1.8e9 || math.Abs(e7) < 10 || e7/1e7 != deg {
		return appendFloat(b, deg)
	}
	v := int64(e7)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/1e7, 10)
	frac := v % 1e7
	if frac == 0 {
		return b
	}
	var digits [8]byte
	n := 7
	for frac%10 == 0 {
		frac /= 10
		n--
	}
	for i := n; i > 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	digits[0] = '.'
	return append(b, digits[:n+1]...)
}

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, and U+2028/U+2029
// escaped for JavaScript.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
