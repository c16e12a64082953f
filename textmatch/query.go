package textmatch

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unsafe"
)

// Limits of a query, so a request cannot make every candidate expensive.
const (
	MaxQueryBytes = 100 // of q as sent, before folding
	MaxQueryWords = 8   // after folding
)

// Errors of Compile.
var (
	ErrEmpty   = errors.New("textmatch: empty query")
	ErrTooLong = errors.New("textmatch: query too long")
)

// Query is a compiled search parameter q. The zero Query has no words and
// matches every name.
type Query struct {
	// words are the distinct folded words of q, longest first: the most
	// selective is tried first, so most candidates fail after one scan.
	words []string
	// need[i] is how many words of q, repeats included, begin with
	// words[i]: that many distinct words of a name must begin with it.
	need []int
}

// Compile folds q (see Fold) into a Query. It fails with ErrTooLong when q
// has more than MaxQueryBytes bytes or more than MaxQueryWords words, and
// with ErrEmpty when it has no letter or digit (a word of marks alone is
// not enough).
func Compile(q string) (Query, error) {
	if len(q) > MaxQueryBytes {
		return Query{}, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLong, len(q), MaxQueryBytes)
	}
	folded := Fold(q)
	// A word may be made of marks alone (Fold keeps spacing marks), which
	// is still no letter or digit to search for.
	if !strings.ContainsFunc(folded, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) {
		return Query{}, fmt.Errorf("%w: %q has no letters or digits", ErrEmpty, q)
	}
	all := strings.Fields(folded)
	if len(all) > MaxQueryWords {
		return Query{}, fmt.Errorf("%w: %d words, more than %d", ErrTooLong, len(all), MaxQueryWords)
	}
	words := slices.Clone(all)
	slices.SortStableFunc(words, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	words = slices.Compact(words) // equal words have equal lengths: adjacent
	need := make([]int, len(words))
	for i, w := range words {
		for _, u := range all {
			if strings.HasPrefix(u, w) {
				need[i]++
			}
		}
	}
	return Query{words: words, need: need}, nil
}

// Match reports whether every word of q begins a word of folded, each word of
// q a different word of folded. folded must be the result of Fold. Match
// allocates nothing.
//
// Distinct words make this a bipartite matching, but a simple count solves
// it: two words of q are either one a prefix of the other, and then every
// name word matching the longer matches the shorter too, or neither, and
// then no name word matches both. So the sets of name words matching each
// query word nest or are disjoint, and Hall's condition reduces to: for
// every query word w, at least need(w) name words begin with w.
func (q Query) Match(folded string) bool {
	for i, w := range q.words {
		if !hasWordPrefixes(folded, w, q.need[i]) {
			return false
		}
	}
	return true
}

// MatchName is Match(Fold(name)), for a name not folded ahead of time. A
// name of ASCII characters only (most names) is folded into a stack buffer
// without allocating.
func (q Query) MatchName(name string) bool {
	var buf [128]byte
	if folded, ok := foldASCII(buf[:0], name); ok {
		for i, w := range q.words {
			if !hasWordPrefixes(folded, w, q.need[i]) {
				return false
			}
		}
		return true
	}
	return q.Match(Fold(name))
}

// foldASCII appends Fold(s) to dst when s is ASCII and fits dst's capacity;
// ok is false otherwise. For ASCII, Fold lower-cases letters, keeps digits,
// drops apostrophes (' and `) and turns every other run into one space.
func foldASCII(dst []byte, s string) (folded []byte, ok bool) {
	if len(s) > cap(dst) {
		return nil, false
	}
	gap := false
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 0x80:
			return nil, false
		case c == '\'' || c == '`':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
		default:
			gap = true
			continue
		}
		if gap && len(dst) > 0 {
			dst = append(dst, ' ')
		}
		gap = false
		dst = append(dst, c)
	}
	return dst, true
}

// hasWordPrefixes reports whether at least n words of folded begin with w.
func hasWordPrefixes[S string | []byte](folded S, w string, n int) bool {
	for off := 0; n > 0; {
		i := index(folded[off:], w)
		if i < 0 {
			return false
		}
		i += off
		if i == 0 || folded[i-1] == ' ' {
			n--
		}
		off = i + 1
	}
	return true
}

// index is strings.Index for a string or a byte slice, without converting
// (and so copying) the slice.
func index[S string | []byte](s S, sub string) int {
	if b, ok := any(s).([]byte); ok {
		// SAFETY: bytes.Index only reads its arguments, so viewing sub's
		// bytes without copying them cannot modify the string.
		return bytes.Index(b, unsafe.Slice(unsafe.StringData(sub), len(sub)))
	}
	return strings.Index(string(s), sub)
}
