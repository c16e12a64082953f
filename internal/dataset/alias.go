package dataset

import (
	"math"
	"math/rand/v2"
)

// alias draws indexes with probability proportional to fixed weights in
// O(1) time (Walker's alias method, Vose's construction): pick a column
// uniformly, then keep it or take its alias by a biased coin. One 64-bit
// random number makes one draw, and each column is one 8-byte load, because
// drawing cities is the hot loop of Generate.
type alias []aliasColumn

// aliasColumn keeps its own index when the coin (32 random bits) is below
// keep, and takes other otherwise.
type aliasColumn struct {
	keep  uint32 // chance of keeping the column, in units of 2^-32
	other int32  // the index taken otherwise
}

// newAlias returns a sampler for weights, which must be non-negative with a
// positive sum and fewer than 2^31 entries.
func newAlias(weights []float64) alias {
	n := len(weights)
	a := make(alias, n)
	var sum float64
	for _, w := range weights {
		sum += w
	}
	scaled := make([]float64, n)
	small := make([]int32, 0, n)
	large := make([]int32, 0, n)
	for i, w := range weights {
		scaled[i] = w * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a[s] = aliasColumn{keep: uint32(scaled[s] * (1 << 32)), other: l}
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// What is left has a scaled weight of 1 up to rounding error: always
	// kept (other is itself).
	for _, i := range large {
		a[i] = aliasColumn{keep: math.MaxUint32, other: i}
	}
	for _, i := range small {
		a[i] = aliasColumn{keep: math.MaxUint32, other: i}
	}
	return a
}

// draw returns an index with probability proportional to its weight. The
// high 32 bits of a random number pick the column (multiply-shift, biased
// by under n/2^32, far below sampling noise), the low 32 bits toss the coin.
func (a alias) draw(r *rand.Rand) int {
	u := r.Uint64()
	i := int((u >> 32) * uint64(len(a)) >> 32)
	if uint32(u) < a[i].keep {
		return i
	}
	return int(a[i].other)
}
