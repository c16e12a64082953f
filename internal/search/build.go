package search

import (
	"github.com/nearby/nearby"
	"github.com/nearby/nearby/quadtree"
)

// BuildTree builds a tree of businesses, with names stored in tree order as
// in a tree loaded from a seed: a search's results then read neighbouring
// names instead of one cache miss each.
func BuildTree(bs []nearby.Business) (*quadtree.Tree, error) {
	b := quadtree.NewBuilder(len(bs))
	for _, x := range bs {
		if err := b.Add(x.ID, x.Lat, x.Lon, uint8(x.Category), x.Name); err != nil {
			return nil, err
		}
	}
	return quadtree.FromColumns(b.Build().Columns())
}
