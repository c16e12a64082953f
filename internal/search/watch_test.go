package search

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/seeds"
)

// publishGeneration writes a seed of n businesses for region "west" at
// version gen and a manifest naming it.
func publishGeneration(t *testing.T, dir string, gen uint64, n int) seeds.Manifest {
	t.Helper()
	bs := make([]nearby.Business, n)
	for i := range bs {
		bs[i] = nearby.Business{ID: int64(i + 1), Name: "shop", Lat: 51.5 + float64(i)*1e-4, Lon: -0.1}
	}
	r, err := BuildRegion("west", gen, bs)
	if err != nil {
		t.Fatal(err)
	}
	bounds, _ := r.Tree.Bounds()
	entry, err := seeds.WriteSeed(dir, seeds.Header{Region: "west", IndexVersion: gen, Count: n, Bounds: bounds}, r.Tree)
	if err != nil {
		t.Fatal(err)
	}
	m := seeds.Manifest{Generation: gen, Regions: []seeds.Region{entry}}
	if err := seeds.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWatcherDoesNotRetryRefusedSeeds: a manifest naming a corrupt seed is
// refused, logged and counted once, not loaded again at every check while
// neither it nor its seeds change; a repaired seed or a new manifest is
// loaded.
func TestWatcherDoesNotRetryRefusedSeeds(t *testing.T) {
	dir := t.TempDir()
	publishGeneration(t, dir, 1, 100)
	e := &Engine{}
	w := NewWatcher(dir, e, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if ok, err := w.Reload(); !ok || err != nil {
		t.Fatalf("first load: %v %v", ok, err)
	}
	served := e.Current().Version

	// Generation 2 names a seed with a flipped bit.
	m := publishGeneration(t, dir, 2, 200)
	path := filepath.Join(dir, m.Regions[0].File)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), good...)
	bad[len(bad)-10] ^= 0x40
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if ok, err := w.Reload(); ok || err == nil {
			t.Fatalf("check %d: swapped %v, err %v; want the corrupt seed refused", i, ok, err)
		}
	}
	if n := testutil.ToFloat64(w.reloads.WithLabelValues("error")); n != 1 {
		t.Errorf("%v reload errors counted after 5 checks of one bad manifest, want 1", n)
	}
	if e.Current().Version != served {
		t.Fatal("the refused seed replaced the index")
	}
	// Tried again once RefusedRetry has passed, or a file's mode changes
	// (the fix may change no size or time).
	w.refusedAt = time.Now().Add(-RefusedRetry)
	w.Reload()
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	w.Reload()
	w.Reload()
	if n := testutil.ToFloat64(w.reloads.WithLabelValues("error")); n != 3 {
		t.Errorf("%v reload errors counted, want 3: after RefusedRetry and after a chmod", n)
	}

	// Repaired in place: loaded at the next check.
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	if ok, err := w.Reload(); !ok || err != nil {
		t.Fatalf("repaired seed: swapped %v, err %v", ok, err)
	}
	if e.Current().Len() != 200 {
		t.Fatalf("serving %d businesses, want the repaired seed's 200", e.Current().Len())
	}
}

// TestWatcherSkipsUnchangedManifest: a manifest rewritten with the same
// seeds does not reload.
func TestWatcherSkipsUnchangedManifest(t *testing.T) {
	dir := t.TempDir()
	m := publishGeneration(t, dir, 1, 100)
	e := &Engine{}
	w := NewWatcher(dir, e, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if ok, err := w.Reload(); !ok || err != nil {
		t.Fatalf("first load: %v %v", ok, err)
	}
	m.CreatedAt = time.Now()
	if err := seeds.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	if ok, err := w.Reload(); ok || err != nil {
		t.Fatalf("rewritten manifest: swapped %v, err %v; want no reload", ok, err)
	}
	if n := testutil.ToFloat64(w.reloads.WithLabelValues("ok")); n != 1 {
		t.Errorf("%v reloads counted, want 1", n)
	}
}

// TestWatcherSkipsManifestWithOffsetWatermark: a watermark written with a
// zone offset (any RFC 3339 time is a valid one) parses into a new
// location at every read; the same manifest must still not reload.
func TestWatcherSkipsManifestWithOffsetWatermark(t *testing.T) {
	dir := t.TempDir()
	m := publishGeneration(t, dir, 1, 100)
	// An offset no zone uses, so that it is never the machine's own.
	m.Regions[0].Watermark = time.Date(2026, 11, 27, 8, 0, 0, 0, time.FixedZone("", 5*3600+17*60))
	if err := seeds.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	e := &Engine{}
	w := NewWatcher(dir, e, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if ok, err := w.Reload(); !ok || err != nil {
		t.Fatalf("first load: %v %v", ok, err)
	}
	for i := range 3 {
		if ok, err := w.Reload(); ok || err != nil {
			t.Fatalf("check %d of the same manifest: swapped %v, err %v; want no reload", i, ok, err)
		}
	}
	if n := testutil.ToFloat64(w.reloads.WithLabelValues("ok")); n != 1 {
		t.Errorf("%v reloads counted, want 1", n)
	}
}

// TestLoadDirHoursInAZoneUnknownHere: a seed whose opening hours name a time
// zone this process's tz database lacks (an indexer with newer tz data)
// loads, those hours unknown, as the live path and the database's detail
// reads take them; refused, the region would keep its old seed until this
// host's tz database changed.
func TestLoadDirHoursInAZoneUnknownHere(t *testing.T) {
	dir := t.TempDir()
	sched, err := hours.New("Europe/Paris", [7][]hours.Span{{{Open: 8 * 60, Close: 18 * 60}}})
	if err != nil {
		t.Fatal(err)
	}
	bs := []nearby.Business{
		{ID: 1, Name: "known", Lat: 48.85, Lon: 2.35, Hours: &sched},
		{ID: 2, Name: "plain", Lat: 48.86, Lon: 2.35},
	}
	r, err := BuildRegion("west", 7, bs)
	if err != nil {
		t.Fatal(err)
	}
	// The one schedule, its zone renamed to one of the same length that no
	// tz database holds.
	blob := bytes.Replace(sched.AppendBinary(nil), []byte("Europe/Paris"), []byte("Europe/Parix"), 1)
	bounds, _ := r.Tree.Bounds()
	entry, err := seeds.WriteSeed(dir, seeds.Header{Region: "west", IndexVersion: 7, Count: len(bs), Bounds: bounds, Blobs: [][]byte{blob}}, r.Tree)
	if err != nil {
		t.Fatal(err)
	}
	if err := seeds.WriteManifest(dir, seeds.Manifest{Generation: 7, Regions: []seeds.Region{entry}}); err != nil {
		t.Fatal(err)
	}
	ix, _, err := LoadDir(dir, nil)
	if err != nil {
		t.Fatalf("seed refused: %v", err)
	}
	for _, id := range []int64{1, 2} {
		b, ok := ix.lookup(0, id)
		if !ok || b.Hours != nil && b.Hours.Known() {
			t.Errorf("business %d: %+v, %v; want it with hours unknown", id, b, ok)
		}
	}
}
