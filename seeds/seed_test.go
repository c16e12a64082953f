package seeds

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nearby/nearby/quadtree"
)

var update = flag.Bool("update", false, "rewrite the golden seed of the current format, testdata/v2.seed")

// randTree builds a clustered tree of n entries with names that need
// quoting, without attributes, as format 1 stores them.
func randTree(t testing.TB, seed uint64, n int) *quadtree.Tree {
	t.Helper()
	tr, _ := buildRand(t, seed, n, false)
	return tr
}

// randSeed is randTree with attributes, and the header of a seed of it
// with a blob table (some blobs empty) that the tags refer to.
func randSeed(t testing.TB, seed uint64, n int) (Header, *quadtree.Tree) {
	t.Helper()
	h := testHeader()
	var tr *quadtree.Tree
	tr, h.Blobs = buildRand(t, seed, n, true)
	return h, tr
}

func buildRand(t testing.TB, seed uint64, n int, attrs bool) (*quadtree.Tree, [][]byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	ra := rand.New(rand.NewPCG(seed, 8)) // apart, so r draws what it drew before attributes
	var blobs [][]byte
	if attrs {
		blobs = make([][]byte, 1+n/8)
		for i := range blobs {
			blobs[i] = fmt.Appendf(nil, "%0*d", ra.IntN(60), i)
		}
	}
	b := quadtree.NewBuilder(n)
	for i := range n {
		lat := 40 + r.NormFloat64()*0.2
		lon := 179.9 + r.NormFloat64()*0.2 // straddles the antimeridian
		if lon > 180 {
			lon -= 360
		}
		name := fmt.Sprintf("Shop, \"%d\" ünïcode", i)
		var a quadtree.Attrs
		if attrs {
			a = quadtree.Attrs{Price: uint8(ra.IntN(quadtree.MaxPrice + 1)), Rating: uint8(ra.IntN(quadtree.MaxRating + 1)),
				Tag: uint32(ra.IntN(len(blobs) + 1)), Reviews: ra.Uint32() >> ra.IntN(32)}
		}
		if err := b.AddWith(int64(r.IntN(1<<40)), lat, lon, uint8(r.IntN(20)), name, a); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build(), blobs
}

// sameHeader compares headers, blobs by their bytes.
func sameHeader(a, b Header) bool {
	ab, bb := a.Blobs, b.Blobs
	a.Blobs, b.Blobs = nil, nil
	return reflect.DeepEqual(a, b) && slices.EqualFunc(ab, bb, bytes.Equal)
}

func testHeader() Header {
	return Header{
		Region:       "asia-oceania",
		IndexVersion: 1764000000123,
		Watermark:    time.Date(2026, 11, 27, 5, 0, 0, 123456000, time.UTC),
		CreatedAt:    time.Date(2026, 11, 27, 6, 0, 0, 987654321, time.UTC),
	}
}

func encode(t testing.TB, h Header, tr *quadtree.Tree) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, h, tr); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			h, tr := randSeed(t, uint64(n), n)
			path := filepath.Join(t.TempDir(), "a.seed")
			if err := Write(path, h, tr); err != nil {
				t.Fatal(err)
			}
			s, err := Load(path, "asia-oceania")
			if err != nil {
				t.Fatal(err)
			}
			h.Count = n
			h.Bounds, _ = tr.Bounds()
			if !sameHeader(s.Header, h) {
				t.Errorf("header %+v, want %+v", s.Header, h)
			}
			if !reflect.DeepEqual(s.Tree.Columns(), tr.Columns()) {
				t.Fatal("columns differ after a round trip")
			}
			for _, q := range [][2]float64{{40, 180}, {40.1, -179.95}, {39.8, 179.7}} {
				f := quadtree.Filter{Prices: 1<<1 | 1<<3, MinRating: 20}
				a, err1 := tr.Nearest(nil, q[0], q[1], 20000, 50, f)
				b, err2 := s.Tree.Nearest(nil, q[0], q[1], 20000, 50, f)
				if err1 != nil || err2 != nil || !reflect.DeepEqual(a, b) {
					t.Fatalf("answers differ at %v: %v %v", q, err1, err2)
				}
			}
		})
	}
}

