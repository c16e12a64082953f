package search

import (
	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/quadtree"
)

// BuildRegion builds a region of businesses, with names stored in tree
// order as in a tree loaded from a seed (a search's results then read
// neighbouring names instead of one cache miss each) and each distinct
// opening-hours schedule stored once.
func BuildRegion(name string, version uint64, bs []nearby.Business) (*Region, error) {
	b := quadtree.NewBuilder(len(bs))
	var table hours.Table
	for _, x := range bs {
		a := quadtree.Attrs{Price: uint8(x.Price), Rating: uint8(x.Rating), Reviews: x.ReviewCount, Tag: table.Tag(x.Hours)}
		if err := b.AddWith(x.ID, x.Lat, x.Lon, uint8(x.Category), x.Name, a); err != nil {
			return nil, err
		}
	}
	t, err := quadtree.FromColumns(b.Build().Columns())
	if err != nil {
		return nil, err
	}
	return NewRegion(name, version, t, table.Schedules)
}
