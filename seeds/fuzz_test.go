package seeds

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nearby/nearby/quadtree"
)

func crcOf(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// FuzzDecode feeds mutated seeds to the loader: it must never panic or
// over-allocate, and whatever it accepts must be a sound index that
// re-encodes to the same columns. Each input is tried as is and with its
// header CRC made right, so that mutated header fields reach the checks
// behind the CRC.
func FuzzDecode(f *testing.F) {
	for _, n := range []int{0, 1, 40, 200} {
		h, tr := randSeed(f, uint64(n), n)
		f.Add(encode(f, h, tr))
	}
	v1, err := os.ReadFile(filepath.Join("testdata", "v1.seed"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v1)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
		if len(data) >= 14 {
			if hlen := int(binary.LittleEndian.Uint32(data[10:])); hlen >= 18 && hlen <= len(data) {
				data = bytes.Clone(data)
				binary.LittleEndian.PutUint32(data[hlen-4:], crcOf(data[:hlen-4]))
				checkDecode(t, data)
			}
		}
	})
}

// checkDecode decodes data; if that succeeds, the seed must re-encode to
// itself and answer queries.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	s, err := Decode(data, "")
	if err != nil {
		return
	}
	again, err := Decode(encode(t, s.Header, s.Tree), s.Region)
	if err != nil {
		t.Fatalf("re-encoded seed does not load: %v", err)
	}
	if !reflect.DeepEqual(again.Tree.Columns(), s.Tree.Columns()) || !sameHeader(again.Header, s.Header) {
		t.Fatal("re-encode does not round-trip")
	}
	// The index answers like its own brute force would.
	if _, err := s.Tree.Nearest(nil, 40, 180, 1e6, 10, quadtree.Filter{}); err != nil {
		t.Fatal(err)
	}
}