func TestRejectsBadSeeds(t *testing.T) {
	h, tr := randSeed(t, 1, 500)
	good := encode(t, h, tr)
	hlen := int(binary.LittleEndian.Uint32(good[10:]))
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, tc := range []struct {
		name   string
		data   []byte
		region string
		want   error
	}{
		{"empty", nil, "", ErrTruncated},
		{"magic", mut(func(b []byte) []byte { b[0] = 'X'; return b }), "", ErrMagic},
		{"version 0", mut(func(b []byte) []byte { b[8] = 0; return b }), "", ErrVersion},
		{"version 3", mut(func(b []byte) []byte { b[8] = 3; return b }), "", ErrVersion},
		{"version 1 header on version 2", mut(func(b []byte) []byte {
			b[8] = 1
			binary.LittleEndian.PutUint32(b[hlen-4:], crcOf(b[:hlen-4]))
			return b
		}), "", ErrCorrupt},
		{"header truncated", good[:hlen-1], "", ErrTruncated},
		{"body truncated", good[:len(good)-1], "", ErrTruncated},
		{"trailing bytes", append(bytes.Clone(good), 0), "", ErrCorrupt},
		{"header bit flip", mut(func(b []byte) []byte { b[hlen-30] ^= 1; return b }), "", ErrChecksum},
		{"body bit flip", mut(func(b []byte) []byte { b[len(b)-3] ^= 0x10; return b }), "", nil},
		{"wrong region", good, "europe-africa", ErrRegion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.seed")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, tc.region)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if tc.want == nil && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v, want a checksum or corruption error", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestHugeDeclaredCountIsRefused(t *testing.T) {
	good := encode(t, testHeader(), randTree(t, 1, 10))
	hlen := int(binary.LittleEndian.Uint32(good[10:]))
	b := bytes.Clone(good)
	// The count sits after magic, version, length, region and three u64s.
	off := 14 + 1 + len("asia-oceania") + 24
	binary.LittleEndian.PutUint64(b[off:], 1<<40)
	binary.LittleEndian.PutUint32(b[hlen-4:], crcOf(b[:hlen-4]))
	if _, err := Decode(b, ""); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

// TestFormatV1StillLoads keeps the first released format loading forever:
// its entries come back without attributes, and it has no blobs.
func TestFormatV1StillLoads(t *testing.T) {
	path := filepath.Join("testdata", "v1.seed")
	tr := randTree(t, 42, 300)
	s, err := Load(path, "asia-oceania")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Tree.Columns(), tr.Columns()) || s.IndexVersion != testHeader().IndexVersion || s.Blobs != nil {
		t.Fatal("testdata/v1.seed does not hold the expected index")
	}
}

// TestFormatV2StillLoads keeps format 2, with attributes and blobs, loading
// forever. -update rewrites it while it is the current format.
func TestFormatV2StillLoads(t *testing.T) {
	path := filepath.Join("testdata", "v2.seed")
	h, tr := randSeed(t, 42, 300)
	if *update {
		if FormatVersion != 2 {
			t.Fatal("format 2 is released: its golden seed must not change")
		}
		if err := Write(path, h, tr); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Load(path, "asia-oceania")
	if err != nil {
		t.Fatal(err)
	}
	h.Count, h.Bounds = tr.Len(), s.Bounds
	if !reflect.DeepEqual(s.Tree.Columns(), tr.Columns()) || !sameHeader(s.Header, h) {
		t.Fatal("testdata/v2.seed does not hold the expected index")
	}
}

// TestBlobTables checks the blob table's rules on both sides: Encode
// refuses a table that Decode would, and Decode refuses forged ones whose
// checksums are right.
func TestBlobTables(t *testing.T) {
	h, tr := randSeed(t, 3, 200)
	for name, blobs := range map[string][][]byte{
		"too few blobs for the tags": h.Blobs[:len(h.Blobs)-1],
		"a blob too long":            append(slices.Clone(h.Blobs), make([]byte, MaxBlobLen+1)),
	} {
		bad := h
		bad.Blobs = blobs
		if err := Encode(io.Discard, bad, tr); !errors.Is(err, ErrBlobs) {
			t.Errorf("%s: Encode gave %v, want ErrBlobs", name, err)
		}
	}
	// No blobs, or empty ones, round-trip.
	for _, blobs := range [][][]byte{nil, {{}, {}, {}}} {
		h2 := testHeader()
		h2.Blobs = blobs
		tr2 := randTree(t, 4, 50)
		s, err := Decode(encode(t, h2, tr2), "")
		if err != nil || len(s.Blobs) != len(blobs) {
			t.Fatalf("%d blobs: %v, %d back", len(blobs), err, len(s.Blobs))
		}
	}

	// Forge sections, checksums right, contents wrong.
	c := tr.Columns()
	offs := []uint32{0}
	var data []byte
	for _, b := range h.Blobs {
		data = append(data, b...)
		offs = append(offs, uint32(len(data)))
	}
	raw := [numSections][]byte{
		appendInt64s(nil, c.IDs), appendDeltas(nil, c.Lats), appendDeltas(nil, c.Lons), c.Cats,
		appendUint32s(nil, c.NameOffs), c.Names, c.Prices, c.Ratings, appendPlanes(nil, c.Tags),
		appendPlanes(nil, c.Reviews), appendUint32s(nil, offs), data,
	}
	h.Count = tr.Len()
	h.Bounds, _ = tr.Bounds()
	forge := func(f func(raw *[numSections][]byte)) []byte {
		r := raw
		f(&r)
		var buf bytes.Buffer
		if err := writeSections(&buf, h, r); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if _, err := Decode(forge(func(*[numSections][]byte) {}), ""); err != nil {
		t.Fatalf("the unforged seed: %v", err)
	}
	for name, f := range map[string]func(raw *[numSections][]byte){
		"tag beyond the blobs": func(r *[numSections][]byte) {
			r[secBlobOffs], r[secBlobs] = appendUint32s(nil, offs[:len(offs)-1]), data[:offs[len(offs)-2]]
		},
		"offsets past the data": func(r *[numSections][]byte) { r[secBlobs] = data[:len(data)-1] },
		"offsets not from 0": func(r *[numSections][]byte) {
			o := slices.Clone(offs)
			o[0] = 1
			r[secBlobOffs] = appendUint32s(nil, o)
		},
		"offsets going back": func(r *[numSections][]byte) {
			o := slices.Clone(offs)
			o[1], o[2] = o[2]+1, o[1]
			r[secBlobOffs] = appendUint32s(nil, o)
		},
		"an offset beyond the data": func(r *[numSections][]byte) {
			o := slices.Clone(offs)
			o[1] = uint32(len(data)) + 100
			r[secBlobOffs] = appendUint32s(nil, o)
		},
		"an offset beyond empty data": func(r *[numSections][]byte) {
			o := make([]uint32, len(offs))
			o[1] = 1
			r[secBlobOffs], r[secBlobs] = appendUint32s(nil, o), nil
		},
		"no offsets":      func(r *[numSections][]byte) { r[secBlobOffs] = nil },
		"offsets not u32": func(r *[numSections][]byte) { r[secBlobOffs] = r[secBlobOffs][1:] },
		"a blob too long": func(r *[numSections][]byte) {
			r[secBlobOffs] = appendUint32s(nil, []uint32{0, MaxBlobLen + 1})
			r[secBlobs] = make([]byte, MaxBlobLen+1)
			r[secTags] = make([]byte, len(r[secTags]))
		},
		"a rating too high": func(r *[numSections][]byte) {
			r[secRatings] = bytes.Clone(r[secRatings])
			r[secRatings][0] = quadtree.MaxRating + 1
		},
		"short prices": func(r *[numSections][]byte) { r[secPrices] = r[secPrices][1:] },
	} {
		if _, err := Decode(forge(f), ""); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

func TestManifestPublishAndGC(t *testing.T) {
	dir := t.TempDir()
	var versions []uint64
	var v uint64
	for gen := range 5 {
		v = NextVersion(v, time.Now())
		versions = append(versions, v)
		var m Manifest
		m.Generation = uint64(gen + 1)
		for i, name := range []string{"europe", "americas"} {
			h := Header{Region: name, IndexVersion: v}
			r, err := WriteSeed(dir, h, randTree(t, uint64(gen*10+i), 100+gen))
			if err != nil {
				t.Fatal(err)
			}
			m.Regions = append(m.Regions, r)
		}
		if err := WriteManifest(dir, m); err != nil {
			t.Fatal(err)
		}
	}
	m, ss, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Generation != 5 || len(ss) != 2 || ss[0].Region != "americas" || ss[1].Region != "europe" || ss[0].IndexVersion != v {
		t.Fatalf("manifest %+v", m)
	}
	removed, err := GC(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 4 { // 5 versions, 1 current + 2 kept per region
		t.Fatalf("removed %v", removed)
	}
	if again, err := GC(dir, -1); err != nil || len(again) != 4 { // as keep 0: the 2 kept per region go
		t.Fatalf("GC keep -1: removed %v, %v", again, err)
	}
	for _, name := range removed {
		if strings.Contains(name, fmt.Sprint(versions[4])) || strings.Contains(name, fmt.Sprint(versions[3])) {
			t.Errorf("removed a recent seed %s", name)
		}
	}
	if _, _, err := LoadDir(dir); err != nil {
		t.Fatalf("after GC: %v", err)
	}
	// A manifest naming a seed of the wrong region is refused as a whole.
	m.Regions[0].File = m.Regions[1].File
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadDir(dir); !errors.Is(err, ErrRegion) {
		t.Fatalf("got %v, want ErrRegion", err)
	}
	if err := WriteManifest(dir, Manifest{Regions: []Region{{Name: "x", File: "../etc/passwd.seed"}}}); !errors.Is(err, ErrManifest) {
		t.Fatalf("path in manifest: %v", err)
	}
}

// TestCrashDuringPublish kills a writer process mid-write: the manifest
// still names the old seed, which still loads.
func TestCrashDuringPublish(t *testing.T) {
	if dir := os.Getenv("SEEDS_CRASH_DIR"); dir != "" {
		// Child: publish a big seed, slowly enough to be killed mid-way.
		tr := randTree(t, 9, 2_000_000)
		os.WriteFile(filepath.Join(dir, "child-ready"), nil, 0o644)
		r, err := WriteSeed(dir, Header{Region: "world", IndexVersion: 2}, tr)
		if err != nil {
			t.Fatal(err)
		}
		WriteManifest(dir, Manifest{Generation: 2, Regions: []Region{r}})
		return
	}
	dir := t.TempDir()
	old, err := WriteSeed(dir, Header{Region: "world", IndexVersion: 1}, randTree(t, 1, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteManifest(dir, Manifest{Generation: 1, Regions: []Region{old}}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringPublish$")
	cmd.Env = append(os.Environ(), "SEEDS_CRASH_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once its temporary seed file exists and is growing.
	deadline := time.Now().Add(60 * time.Second)
	killed := false
	for time.Now().Before(deadline) && !killed {
		tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
		for _, p := range tmps {
			if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Wait()
	if !killed {
		t.Fatal("the writer finished or never started writing; could not kill it mid-write")
	}
	m, ss, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Generation != 1 || ss[0].IndexVersion != 1 || ss[0].Count != 1000 {
		t.Fatalf("after the crash the manifest is %+v", m)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName("world", 2))); !os.IsNotExist(err) {
		t.Fatalf("a half-written seed is visible under its final name: %v", err)
	}
}

// TestLongRegionLengthIsRefused: a header whose region length byte is 255
// (more than a name may have), with a right CRC, is refused as corrupt
// rather than crashing the loader.
func TestLongRegionLengthIsRefused(t *testing.T) {
	b := append(slices.Clone(magic[:]), 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(b[8:], FormatVersion)
	b = append(b, 255)
	b = append(b, make([]byte, 300)...)
	binary.LittleEndian.PutUint32(b[10:], uint32(len(b)+4))
	b = binary.LittleEndian.AppendUint32(b, crcOf(b))
	if _, err := Decode(b, ""); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
}

// TestGCKeepsRollbackSeeds: seeds left by builds that never published
// (crashed) are newer than the current one, but they are not the rollback
// seeds GC keeps: they go once an hour old (a younger one may belong to a
// build still running), and the superseded seeds stay.
func TestGCKeepsRollbackSeeds(t *testing.T) {
	dir := t.TempDir()
	var files []string // by version
	var v uint64
	for gen := range 6 {
		v = NextVersion(v, time.Now())
		r, err := WriteSeed(dir, Header{Region: "us-west", IndexVersion: v}, randTree(t, uint64(gen), 50))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, r.File)
		if gen == 2 { // published; the three after it are not
			if err := WriteManifest(dir, Manifest{Generation: 1, Regions: []Region{r}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, f := range files[3:5] { // crashed builds of two hours ago
		if err := os.Chtimes(filepath.Join(dir, f), old, old); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := GC(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := files[3:5]; !slices.Equal(removed, want) {
		t.Errorf("removed %v, want the two stale unpublished seeds %v", removed, want)
	}
	for _, f := range []string{files[0], files[1], files[2], files[5]} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s (rollback, current or a build's in progress): %v", f, err)
		}
	}
}
