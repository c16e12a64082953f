package ownerapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
)

// readBody reads a request body of at most MaxBodyBytes whose media type is
// one of types. The body is always parsed as JSON: a missing Content-Type
// is taken as JSON, and so is application/x-www-form-urlencoded, which
// `curl -d` sends unless told otherwise (no form is ever parsed). Any other
// media type is refused with 415.
func readBody(w http.ResponseWriter, r *http.Request, types ...string) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, &statusError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", MaxBodyBytes)}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		// "utf8" is UTF-8 too (a label of it in the WHATWG Encoding
		// Standard, which browsers and many clients use).
		cs, hasCharset := params["charset"]
		utf8Charset := strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8")
		ok := slices.Contains(types, mt) || mt == "application/x-www-form-urlencoded"
		if err != nil || !ok || (hasCharset && !utf8Charset) {
			if r.Method == http.MethodPatch {
				w.Header().Set("Accept-Patch", strings.Join(types, ", "))
			}
			return nil, &statusError{http.StatusUnsupportedMediaType,
				fmt.Sprintf("Content-Type %q not supported: send %s (UTF-8)", ct, strings.Join(types, " or "))}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &statusError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", MaxBodyBytes)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The server's read timeout ran out while the body trickled in:
		// not a bad body (and the error's text names the sockets).
		w.Header().Set("Connection", "close")
		return nil, &statusError{http.StatusRequestTimeout, "the request body did not arrive in time"}
	case err != nil:
		return nil, invalid("body", "could not be read: "+err.Error())
	}
	return body, nil
}

func invalid(name, reason string) error {
	return nearby.InvalidParams([]nearby.InvalidParam{{Name: name, Reason: reason}})
}

// readOnly are fields of a business as the server shows it that a client
// cannot set.
var readOnly = []string{"id", "owner_id", "version", "created_at", "updated_at", "deleted_at"}

