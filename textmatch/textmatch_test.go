package textmatch_test

import (
	"errors"
	"flag"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nearby/nearby/textmatch"
)

var seedFlag = flag.Uint64("seed", 0, "random seed for property tests (0: time-based)")

// newRand returns a seeded generator and logs the seed so a failure
// reproduces with -seed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func TestFold(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"acute", "Le Petit Café", "le petit cafe"},
		{"capital acute", "ÉCOLE", "ecole"},
		{"tilde", "Ñandú", "nandu"},
		{"umlaut", "Müller Bäckerei", "muller backerei"},
		{"cedilla", "Façade", "facade"},
		{"sharp s", "Straße", "strasse"},
		{"capital sharp s", "STRAẞE", "strasse"},
		{"Turkish dotless i", "Işık", "isik"},
		{"Turkish dotted capital I", "İstanbul", "istanbul"},
		{"Turkish capitals", "ISPARTA", "isparta"},
		{"apostrophe", "McDonald's", "mcdonalds"},
		{"right single quote", "McDonald’s", "mcdonalds"},
		{"acute accent as apostrophe", "McDonald´s", "mcdonalds"},
		{"fullwidth apostrophe", "McDonald＇s", "mcdonalds"},
		{"hyphen", "Saint-Étienne", "saint etienne"},
		{"punctuation runs", "  Café -- Bar!! ", "cafe bar"},
		{"emoji", "☕ Coffee 🍩&Donuts", "coffee donuts"},
		{"digits", "Café 24/7", "cafe 24 7"},
		{"superscript", "Bar²", "bar2"},
		{"roman numeral", "Louis Ⅻ", "louis xii"},
		{"ligature", "ﬁne ﬂour", "fine flour"},
		{"fullwidth", "ＴＯＫＹＯ", "tokyo"},
		{"ae oe o", "Ærø Œuvre Øl", "aero oeuvre ol"},
		{"Polish l", "Łódź", "lodz"},
		{"Vietnamese", "Phở Đà Nẵng", "pho da nang"},
		{"Icelandic", "Þórður Guðmundsson", "thordur gudmundsson"},
		{"Maltese h with stroke", "Ħamrun Ħal Qormi", "hamrun hal qormi"},
		{"Sami t with stroke", "ŦŦ ŧ", "tt t"},
		{"Hawaiian okina", "Hawaiʻi Oʻahu", "hawaii oahu"},
		{"okina typed as a quote", "Hawai‘i", "hawaii"},
		{"Greek", "ΣΟΦΊΑ Σοφίας", "σοφια σοφιασ"},
		{"Cyrillic", "Кофейня Ёлка", "кофеиня елка"},
		{"CJK", "北京烤鸭店", "北京烤鸭店"},
		{"CJK with punctuation", "寿司・さいとう", "寿司 さいとう"},
		{"Cherokee folds to capitals", "ꭼᏃ Ꭼ", "ᎬᏃ Ꭼ"},
		{"kana voicing mark", "ガスト", "カスト"},
		{"only punctuation", "!!! ☕ --", ""},
		{"empty", "", ""},
		{"invalid UTF-8", "caf\xff\xfe bar", "caf bar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := textmatch.Fold(tt.in)
			if got != tt.want {
				t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := textmatch.Fold(got); again != got {
				t.Errorf("Fold(%q) = %q, not idempotent", got, again)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		q, name string
		want    bool
	}{
		{"caf", "Le Petit Café", true},
		{"pet caf", "Le Petit Café", true},
		{"CAFÉ le", "Le Petit Café", true},
		{"afe", "Le Petit Café", false},
		{"petit cafe bar", "Le Petit Café", false},
		{"le le", "Le Petit Café", false},
		{"le le", "Le Bistro de Le Marais", true},
		{"a ab", "ab ac", true}, // "ab" must take "ab", leaving "ac" to "a"
		{"ab a", "ab ac", true},
		{"a a", "ab ac", true},
		{"a a a", "ab ac", false},
		{"ab ab", "ab abc", true},
		{"ab abc", "abc ab", true},
		{"abc abc", "abc ab", false},
		{"mcdonald", "McDonald's", true},
		{"mcdonalds", "McDonald’s", true},
		{"mcdonald's", "McDonalds", true},
		{"donald", "McDonald's", false},
		{"etienne", "Saint-Étienne", true},
		{"saint-eti", "Boulangerie Saint-Étienne", true},
		{"istanbul", "İSTANBUL KEBAP", true},
		{"ısp", "Isparta Pide", true},
		{"strass", "Straße 12", true},
		{"straße", "STRASSE 12", true},
		{"12", "Straße 12", true},
		{"2", "Straße 12", false},
		{"北京", "北京烤鸭店", true},
		{"烤鸭", "北京烤鸭店", false},
		{"coffee", "☕ Coffee", true},
		{"nandu", "Ñandú Parrilla", true},
		{"ñan", "Nandu Parrilla", true},
		{"muller", "Bäckerei Müller", true},
		{"mueller", "Bäckerei Müller", false}, // no German transliteration
		{"garcon", "Garçon", true},
		{"σοφι", "ΣΟΦΊΑ", true},
	}
	for _, tt := range tests {
		t.Run(tt.q+"/"+tt.name, func(t *testing.T) {
			q, err := textmatch.Compile(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.MatchName(tt.name); got != tt.want {
				t.Errorf("Compile(%q).MatchName(%q) = %v, want %v", tt.q, tt.name, got, tt.want)
			}
			if got := q.Match(textmatch.Fold(tt.name)); got != tt.want {
				t.Errorf("Compile(%q).Match(Fold(%q)) = %v, want %v", tt.q, tt.name, got, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, q string
		want    error
	}{
		{"empty", "", textmatch.ErrEmpty},
		{"spaces", "   ", textmatch.ErrEmpty},
		{"punctuation and emoji", "-- ☕ !", textmatch.ErrEmpty},
		{"apostrophes", "''", textmatch.ErrEmpty},
		// Fold keeps spacing marks in words, but they are neither letters
		// nor digits.
		{"only spacing marks", "\u0903 \u0bbe\u0bbe", textmatch.ErrEmpty},
		{"only an enclosing mark", "\u20dd", textmatch.ErrEmpty},
		{"spacing mark after a letter", "a\u0903", nil},
		{"too many bytes", strings.Repeat("a", textmatch.MaxQueryBytes+1), textmatch.ErrTooLong},
		{"too many words", "a b c d e f g h i", textmatch.ErrTooLong},
		{"too many words after folding", "a-b-c-d-e-f-g-h-i", textmatch.ErrTooLong},
		{"max bytes", strings.Repeat("a", textmatch.MaxQueryBytes), nil},
		{"max words", "a b c d e f g h", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := textmatch.Compile(tt.q)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Compile(%q) = %v, want %v", tt.q, err, tt.want)
			}
		})
	}
}

func TestZeroQueryMatchesAll(t *testing.T) {
	var q textmatch.Query
	if !q.Match("") || !q.MatchName("Le Petit Café") {
		t.Error("zero Query does not match every name")
	}
}

// latin1 spells out each character of U+00A0..U+00FF as the oracle folds it;
// " " is a separator, "" an apostrophe.
var latin1 = func() map[rune]string {
	m := map[rune]string{
		'ª': "a", '²': "2", '³': "3", '´': "", 'µ': "μ", '¹': "1", 'º': "o",
		'¼': "1 4", '½': "1 2", '¾': "3 4",
		'Æ': "ae", 'æ': "ae", 'Ç': "c", 'ç': "c", 'Ð': "d", 'ð': "d", 'Ñ': "n", 'ñ': "n",
		'Ø': "o", 'ø': "o", 'Þ': "th", 'þ': "th", 'ß': "ss", 'Ý': "y", 'ý': "y", 'ÿ': "y",
	}
	for _, g := range []struct{ upper, lower, base string }{
		{"ÀÁÂÃÄÅ", "àáâãäå", "a"}, {"ÈÉÊË", "èéêë", "e"}, {"ÌÍÎÏ", "ìíîï", "i"},
		{"ÒÓÔÕÖ", "òóôõö", "o"}, {"ÙÚÛÜ", "ùúûü", "u"},
	} {
		for _, r := range g.upper + g.lower {
			m[r] = g.base
		}
	}
	for r := rune(0xa0); r <= 0xff; r++ {
		if _, ok := m[r]; !ok {
			m[r] = " " // ¡¢£¤¥¦§¨©«¬ ®¯°±¶·¸»¿×÷ and no-break space
		}
	}
	return m
}()

// oracleFold folds ASCII and Latin-1 text the way Fold should, by table.
func oracleFold(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case 'A' <= r && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			b.WriteRune(r)
		case r == '\'' || r == '`':
		case r >= 0xa0 && r <= 0xff:
			b.WriteString(latin1[r])
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// oracleMatch reports whether each word of q can be given a distinct word of
// name that it begins: exact bipartite matching, by the sets of q words that
// the name words seen so far can serve.
func oracleMatch(q, name []string) bool {
	full := 1<<len(q) - 1
	can := map[int]bool{0: true}
	for _, n := range name {
		next := maps.Clone(can)
		for s := range can {
			for i, w := range q {
				if s&(1<<i) == 0 && strings.HasPrefix(n, w) {
					next[s|1<<i] = true
				}
			}
		}
		can = next
	}
	return can[full]
}

// pool is what the property test builds text from: few letters so that
// words often begin one another, with their accented, case and spelled-out
// variants, and separators.
var pool = []rune("aaabbbsstAABSTáÁäÅåßæÆþÞðøÿ½²ª1 -'´.·×\u00a0")

func randText(r *rand.Rand, maxLen int) string {
	rs := make([]rune, r.IntN(maxLen+1))
	for i := range rs {
		rs[i] = pool[r.IntN(len(pool))]
	}
	return string(rs)
}

func TestFoldMatchOracle(t *testing.T) {
	r := newRand(t)
	matched := 0
	for range 50000 {
		name, qs := randText(r, 16), randText(r, 6)
		f := textmatch.Fold(name)
		if want := oracleFold(name); f != want {
			t.Fatalf("Fold(%q) = %q, oracle %q", name, f, want)
		}
		qWords := strings.Fields(oracleFold(qs))
		q, err := textmatch.Compile(qs)
		switch {
		case len(qWords) == 0:
			if !errors.Is(err, textmatch.ErrEmpty) {
				t.Fatalf("Compile(%q) = %v, want ErrEmpty", qs, err)
			}
			continue
		case len(qWords) > textmatch.MaxQueryWords:
			if !errors.Is(err, textmatch.ErrTooLong) {
				t.Fatalf("Compile(%q) = %v, want ErrTooLong", qs, err)
			}
			continue
		case err != nil:
			t.Fatalf("Compile(%q): %v", qs, err)
		}
		want := oracleMatch(qWords, strings.Fields(f))
		if got := q.Match(f); got != want {
			t.Fatalf("Compile(%q).Match(%q) = %v, oracle %v", qs, f, got, want)
		}
		if want {
			matched++
		}
	}
	t.Logf("%d matches", matched)
	if matched < 1000 {
		t.Errorf("only %d matches: the test does not exercise matching", matched)
	}
}

// FuzzFold checks that Fold is idempotent and well formed, and that a query
// compiled from any text matches that text.
func FuzzFold(f *testing.F) {
	for _, s := range []string{"", "Le Petit Café", "McDonald's", "Saint-Étienne", "İSTANBUL ışık", "STRAẞE",
		"北京烤鸭店", "☕ Coffee", "ﬁ Ⅻ ½", "ŉ ᾈ ǰ", "a\u0345b", "ꭼ Ꭼ", "caf\xff\xfe", "a b c d e f g h i"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs := textmatch.Fold(s)
		if again := textmatch.Fold(fs); again != fs {
			t.Fatalf("Fold(%q) = %q, but Fold of that is %q", s, fs, again)
		}
		if !utf8.ValidString(fs) || strings.Join(strings.Fields(fs), " ") != fs ||
			strings.ContainsFunc(fs, func(r rune) bool { return r != ' ' && strings.TrimSpace(string(r)) == "" }) {
			t.Fatalf("Fold(%q) = %q: not single-space separated words", s, fs)
		}
		q, err := textmatch.Compile(s)
		if err != nil {
			if !errors.Is(err, textmatch.ErrEmpty) && !errors.Is(err, textmatch.ErrTooLong) {
				t.Fatalf("Compile(%q): unexpected error %v", s, err)
			}
			return
		}
		if !q.Match(fs) || !q.MatchName(s) {
			t.Fatalf("Compile(%q) does not match its own text %q", s, fs)
		}
	})
}

// FuzzMatch checks Match against the brute-force oracle on any text.
func FuzzMatch(f *testing.F) {
	f.Add("caf", "Le Petit Café")
	f.Add("a ab", "ab ac")
	f.Add("le le", "Le Bistro de Le Marais")
	f.Add("北京", "北京烤鸭店")
	f.Add("x\xff", "\xffx")
	f.Fuzz(func(t *testing.T, qs, name string) {
		q, err := textmatch.Compile(qs)
		if err != nil {
			return
		}
		fn := textmatch.Fold(name)
		got := q.Match(fn)
		if got != q.MatchName(name) {
			t.Fatalf("Match(Fold(name)) and MatchName(name) disagree for %q, %q", qs, name)
		}
		if want := oracleMatch(strings.Fields(textmatch.Fold(qs)), strings.Fields(fn)); got != want {
			t.Fatalf("Compile(%q).Match(%q) = %v, oracle %v", qs, fn, got, want)
		}
	})
}
