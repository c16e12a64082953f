package seeds

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/nearby/nearby/quadtree"
)

// zeroSeed crafts a seed of count entries whose sections are all zeros,
// streamed through zstd, so that a file of a few kilobytes declares, and
// really decompresses to, 31 bytes an entry. Its checksums are right: only
// the load limit stops it before the sections are decompressed.
func zeroSeed(t *testing.T, count uint64) []byte {
	t.Helper()
	h := testHeader()
	h.Count = int(count)
	raw := [numSections]uint64{
		secIDs: 8 * count, secLats: 4 * count, secLons: 4 * count, secCats: count, secNameOffs: 4 * (count + 1),
		secPrices: count, secRatings: count, secTags: 4 * count, secReviews: 4 * count, secBlobOffs: 4,
	}
	var secs [numSections]section
	var body bytes.Buffer
	zeros := make([]byte, 1<<16)
	for i, n := range raw {
		if n == 0 {
			continue
		}
		start := body.Len()
		w, err := zstd.NewWriter(&body, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			t.Fatal(err)
		}
		crc := uint32(0)
		for left := n; left > 0; {
			k := min(left, uint64(len(zeros)))
			if _, err := w.Write(zeros[:k]); err != nil {
				t.Fatal(err)
			}
			crc = crc32.Update(crc, castagnoli, zeros[:k])
			left -= k
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		secs[i] = section{rawLen: n, compLen: uint64(body.Len() - start), crc: crc}
	}
	return append(encodeHeader(h, secs), body.Bytes()...)
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// decodedSize is the sum of the raw sizes data's header declares.
func decodedSize(t *testing.T, data []byte) int64 {
	t.Helper()
	hlen := int(binary.LittleEndian.Uint32(data[10:]))
	_, secs, err := decodeHeader(data[14:hlen-4], numSections)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, s := range secs {
		n += int64(s.rawLen)
	}
	return n
}

// TestLoadLimitRefusesBombs: a small file that decompresses to far more
// than the limit is refused with ErrLoadLimit before it is decompressed.
func TestLoadLimitRefusesBombs(t *testing.T) {
	const count = 1 << 20 // 31 MiB of zeros
	data := zeroSeed(t, count)
	if len(data) > 64<<10 {
		t.Fatalf("crafted seed is %d bytes; want a small one", len(data))
	}
	l := Loader{MaxBytes: 1 << 20}
	var err error
	n := allocated(func() { _, err = l.Decode(data, "") })
	if !errors.Is(err, ErrLoadLimit) {
		t.Fatalf("got %v, want ErrLoadLimit", err)
	}
	if n > 256<<10 {
		t.Errorf("refusing the seed allocated %d bytes", n)
	}

	path := filepath.Join(t.TempDir(), "bomb.seed")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load(path, ""); !errors.Is(err, ErrLoadLimit) || !bytes.Contains([]byte(err.Error()), []byte(path)) {
		t.Fatalf("Load: got %v, want ErrLoadLimit naming the file", err)
	}
}

// TestDefaultLoadLimit: without a limit set, a seed declaring more than
// DefaultLoadLimit is refused before its sections are read (which here
// hold garbage, so only the limit can say why).
func TestDefaultLoadLimit(t *testing.T) {
	const count = DefaultLoadLimit/31 + 1
	h := testHeader()
	h.Count = count
	var secs [numSections]section
	want := [numSections]uint64{
		secIDs: 8 * count, secLats: 4 * count, secLons: 4 * count, secCats: count, secNameOffs: 4 * (count + 1),
		secPrices: count, secRatings: count, secTags: 4 * count, secReviews: 4 * count, secBlobOffs: 4,
	}
	var body []byte
	for i, n := range want {
		secs[i] = section{rawLen: n}
		if n > 0 {
			secs[i].compLen = 1
			body = append(body, 0xff)
		}
	}
	data := append(encodeHeader(h, secs), body...)
	for name, decode := range map[string]func([]byte, string) (*Seed, error){
		"Decode": Decode, "zero Loader": Loader{}.Decode, "negative": Loader{MaxBytes: -1}.Decode,
	} {
		if _, err := decode(data, ""); !errors.Is(err, ErrLoadLimit) {
			t.Errorf("%s: got %v, want ErrLoadLimit", name, err)
		}
	}
	// The design's whole world, 200M honest businesses (31 bytes of
	// columns and ~20 of name each), loads within the default.
	if 200_000_000*(31+20) > DefaultLoadLimit {
		t.Errorf("DefaultLoadLimit %d is below a world of 200M businesses", DefaultLoadLimit)
	}
}

// TestLoadLimitBoundary: a seed loads at a limit of exactly what it
// decodes to, and not a byte less.
func TestLoadLimitBoundary(t *testing.T) {
	h, tr := randSeed(t, 5, 300)
	data := encode(t, h, tr)
	size := decodedSize(t, data)
	if _, err := (Loader{MaxBytes: size}).Decode(data, ""); err != nil {
		t.Fatalf("limit %d = its size: %v", size, err)
	}
	if _, err := (Loader{MaxBytes: size - 1}).Decode(data, ""); !errors.Is(err, ErrLoadLimit) {
		t.Fatalf("limit %d, one below its size: got %v, want ErrLoadLimit", size-1, err)
	}
	// The file's size is no obstacle, even for data that does not
	// compress (random ids and coordinates, names of random bytes).
	r := rand.New(rand.NewPCG(5, 6))
	b := quadtree.NewBuilder(2000)
	for range 2000 {
		name := make([]byte, 1+r.IntN(quadtree.MaxNameLen))
		for i := range name {
			name[i] = byte(r.Uint32())
		}
		if err := b.Add(r.Int64(), r.Float64()*180-90, r.Float64()*360-180, 0, string(name)); err != nil {
			t.Fatal(err)
		}
	}
	data = encode(t, testHeader(), b.Build())
	path := filepath.Join(t.TempDir(), "random.seed")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if size := decodedSize(t, data); int64(len(data)) < size*9/10 {
		t.Fatalf("random seed compressed to %d bytes of %d: not incompressible", len(data), size)
	} else if _, err := (Loader{MaxBytes: size}).Load(path, ""); err != nil {
		t.Fatalf("incompressible seed, limit %d = its size: %v", size, err)
	}
}

// TestLoadLimitRefusesHugeFiles: a file larger than any seed within the
// limit could be is refused without being read.
func TestLoadLimitRefusesHugeFiles(t *testing.T) {
	h, tr := randSeed(t, 5, 100)
	path := filepath.Join(t.TempDir(), "big.seed")
	if err := os.WriteFile(path, encode(t, h, tr), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 256<<20); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	var err error
	n := allocated(func() { _, err = Loader{MaxBytes: 1 << 20}.Load(path, "") })
	if !errors.Is(err, ErrLoadLimit) {
		t.Fatalf("got %v, want ErrLoadLimit", err)
	}
	if n > 1<<20 {
		t.Errorf("refusing the file allocated %d bytes", n)
	}
}

// TestLoadRegionsLimitIsShared: LoadRegions's limit bounds its seeds
// together, since they all stay in memory.
func TestLoadRegionsLimitIsShared(t *testing.T) {
	dir := t.TempDir()
	var m Manifest
	var total int64
	for i, name := range []string{"east", "west"} {
		h, tr := randSeed(t, uint64(i), 200)
		h.Region = name
		r, err := WriteSeed(dir, h, tr)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, r.File))
		if err != nil {
			t.Fatal(err)
		}
		total += decodedSize(t, data)
		m.Regions = append(m.Regions, r)
	}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	if _, ss, err := (Loader{MaxBytes: total}).LoadRegions(dir, nil); err != nil || len(ss) != 2 {
		t.Fatalf("limit %d = both seeds: %d seeds, %v", total, len(ss), err)
	}
	if _, _, err := (Loader{MaxBytes: total - 1}).LoadRegions(dir, nil); !errors.Is(err, ErrLoadLimit) {
		t.Fatalf("limit %d, below both seeds: got %v, want ErrLoadLimit", total-1, err)
	}
	// One region alone fits.
	if _, ss, err := (Loader{MaxBytes: total - 1}).LoadRegions(dir, func(r string) bool { return r == "east" }); err != nil || len(ss) != 1 {
		t.Fatalf("one region: %d seeds, %v", len(ss), err)
	}
}