// decodeInput strictly decodes a business from a JSON object, for a create
// or a replace (patch false: name, category, lat and lon required; other
// fields absent or null are empty) or for a JSON merge patch (RFC 7396;
// patch true: absent fields are kept, null clears an optional field and is
// refused for a required one). Refused: anything but one JSON object in
// UTF-8, unknown or read-only fields, a field given twice, values of the
// wrong JSON type and values outside the domain's limits. Every bad field is
// named once in the EINVALID error, in nearby.BusinessFields order, then
// unknown fields by name; bad hours are named by their path below "hours"
// ("hours.weekly.mon[1]").
func decodeInput(body []byte, patch bool) (nearby.BusinessInput, error) {
	var in nearby.BusinessInput
	fields, err := decodeObject(body)
	if err != nil {
		return in, err
	}
	var bad []nearby.InvalidParam
	add := func(name, reason string) { bad = append(bad, nearby.InvalidParam{Name: name, Reason: reason}) }
	for _, f := range fields {
		raw, isNull := f.value, string(f.value) == "null"
		if f.dup {
			add(f.name, "given more than once")
			continue
		}
		if string(raw) == nonFinite {
			add(f.name, "NaN and Infinity are not allowed (nor are they JSON)")
			continue
		}
		if slices.Contains(nearby.BusinessFields, f.name) && loneSurrogate(raw) {
			add(f.name, `must be valid Unicode: holds a \u escape of half a UTF-16 surrogate pair`)
			continue
		}
		required := f.name == "name" || f.name == "category" || f.name == "lat" || f.name == "lon"
		if isNull && required {
			if patch {
				add(f.name, "required: cannot be removed")
			} else {
				add(f.name, "required")
			}
			continue
		}
		switch f.name {
		case "name":
			in.Name = str(raw, f.name, add)
		case "category":
			if s := str(raw, f.name, add); s != nil {
				c, err := nearby.ParseCategory(*s)
				if err != nil {
					add(f.name, fmt.Sprintf("unknown category %s; one of: %s", quote(*s), strings.Join(nearby.CategoryNames(), ", ")))
				} else {
					in.Category = &c
				}
			}
		case "lat":
			in.Lat = num(raw, f.name, "must be a number in [-90, 90]", add)
		case "lon":
			in.Lon = num(raw, f.name, "must be a number in [-180, 180]", add)
		case "address", "city", "state", "country", "zip", "description":
			var v *string
			if isNull {
				v = new(string) // cleared, or empty
			} else {
				v = str(raw, f.name, add)
			}
			switch f.name {
			case "address":
				in.Address = v
			case "city":
				in.City = v
			case "state":
				in.State = v
			case "country":
				in.Country = v
			case "zip":
				in.Zip = v
			case "description":
				in.Description = v
			}
		case "photos":
			if isNull {
				in.Photos = &[]string{}
			} else {
				in.Photos = photos(raw, add)
			}
		case "price":
			if isNull {
				in.Price = new(nearby.Price)
			} else if n, ok := integer(raw, 1, int64(nearby.MaxPrice)); ok {
				in.Price = ptr(nearby.Price(n))
			} else {
				add(f.name, "must be an integer price level from 1 to 4, or null")
			}
		case "rating":
			if isNull {
				in.Rating = new(nearby.Rating)
			} else if r, err := nearby.ParseRating(string(raw)); isNumber(raw) && err == nil {
				in.Rating = &r
			} else {
				add(f.name, "must be a number of stars from 0 to 5 with at most one decimal, or null")
			}
		case "review_count":
			if isNull {
				in.ReviewCount = new(uint32)
			} else if n, ok := integer(raw, 0, nearby.MaxReviewCount); ok {
				in.ReviewCount = ptr(uint32(n))
			} else {
				add(f.name, fmt.Sprintf("must be an integer from 0 to %d", nearby.MaxReviewCount))
			}
		case "hours":
			in.Hours = new(hours.Schedule) // null: unknown
			if err := in.Hours.UnmarshalJSON(raw); err != nil {
				in.Hours = nil
				if he := (*hours.Error)(nil); errors.As(err, &he) {
					add(hoursParam(he.Field), he.Reason)
				} else {
					add(f.name, err.Error())
				}
			}
		default:
			if slices.Contains(readOnly, f.name) {
				add(f.name, "read-only: set by the server")
			} else if utf8.RuneCountInString(f.name) > 64 {
				add(string([]rune(f.name)[:64])+"...", "unknown field")
			} else {
				add(f.name, "unknown field")
			}
		}
	}
	if !patch {
		for _, name := range []string{"name", "category", "lat", "lon"} {
			if !slices.ContainsFunc(fields, func(f field) bool { return f.name == name }) {
				add(name, "required")
			}
		}
	}
	// Limits, for the fields that decoded.
	var de *nearby.Error
	if err := in.Validate(false); errors.As(err, &de) {
		bad = append(bad, de.Params...)
	}
	return in, sortParams(bad)
}

// hoursParam names the parameter of a part of the hours ("weekly.mon[1]").
func hoursParam(field string) string {
	if field == "" {
		return "hours"
	}
	return "hours." + field
}

