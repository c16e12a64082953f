package seeds

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/quadtree"
)

// FormatVersion is the version of the seed file format this package writes.
// Loaders accept exactly the versions they know: 1 (no attributes, no
// blobs) and 2.
const FormatVersion = 2

// magic starts every seed file.
var magic = [8]byte{'N', 'E', 'A', 'R', 'B', 'Y', 'S', 'D'}

// MaxEntries is the most entries a seed may declare; larger declarations are
// refused before anything is allocated for them. A seed holds at most as
// many blobs.
const MaxEntries = 1 << 31

// MaxBlobLen is the longest blob, in bytes, a seed may hold.
const MaxBlobLen = 1 << 16

// Errors that say why a seed was refused. Load wraps them with the file name.
var (
	ErrMagic     = errors.New("not a seed file (bad magic)")
	ErrVersion   = errors.New("unsupported seed format version")
	ErrTruncated = errors.New("seed truncated")
	ErrChecksum  = errors.New("seed checksum mismatch")
	ErrCorrupt   = errors.New("seed corrupt")
	ErrRegion    = errors.New("seed is for another region")
	ErrTooLarge  = errors.New("seed declares too many entries")
	ErrName      = errors.New("invalid region name")
	ErrBlobs     = errors.New("invalid blob table")
	ErrLoadLimit = errors.New("seed exceeds the load limit")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header describes a seed: which region's index it holds and how fresh it is.
type Header struct {
	Region       string    // region name, [a-z0-9_-]{1,64}
	IndexVersion uint64    // monotonic build version (see NextVersion)
	Watermark    time.Time // newest updated_at the build saw (microseconds)
	CreatedAt    time.Time // when the seed was written (nanoseconds)
	Count        int       // number of entries
	Bounds       geo.Rect  // bounding box of the entries (zero when empty)
	// Blobs are records the entries' tags refer to: the entry with
	// quadtree.Attrs.Tag t > 0 has Blobs[t-1], one with tag 0 none. They
	// are opaque to the seed (the search service keeps encoded opening
	// hours there), at most MaxBlobLen bytes each. Decode's share one
	// buffer and must not be modified.
	Blobs [][]byte
}

// Seed is a loaded seed: its header and the index it holds.
type Seed struct {
	Header
	Tree *quadtree.Tree
}

var regionRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// ValidRegion reports whether name can name a region.
func ValidRegion(name string) bool { return regionRE.MatchString(name) }

// NextVersion returns an index version greater than prev, based on the clock
// (Unix milliseconds) so versions also order across processes.
func NextVersion(prev uint64, now time.Time) uint64 {
	return max(prev+1, uint64(now.UnixMilli()))
}

// The body is a list of sections, each compressed on its own (so they
// compress and decompress in parallel) and checked by a CRC-32C of its raw
// bytes. Latitudes and longitudes are stored as zigzag deltas from the
// previous entry: in tree order neighbours are close, so the deltas are
// small. Format 1 has the first six sections, format 2 all of them.
const (
	secIDs = iota
	secLats
	secLons
	secCats
	secNameOffs
	secNames
	secPrices
	secRatings
	secTags
	secReviews
	secBlobOffs // u32 offsets of the blobs in secBlobs, one more than blobs
	secBlobs
	numSections
)

// sectionsOf is the number of sections in a seed of a format version.
var sectionsOf = map[uint16]int{1: secNames + 1, 2: numSections}

type section struct {
	rawLen, compLen uint64
	crc             uint32
}

// Encode writes a seed of t with header h to w, in format FormatVersion.
// h.Count and h.Bounds are taken from t. A blob table beyond the limits, or
// a tag of t beyond it, gives an error wrapping ErrBlobs.
func Encode(w io.Writer, h Header, t *quadtree.Tree) error {
	if !ValidRegion(h.Region) {
		return fmt.Errorf("%w: %q", ErrName, h.Region)
	}
	c := t.Columns()
	if err := checkBlobs(h.Blobs, c.Tags); err != nil {
		return err
	}
	blobOffs := make([]uint32, 1, len(h.Blobs)+1)
	var blobs []byte
	for _, b := range h.Blobs {
		blobs = append(blobs, b...)
		blobOffs = append(blobOffs, uint32(len(blobs)))
	}
	raw := [numSections][]byte{
		secIDs:      appendInt64s(nil, c.IDs),
		secLats:     appendDeltas(nil, c.Lats),
		secLons:     appendDeltas(nil, c.Lons),
		secCats:     c.Cats,
		secNameOffs: appendUint32s(nil, c.NameOffs),
		secNames:    c.Names,
		secPrices:   c.Prices,
		secRatings:  c.Ratings,
		secTags:     appendPlanes(nil, c.Tags),
		secReviews:  appendPlanes(nil, c.Reviews),
		secBlobOffs: appendUint32s(nil, blobOffs),
		secBlobs:    blobs,
	}
	h.Count = t.Len()
	h.Bounds, _ = t.Bounds()
	return writeSections(w, h, raw)
}

// writeSections compresses the sections and writes them after the header
// describing them.
func writeSections(w io.Writer, h Header, raw [numSections][]byte) error {
	var comp [numSections][]byte
	var secs [numSections]section
	var wg sync.WaitGroup
	for i := range raw {
		wg.Go(func() {
			if len(raw[i]) > 0 {
				comp[i] = encoder.EncodeAll(raw[i], nil)
			}
			secs[i] = section{rawLen: uint64(len(raw[i])), compLen: uint64(len(comp[i])), crc: crc32.Checksum(raw[i], castagnoli)}
		})
	}
	wg.Wait()
	hdr := encodeHeader(h, secs)
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	for _, b := range comp {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// checkBlobs checks a blob table against the limits and the entries' tags.
func checkBlobs(blobs [][]byte, tags []uint32) error {
	if len(blobs) > MaxEntries {
		return fmt.Errorf("%w: %d blobs", ErrBlobs, len(blobs))
	}
	total := 0
	for i, b := range blobs {
		if len(b) > MaxBlobLen {
			return fmt.Errorf("%w: blob %d is %d bytes", ErrBlobs, i, len(b))
		}
		total += len(b)
	}
	if total > math.MaxUint32 {
		return fmt.Errorf("%w: %d bytes of blobs", ErrBlobs, total)
	}
	for i, tag := range tags {
		if int64(tag) > int64(len(blobs)) {
			return fmt.Errorf("%w: entry %d has tag %d, beyond the %d blobs", ErrBlobs, i, tag, len(blobs))
		}
	}
	return nil
}

// encoder is shared: EncodeAll is safe for concurrent use.
var encoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))

func encodeHeader(h Header, secs [numSections]section) []byte {
	b := append([]byte(nil), magic[:]...)
	b = binary.LittleEndian.AppendUint16(b, FormatVersion)
	b = binary.LittleEndian.AppendUint32(b, 0) // header length, set below
	b = append(b, byte(len(h.Region)))
	b = append(b, h.Region...)
	b = binary.LittleEndian.AppendUint64(b, h.IndexVersion)
	b = binary.LittleEndian.AppendUint64(b, uint64(h.Watermark.UnixMicro()))
	b = binary.LittleEndian.AppendUint64(b, uint64(h.CreatedAt.UnixNano()))
	b = binary.LittleEndian.AppendUint64(b, uint64(h.Count))
	for _, v := range []float64{h.Bounds.MinLat, h.Bounds.MinLon, h.Bounds.MaxLat, h.Bounds.MaxLon} {
		b = binary.LittleEndian.AppendUint32(b, uint32(quadtree.ToE7(v)))
	}
	b = append(b, numSections)
	for _, s := range secs {
		b = binary.LittleEndian.AppendUint64(b, s.rawLen)
		b = binary.LittleEndian.AppendUint64(b, s.compLen)
		b = binary.LittleEndian.AppendUint32(b, s.crc)
	}
	binary.LittleEndian.PutUint32(b[10:], uint32(len(b)+4))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// maxHeaderLen bounds the header: fixed fields, a 64-byte region name and
// the section table.
const maxHeaderLen = 8 + 2 + 4 + 1 + 64 + 4*8 + 4*4 + 1 + numSections*20 + 4

// Decode reads a seed from data, verifying magic, version, sizes and
// checksums before any of it is trusted. If region is not empty the seed
// must be for that region. A seed that decodes to more than
// DefaultLoadLimit bytes is refused (ErrLoadLimit; see Loader). Errors wrap
// the Err values of this package (or quadtree.ErrColumns).
func Decode(data []byte, region string) (*Seed, error) { return Loader{}.Decode(data, region) }

// decode is Decode refusing a seed that decodes to more than limit bytes;
// it also returns how many bytes the seed decoded to.
func decode(data []byte, region string, limit uint64) (*Seed, uint64, error) {
	if len(data) < 14 {
		return nil, 0, fmt.Errorf("%w: %d bytes", ErrTruncated, len(data))
	}
	if !bytes.Equal(data[:8], magic[:]) {
		return nil, 0, ErrMagic
	}
	version := binary.LittleEndian.Uint16(data[8:])
	nsec := sectionsOf[version]
	if nsec == 0 {
		return nil, 0, fmt.Errorf("%w: %d (this build reads 1 to %d)", ErrVersion, version, FormatVersion)
	}
	hlen := int(binary.LittleEndian.Uint32(data[10:]))
	if hlen > maxHeaderLen || hlen < 18 {
		return nil, 0, fmt.Errorf("%w: header length %d", ErrCorrupt, hlen)
	}
	if len(data) < hlen {
		return nil, 0, fmt.Errorf("%w: %d bytes, header needs %d", ErrTruncated, len(data), hlen)
	}
	if crc32.Checksum(data[:hlen-4], castagnoli) != binary.LittleEndian.Uint32(data[hlen-4:]) {
		return nil, 0, fmt.Errorf("%w: header", ErrChecksum)
	}
	h, secs, err := decodeHeader(data[14:hlen-4], nsec)
	if err != nil {
		return nil, 0, err
	}
	if region != "" && h.Region != region {
		return nil, 0, fmt.Errorf("%w: holds %q, want %q", ErrRegion, h.Region, region)
	}
	// Sections never decompress to more than they declare, so refusing
	// the declaration bounds what a small, highly compressible file can
	// make this allocate. (The declared sizes are capped, so their sum
	// cannot overflow.)
	var rawTotal uint64
	for _, s := range secs[:nsec] {
		rawTotal += s.rawLen
	}
	if rawTotal > limit {
		return nil, 0, fmt.Errorf("%w: decodes to %d bytes, limit %d", ErrLoadLimit, rawTotal, limit)
	}
	body := data[hlen:]
	var total uint64
	for _, s := range secs[:nsec] {
		total += s.compLen
	}
	if total != uint64(len(body)) {
		if total > uint64(len(body)) {
			return nil, 0, fmt.Errorf("%w: body %d bytes, header declares %d", ErrTruncated, len(body), total)
		}
		return nil, 0, fmt.Errorf("%w: %d bytes after the last section", ErrCorrupt, uint64(len(body))-total)
	}

	var raw [numSections][]byte
	var errs [numSections]error
	var wg sync.WaitGroup
	off := uint64(0)
	for i, s := range secs[:nsec] {
		comp := body[off : off+s.compLen]
		off += s.compLen
		wg.Go(func() { raw[i], errs[i] = decodeSection(comp, s) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, 0, err
		}
	}

	n := h.Count
	c := quadtree.Columns{
		IDs:      readInt64s(raw[secIDs], n),
		Lats:     readDeltas(raw[secLats], n),
		Lons:     readDeltas(raw[secLons], n),
		Cats:     raw[secCats],
		NameOffs: readUint32s(raw[secNameOffs], n+1),
		Names:    raw[secNames],
	}
	if nsec > secNames+1 {
		c.Prices, c.Ratings = raw[secPrices], raw[secRatings]
		c.Tags, c.Reviews = readPlanes(raw[secTags], n), readPlanes(raw[secReviews], n)
		offs := readUint32s(raw[secBlobOffs], len(raw[secBlobOffs])/4)
		if h.Blobs, err = readBlobs(offs, raw[secBlobs]); err != nil {
			return nil, 0, err
		}
		for i, tag := range c.Tags {
			if int64(tag) > int64(len(h.Blobs)) {
				return nil, 0, fmt.Errorf("%w: entry %d has tag %d, beyond the %d blobs", ErrCorrupt, i, tag, len(h.Blobs))
			}
		}
	}
	t, err := quadtree.FromColumns(c)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if b, _ := t.Bounds(); b != h.Bounds {
		return nil, 0, fmt.Errorf("%w: bounds %+v, entries span %+v", ErrCorrupt, h.Bounds, b)
	}
	return &Seed{Header: h, Tree: t}, rawTotal, nil
}

// readBlobs cuts the blob table out of its bytes by offsets, which must
// start at 0, grow, and end at the last byte; blobs share data, each
// capped so an append cannot overwrite the next. Every offset is checked
// against data, not only the last: a forged one in the middle must not
// reach past it.
func readBlobs(offs []uint32, data []byte) ([][]byte, error) {
	if offs[0] != 0 || int(offs[len(offs)-1]) != len(data) {
		return nil, fmt.Errorf("%w: blob offsets do not span the blobs", ErrCorrupt)
	}
	if len(offs) == 1 {
		return nil, nil
	}
	blobs := make([][]byte, len(offs)-1)
	for i := range blobs {
		lo, hi := offs[i], offs[i+1]
		if hi < lo || hi-lo > MaxBlobLen || int(hi) > len(data) {
			return nil, fmt.Errorf("%w: blob %d: bad offsets", ErrCorrupt, i)
		}
		blobs[i] = data[lo:hi:hi]
	}
	return blobs, nil
}

// decodeHeader reads the header fields after the version and length, for a
// format of nsec sections.
func decodeHeader(b []byte, nsec int) (Header, [numSections]section, error) {
	var h Header
	var secs [numSections]section
	corrupt := fmt.Errorf("%w: header fields", ErrCorrupt)
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return h, secs, corrupt
	}
	// In int: 1+b[0] as a byte wraps to 0 for a length of 255.
	n := 1 + int(b[0])
	h.Region, b = string(b[1:n]), b[n:]
	if !ValidRegion(h.Region) {
		return h, secs, fmt.Errorf("%w: region %q", ErrCorrupt, h.Region)
	}
	if len(b) != 4*8+4*4+1+nsec*20 || int(b[48]) != nsec {
		return h, secs, corrupt
	}
	le := binary.LittleEndian
	h.IndexVersion = le.Uint64(b)
	h.Watermark = time.UnixMicro(int64(le.Uint64(b[8:]))).UTC()
	h.CreatedAt = time.Unix(0, int64(le.Uint64(b[16:]))).UTC()
	count := le.Uint64(b[24:])
	if count > MaxEntries {
		return h, secs, fmt.Errorf("%w: %d", ErrTooLarge, count)
	}
	h.Count = int(count)
	h.Bounds = geo.Rect{
		MinLat: quadtree.FromE7(int32(le.Uint32(b[32:]))), MinLon: quadtree.FromE7(int32(le.Uint32(b[36:]))),
		MaxLat: quadtree.FromE7(int32(le.Uint32(b[40:]))), MaxLon: quadtree.FromE7(int32(le.Uint32(b[44:]))),
	}
	b = b[49:]
	for i := range nsec {
		secs[i] = section{rawLen: le.Uint64(b), compLen: le.Uint64(b[8:]), crc: le.Uint32(b[16:])}
		b = b[20:]
	}
	// Raw sizes follow from the count, except those of the names, bounded
	// by it, and of the blob table, bounded by its offsets.
	want := [numSections]uint64{
		secIDs: 8 * count, secLats: 4 * count, secLons: 4 * count, secCats: count, secNameOffs: 4 * (count + 1),
		secPrices: count, secRatings: count, secTags: 4 * count, secReviews: 4 * count,
	}
	for i, s := range secs[:nsec] {
		switch i {
		case secNames:
			if s.rawLen > count*quadtree.MaxNameLen || s.rawLen > math.MaxUint32 {
				return h, secs, fmt.Errorf("%w: names %d bytes", ErrCorrupt, s.rawLen)
			}
		case secBlobOffs:
			if s.rawLen%4 != 0 || s.rawLen < 4 || s.rawLen > 4*(MaxEntries+1) {
				return h, secs, fmt.Errorf("%w: blob offsets %d bytes", ErrCorrupt, s.rawLen)
			}
		case secBlobs:
			if blobs := secs[secBlobOffs].rawLen/4 - 1; s.rawLen > blobs*MaxBlobLen || s.rawLen > math.MaxUint32 {
				return h, secs, fmt.Errorf("%w: blobs %d bytes", ErrCorrupt, s.rawLen)
			}
		default:
			if s.rawLen != want[i] {
				return h, secs, fmt.Errorf("%w: section %d is %d bytes, want %d", ErrCorrupt, i, s.rawLen, want[i])
			}
		}
		if s.compLen > 1<<40 {
			return h, secs, fmt.Errorf("%w: section %d compressed size %d", ErrCorrupt, i, s.compLen)
		}
	}
	return h, secs, nil
}

// decoders are streaming zstd decoders, reused across sections. The window
// limit bounds their memory whatever a frame header claims.
var decoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(8<<20))
	if err != nil {
		panic(err) // only bad options make NewReader fail
	}
	return d
}}

