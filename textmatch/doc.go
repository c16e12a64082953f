// Package textmatch matches a search parameter q against business names,
// ignoring case and accents: every word of q must begin some word of the
// name, so "caf" and "pet caf" find "Le Petit Café" but "afe" does not.
//
// Rules:
//   - Fold normalises text for matching, never for display: Unicode NFKD,
//     full case folding (golang.org/x/text/cases), nonspacing marks (Mn)
//     dropped, so "É" is "e", "ﬁ" is "fi" and "Ⅻ" is "xii". Letters that do
//     not decompose are spelled out: ß→ss, æ→ae, œ→oe, ø→o, ł→l, đ→d,
//     ð→d, þ→th, ħ→h, ŧ→t, Turkish dotless ı→i (and "İ" folds to "i").
//   - A word is a run of letters, digits and spacing marks. Apostrophes
//     (' ‘ ’ ʼ ` ´ ＇, and the Hawaiian ʻokina ʻ, often typed ‘) are
//     removed without splitting, so "McDonald's" is the one word
//     "mcdonalds" and "Hawaiʻi" is "hawaii"; every other character (space,
//     hyphen, punctuation, emoji) separates words: "Saint-Étienne" is
//     "saint etienne". Folded text is its words joined by single spaces.
//   - Scripts written without spaces are not segmented: "北京烤鸭店" is one
//     word, found by "北京" but not by "烤鸭". Prefixes are whole runes (of the
//     folded, decomposed form: Hangul syllables fold to their jamo, and kana
//     lose their voicing marks as Latin letters lose accents).
//   - Matching is by prefix for every word of q, the last one included, in
//     any order, and each word of q needs its own word of the name: "le le"
//     finds "Le Bistro de Le Marais" but not "Le Marais".
//   - A query is at most MaxQueryBytes bytes of input and MaxQueryWords
//     words after folding (ErrTooLong); one with no letters or digits is
//     ErrEmpty.
//   - Query.Match allocates nothing and makes one substring scan of the
//     folded name per distinct word of q, so it suits a scan over many
//     candidates whose names were folded once, ahead of time.
//   - Every function is pure and safe for concurrent use; a Query is
//     immutable.
//
// The package imports only the standard library and golang.org/x/text.
package textmatch
