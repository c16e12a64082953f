package quadtree

import "math"

// idColumn holds the entries' ids in tree order. When they span less than
// 2^32 (any one table of businesses numbered by a sequence), it keeps each
// as a uint32 offset from the smallest, 4 bytes instead of 8; otherwise it
// keeps them whole.
type idColumn struct {
	base  int64
	small []uint32 // id - base; nil when wide is used
	wide  []int64
}

// newIDColumn returns the column of ids[order[i]] for each i, or of ids
// itself when order is nil; it keeps ids only when they are needed whole.
func newIDColumn(ids []int64, order []uint32) idColumn {
	if len(ids) == 0 {
		return idColumn{small: []uint32{}}
	}
	lo, hi := ids[0], ids[0]
	for _, id := range ids {
		lo, hi = min(lo, id), max(hi, id)
	}
	if uint64(hi)-uint64(lo) > math.MaxUint32 {
		if order == nil {
			return idColumn{wide: ids}
		}
		wide := make([]int64, len(ids))
		for i, j := range order {
			wide[i] = ids[j]
		}
		return idColumn{wide: wide}
	}
	small := make([]uint32, len(ids))
	if order == nil {
		for i, id := range ids {
			small[i] = uint32(id - lo)
		}
	} else {
		for i, j := range order {
			small[i] = uint32(ids[j] - lo)
		}
	}
	return idColumn{base: lo, small: small}
}

// at returns the id of entry i.
func (c *idColumn) at(i int) int64 {
	if c.wide != nil {
		return c.wide[i]
	}
	return c.base + int64(c.small[i])
}

// all returns every id, sharing the column's memory when it is whole.
func (c *idColumn) all() []int64 {
	if c.wide != nil {
		return c.wide
	}
	ids := make([]int64, len(c.small))
	for i, d := range c.small {
		ids[i] = c.base + int64(d)
	}
	return ids
}

// bytes returns the memory the column holds.
func (c *idColumn) bytes() int { return len(c.small)*4 + len(c.wide)*8 }
