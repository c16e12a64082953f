package textmatch

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// spelled maps the case-folded letters that have no Unicode decomposition to
// the letters a searcher types for them.
var spelled = map[rune]string{
	'æ': "ae",
	'œ': "oe",
	'ø': "o",
	'ł': "l",
	'đ': "d",
	'ð': "d",
	'þ': "th",
	'ı': "i",
	'ħ': "h", // Maltese: Ħamrun
	'ŧ': "t", // Northern Sámi
}

// isApostrophe reports whether r is removed from words without splitting them.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '‘', '’', 'ʼ', 'ʻ', '`', '´', '＇': // ʻ: the Hawaiian ʻokina, as in Hawaiʻi
		return true
	}
	return false
}

// dropApostrophe is for strings.Map: it removes apostrophes.
func dropApostrophe(r rune) rune {
	if isApostrophe(r) {
		return -1
	}
	return r
}

// Fold returns s normalised for matching (see the package rules): its words,
// case-folded, without accents, separated by single spaces. Fold is
// idempotent, and its result is valid UTF-8 whatever s is.
func Fold(s string) string {
	// Apostrophes go before NFKD, which turns "´" into a space and a mark,
	// and again after it, which turns "ŉ" into "ʼn". Case folding can undo
	// NFKD ("İ" would become "i" and a combining dot), hence NFKD around it.
	s = strings.Map(dropApostrophe, s)
	s = norm.NFKD.String(cases.Fold().String(norm.NFKD.String(s)))
	var b strings.Builder
	b.Grow(len(s))
	gap := false // a separator since the last word character
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) || isApostrophe(r) {
			continue
		}
		if unicode.Is(unicode.Cherokee, r) && unicode.IsLower(r) {
			// Unicode folds Cherokee to capitals; x/text (v0.44) folds capitals
			// to small letters and small letters to capitals.
			r = unicode.ToUpper(r)
		}
		sp, ok := spelled[r]
		if !ok && !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) {
			gap = true
			continue
		}
		if gap && b.Len() > 0 {
			b.WriteByte(' ')
		}
		gap = false
		if ok {
			b.WriteString(sp)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
