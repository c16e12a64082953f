package dataset

import (
	"reflect"
	"runtime"
	"testing"
	"weak"

	"github.com/nearby/nearby"
)

// The world is shared by the generators alive and let go with the last of
// them, so a process that generates once does not keep it.
func TestWorldSharedWhileInUse(t *testing.T) {
	g, q := NewGenerator(1), NewQueryGenerator(2)
	var first [1000]nearby.Business
	for i := range first {
		first[i] = g.Next()
	}
	if g.w != q.w {
		t.Fatal("two generators alive at once built a world each")
	}
	gone := weak.Make(g.w)
	runtime.GC()
	if gone.Value() == nil {
		t.Fatal("the world was collected while generators used it")
	}
	runtime.KeepAlive(g)
	runtime.KeepAlive(q)
	g, q = nil, nil
	runtime.GC()
	if gone.Value() != nil {
		t.Fatal("the world outlived every generator: the package keeps it")
	}
	g = NewGenerator(1)
	for i, want := range first {
		if b := g.Next(); !reflect.DeepEqual(b, want) {
			t.Fatalf("business %d from a world built again: %+v, want %+v", i, b, want)
		}
	}
}
