package textmatch

import (
	"math/rand/v2"
	"testing"
)

// TestFoldASCIIIsFold: the ASCII fast path folds exactly as Fold does.
func TestFoldASCIIIsFold(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const chars = "aZ09 '`-_.,!?/&()\t\x00\x7fMcDonald's"
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = byte(r.IntN(128))
			} else {
				b[i] = chars[r.IntN(len(chars))]
			}
		}
		var buf [128]byte
		got, ok := foldASCII(buf[:0], string(b))
		if !ok || string(got) != Fold(string(b)) {
			t.Fatalf("foldASCII(%q) = %q, %v; Fold = %q", b, got, ok, Fold(string(b)))
		}
	}
	if _, ok := foldASCII(nil, "Café"); ok {
		t.Error("non-ASCII folded by the fast path")
	}
	q, err := Compile("joe pizza")
	if err != nil {
		t.Fatal(err)
	}
	if !q.MatchName("Joe's Pizza, Times Square") || q.MatchName("Joe's Diner") {
		t.Error("MatchName of ASCII names")
	}
	if testing.AllocsPerRun(100, func() { q.MatchName("Joe's Pizza, Times Square") }) > 0 {
		t.Error("MatchName of an ASCII name allocates")
	}
}
