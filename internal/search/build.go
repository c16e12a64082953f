package search

import (
	"github.com/nearby/nearby"
	"github.com/nearby/nearby/quadtree"
)

// BuildTree builds a tree of businesses.
func BuildTree(bs []nearby.Business) (*quadtree.Tree, error) {
	b := quadtree.NewBuilder(len(bs))
	for _, x := range bs {
		if err := b.Add(x.ID, x.Lat, x.Lon, uint8(x.Category), x.Name); err != nil {
			return nil, err
		}
	}
	return b.Build(), nil
}