// decodeSection decompresses one section, never producing more than its
// declared raw size, and checks its CRC. The output buffer grows with what
// the data really holds, so a forged size cannot force a large allocation.
func decodeSection(comp []byte, s section) ([]byte, error) {
	if s.rawLen == 0 {
		if len(comp) != 0 {
			return nil, fmt.Errorf("%w: data in an empty section", ErrCorrupt)
		}
		return []byte{}, nil
	}
	d := decoders.Get().(*zstd.Decoder)
	defer decoders.Put(d)
	if err := d.Reset(bytes.NewReader(comp)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	out := make([]byte, 0, min(s.rawLen, 1024*uint64(len(comp))+1<<20))
	for {
		if len(out) == cap(out) {
			if uint64(len(out)) == s.rawLen {
				var extra [1]byte
				if n, _ := io.ReadFull(d, extra[:]); n > 0 {
					return nil, fmt.Errorf("%w: section longer than its declared %d bytes", ErrCorrupt, s.rawLen)
				}
				break
			}
			out = slices.Grow(out, int(min(s.rawLen-uint64(len(out)), uint64(len(out)))))
		}
		n, err := d.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
	}
	if uint64(len(out)) != s.rawLen {
		return nil, fmt.Errorf("%w: section is %d bytes, header says %d", ErrCorrupt, len(out), s.rawLen)
	}
	if crc32.Checksum(out, castagnoli) != s.crc {
		return nil, fmt.Errorf("%w: section data", ErrChecksum)
	}
	return out, nil
}

// DefaultLoadLimit is the load limit of a Loader that sets none: 16 GiB of
// decoded sections, about 340 million realistic businesses (a seed of 10M
// decodes to ~0.5 GB: 31 bytes of columns per business plus its name), so
// the design's whole world (200M) loads on one node by default.
const DefaultLoadLimit = 16 << 30

// Loader loads seeds within a memory budget. The zero Loader uses
// DefaultLoadLimit; Decode, Load, LoadDir and LoadRegions use a zero
// Loader.
type Loader struct {
	// MaxBytes bounds the bytes a load decodes, the sum of the raw sizes
	// of the sections of every seed it loads: one for Decode and Load,
	// all of them together for LoadRegions. A seed whose header declares
	// more (its sections can never decompress to more than they declare),
	// or whose file is larger than such a seed could be, is refused with
	// ErrLoadLimit before its sections are decompressed. A load's peak
	// memory is about twice what it decodes, plus the file. Zero or less
	// means DefaultLoadLimit.
	MaxBytes int64
}

func (l Loader) limit() uint64 {
	if l.MaxBytes <= 0 {
		return DefaultLoadLimit
	}
	return uint64(l.MaxBytes)
}

// Decode is the package's Decode within l's limit.
func (l Loader) Decode(data []byte, region string) (*Seed, error) {
	s, _, err := decode(data, region, l.limit())
	return s, err
}

// Load is the package's Load within l's limit.
func (l Loader) Load(path, region string) (*Seed, error) {
	s, _, err := load(path, region, l.limit())
	return s, err
}

// Write writes a seed file of t at path atomically: the data goes to a
// temporary file in the same directory, which is synced, renamed over path,
// and the directory synced. A reader sees the old file or the new one, never
// a part.
func Write(path string, h Header, t *quadtree.Tree) error {
	return writeAtomic(path, func(w io.Writer) error { return Encode(w, h, t) })
}

// Load reads and verifies the seed file at path (see Decode). Errors name the
// file and the reason.
func Load(path, region string) (*Seed, error) { return Loader{}.Load(path, region) }

// load is Load within limit; it also returns how many bytes the seed
// decoded to.
func load(path, region string, limit uint64) (*Seed, uint64, error) {
	data, err := readFile(path, maxFileLen(limit))
	if err != nil {
		return nil, 0, fmt.Errorf("load seed %q: %w", path, err)
	}
	s, n, err := decode(data, region, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("load seed %q: %w", path, err)
	}
	return s, n, nil
}

// maxFileLen bounds the size of a seed that decodes to at most limit
// bytes: its header and sections, which zstd keeps within a few bytes per
// 128 KiB block of their raw size (it stores incompressible blocks raw);
// the slack is generous.
func maxFileLen(limit uint64) uint64 {
	return maxHeaderLen + limit + limit/64 + numSections<<10
}

// readFile reads the file at path, refusing with ErrLoadLimit one longer
// than maxLen before reading it.
func readFile(path string, maxLen uint64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if size := fi.Size(); uint64(size) > maxLen {
		return nil, fmt.Errorf("%w: file is %d bytes, a seed within the limit at most %d", ErrLoadLimit, size, maxLen)
	}
	// Only the bytes the size promised: a file that shrank meanwhile
	// comes back short, and Decode says it is truncated.
	data := make([]byte, fi.Size())
	n, err := io.ReadFull(f, data)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	return data[:n], nil
}

// writeAtomic writes a file through a synced temporary file and a rename.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("write %q: %w", path, err)
		}
	}()
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