// sortParams returns an EINVALID error naming each field once (its first
// reason), known fields in documented order (a part of one, such as
// "hours.time_zone", in its field's place), then others by name.
func sortParams(bad []nearby.InvalidParam) error {
	rank := func(name string) int {
		if i := strings.IndexAny(name, ".["); i > 0 {
			name = name[:i]
		}
		if i := slices.Index(nearby.BusinessFields, name); i >= 0 {
			return i
		}
		return len(nearby.BusinessFields)
	}
	slices.SortStableFunc(bad, func(a, b nearby.InvalidParam) int {
		if c := rank(a.Name) - rank(b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	bad = slices.CompactFunc(bad, func(a, b nearby.InvalidParam) bool { return a.Name == b.Name })
	return nearby.InvalidParams(bad)
}

// field is one member of a decoded JSON object.
type field struct {
	name  string
	value json.RawMessage
	dup   bool // a later occurrence of a name already seen
}

// maxFields bounds the members of a body object, far above the real ones,
// so that a body of many tiny unknown members costs little.
const maxFields = 64

// decodeObject splits body, which must be exactly one JSON object in
// UTF-8, into its members in order.
func decodeObject(body []byte) ([]field, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, invalid("body", "required: a JSON object")
	}
	if !utf8.Valid(body) {
		return nil, invalid("body", "must be UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(markNonFinite(body)))
	dec.UseNumber()
	malformed := func(err error) error {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return invalid("body", fmt.Sprintf("malformed JSON at byte %d: %v", dec.InputOffset(), err))
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalid("body", "must be a JSON object")
	}
	var fields []field
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed(err)
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, malformed(err)
		}
		if len(fields) == maxFields {
			return nil, invalid("body", fmt.Sprintf("more than %d fields", maxFields))
		}
		fields = append(fields, field{name: name, value: v, dup: seen[name]})
		seen[name] = true
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("body", fmt.Sprintf("trailing data after the JSON object at byte %d", dec.InputOffset()))
	}
	return fields, nil
}

// nonFinite replaces the bare NaN, Infinity and -Infinity that some JSON
// encoders write (Python's json.dumps by default) before decoding, so that
// the field holding one is named in the error instead of the whole body
// being malformed. It holds a NUL, which no field accepts.
const nonFinite = `"\u0000non-finite"`

// markNonFinite returns body with every NaN, Infinity and -Infinity
// outside strings replaced by nonFinite. Outside strings those words can
// only be such values: JSON's literals are lower case.
func markNonFinite(body []byte) []byte {
	if !bytes.Contains(body, []byte("NaN")) && !bytes.Contains(body, []byte("Infinity")) {
		return body
	}
	out := make([]byte, 0, len(body)+32)
	inString, escaped := false, false
next:
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString:
			for _, word := range []string{"NaN", "Infinity", "-Infinity"} {
				if bytes.HasPrefix(body[i:], []byte(word)) {
					out = append(out, nonFinite...)
					i += len(word) - 1
					continue next
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// loneSurrogate reports whether raw, a valid JSON value, holds a \u escape
// of a UTF-16 surrogate that is not half of a pair. encoding/json decodes one
// as U+FFFD, so the text stored would not be the text sent.
func loneSurrogate(raw json.RawMessage) bool {
	if !bytes.Contains(raw, []byte(`\u`)) {
		return false
	}
	hex := func(i int) (rune, bool) { // the \uXXXX escape at raw[i:], if any
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := hex(i)
		switch {
		case !ok: // another escape: skip its character, which may be a backslash
			i++
		case !utf16.IsSurrogate(r):
			i += 5
		default:
			r2, ok := hex(i + 6)
			if !ok || utf16.DecodeRune(r, r2) == utf8.RuneError {
				return true
			}
			i += 11
		}
	}
	return false
}

func str(raw json.RawMessage, name string, add func(string, string)) *string {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		add(name, "must be a string")
		return nil
	}
	return &s
}

// isNumber reports whether raw, a valid JSON value, is a number.
func isNumber(raw json.RawMessage) bool {
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}

// integer parses raw as a JSON number with an integer value in [lo, hi].
// A whole number written with a fraction or an exponent (2.0, 2e0) counts:
// JSON has one number type, api/owner-api.yaml's `type: integer` is JSON
// Schema's, which holds any number whose fractional part is zero, and
// encoders of floats write 2.0 (Python's json.dumps). As for ratings, a
// number closer to a whole one than a float64 can tell counts as that one.
func integer(raw json.RawMessage, lo, hi int64) (int64, bool) {
	if !isNumber(raw) {
		return 0, false
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n, n >= lo && n <= hi
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, false
	}
	return int64(f), true
}

func ptr[T any](v T) *T { return &v }

func num(raw json.RawMessage, name, reason string, add func(string, string)) *float64 {
	if !isNumber(raw) {
		add(name, reason)
		return nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil { // out of float64's range
		add(name, reason)
		return nil
	}
	return &f
}

func photos(raw json.RawMessage, add func(string, string)) *[]string {
	var items []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		add("photos", "must be an array of URL strings")
		return nil
	}
	if len(items) > nearby.MaxPhotos {
		add("photos", fmt.Sprintf("at most %d photos", nearby.MaxPhotos))
		return nil
	}
	out := make([]string, len(items))
	for i, it := range items {
		if len(it) == 0 || it[0] != '"' || json.Unmarshal(it, &out[i]) != nil {
			add("photos", fmt.Sprintf("photos[%d]: must be a string", i))
			return nil
		}
	}
	return &out
}

// quote quotes s for an error message, cut short.
func quote(s string) string {
	const maxLen = 40
	if utf8.RuneCountInString(s) > maxLen {
		return strconv.Quote(string([]rune(s)[:maxLen])) + "..."
	}
	return strconv.Quote(s)
}
