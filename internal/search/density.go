package search

import (
	"context"
	"fmt"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/quadtree"
)

// Density counts the businesses of the whole index inside the grid's box,
// edges included, that have one of its categories (every category when
// none), per cell: the local regions' (those whose trees this node holds)
// from memory, each remote region the box overlaps from one of its
// replicas, asked in parallel. A remote region no replica answers for is
// named in Missing and not counted. It also returns the version of the
// index it counted, made like a search's.
//
// Every business in the box counts in exactly one cell. One on a line
// between two cells counts in the cell to its east or south (up to the
// rounding of the line's position in float64 degrees); one on the box's
// east or south edge counts in the last column or row. An invalid grid is
// EINVALID (nearby.DensityGrid.Validate).
//
// The cost is one quadtree.CountGrid walk per local region (and per live
// delta): about the number of cells' worth of nodes, as subtrees within
// one cell are counted whole.
func (e *Engine) Density(ctx context.Context, g nearby.DensityGrid) (*nearby.DensityCounts, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	ix := e.cur.Load()
	if ix == nil {
		return nil, nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	var touched []string
	bounds := g.Box.Split()
	for i := range ix.Remote {
		if r := &ix.Remote[i]; r.overlaps(bounds) {
			touched = append(touched, r.Name)
		}
	}
	remote := e.askRegions(touched, func(region string) (*nearby.ShardAnswer, error) {
		a, err := e.Shards.Density(ctx, region, g)
		if err == nil && len(a.Counts) != g.Cols*g.Rows {
			return nil, fmt.Errorf("region %s: %d density counts for a %d × %d grid", region, len(a.Counts), g.Cols, g.Rows)
		}
		return a, err
	})
	counts, err := density(ix.parts, g)
	if err != nil {
		return nil, err
	}
	for _, a := range remote.answers {
		for i, n := range a.Counts {
			counts[i] += n
		}
	}
	version := ix.Version
	if len(ix.Remote) > 0 {
		version = remote.version(ix)
	}
	return &nearby.DensityCounts{Counts: counts, IndexVersion: version, Missing: remote.missing}, nil
}

// ShardDensity implements nearby.ShardService: one local region's density
// grid, for another node's Density.
func (e *Engine) ShardDensity(_ context.Context, region string, g nearby.DensityGrid) (*nearby.ShardAnswer, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	ix, i, err := e.localRegion(region)
	if err != nil {
		return nil, err
	}
	counts, err := density(ix.regionParts(i), g)
	if err != nil {
		return nil, err
	}
	return &nearby.ShardAnswer{Region: region, Version: ix.Regions[i].Version, Counts: counts}, nil
}

// density counts the businesses of parts per cell of g.
func density(parts []part, g nearby.DensityGrid) ([]int, error) {
	counts := make([]int, g.Cols*g.Rows)
	f := quadtree.Filter{Categories: uint32(g.Categories)}
	for _, p := range parts {
		f.Skip = p.skip
		if err := p.region.Tree.CountGrid(quadtree.Grid{Box: g.Box, Cols: g.Cols, Rows: g.Rows}, f, counts); err != nil {
			return nil, nearby.Errorf(nearby.EINTERNAL, "density in region %s: %v", p.region.Name, err)
		}
	}
	return counts, nil
}
