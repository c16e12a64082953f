package quadtree

import (
	"math"
	"slices"
	"testing"
)

// TestIDColumnBounds: ids spanning up to 2^32 - 1 are kept as offsets,
// wider spans whole; either way every id comes back, in the order asked.
func TestIDColumnBounds(t *testing.T) {
	for _, c := range []struct {
		ids   []int64
		small bool
	}{
		{[]int64{}, true},
		{[]int64{7}, true},
		{[]int64{5, 5 + math.MaxUint32, 6}, true},
		{[]int64{5, 6 + math.MaxUint32}, false},
		{[]int64{math.MinInt64, math.MinInt64 + math.MaxUint32, -1 << 62}, false},
		{[]int64{math.MaxInt64, math.MaxInt64 - math.MaxUint32}, true},
		{[]int64{-3, math.MaxUint32 - 3, 0}, true},
		{[]int64{math.MinInt64, math.MaxInt64}, false},
	} {
		order := make([]uint32, len(c.ids))
		for i := range order {
			order[i] = uint32(len(order) - 1 - i)
		}
		reversed := slices.Clone(c.ids)
		slices.Reverse(reversed)
		for _, tc := range []struct {
			order []uint32
			want  []int64
		}{{nil, c.ids}, {order, reversed}} {
			col := newIDColumn(c.ids, tc.order)
			if (col.wide == nil) != c.small {
				t.Errorf("%v: small %v, want %v", c.ids, col.wide == nil, c.small)
			}
			got := make([]int64, len(c.ids))
			for i := range got {
				got[i] = col.at(i)
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(col.all(), tc.want) {
				t.Errorf("%v (order %v): got %v and %v", c.ids, tc.order, got, col.all())
			}
		}
	}
}
