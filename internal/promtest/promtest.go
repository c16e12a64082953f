// Package promtest reads Prometheus metrics back in tests.
package promtest

import (
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// LabelValues returns the distinct values the label takes across the
// series of the named metric, sorted.
func LabelValues(t testing.TB, g prometheus.Gatherer, metric, label string) []string {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					vals = append(vals, l.GetValue())
				}
			}
		}
	}
	slices.Sort(vals)
	return slices.Compact(vals)
}
