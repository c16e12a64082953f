// Package seeds stores built quadtrees as seed files, so a search node comes
// back from a crash, or a new node joins, by loading a file instead of
// re-reading the database.
//
// A seed holds one region's index. Layout (little-endian):
//
//	magic "NEARBYSD" | format version u16 | header length u32 |
//	region (u8 length + bytes) | index version u64 | watermark µs i64 |
//	created ns i64 | entry count u64 | bounds 4×i32 (degrees × 1e7) |
//	section count u8 | per section: raw length u64, compressed length u64,
//	CRC-32C of the raw bytes u32 | CRC-32C of the header u32 |
//	sections, each a zstd frame: ids i64, latitudes, longitudes (zigzag
//	deltas, u32), categories u8, name offsets u32 (one more than the
//	entries), names; since format 2 also prices u8, ratings u8, tags and
//	review counts (u32 in four byte planes: every value's low byte, then
//	the next...), blob offsets u32 (one more than the blobs), blobs.
//
// Rules:
//   - Entries are stored in the tree's own order, so loading rebuilds the
//     tree with quadtree.FromColumns in one linear pass, without sorting.
//     Latitudes and longitudes are zigzag deltas, which compress well in that
//     order. Names are a section of their own, apart from the spatial data.
//   - Format 2 adds the entries' attributes (quadtree.Attrs) and a table of
//     opaque blobs, Header.Blobs, that tags refer to: tag t > 0 is
//     Blobs[t-1], tag 0 none. A table has at most MaxEntries blobs of at
//     most MaxBlobLen bytes each; Encode refuses one that breaks this or
//     that a tag points past (ErrBlobs), and Decode checks the same before
//     returning it. A format 1 seed loads with zero attributes and no
//     blobs.
//   - Nothing read is trusted before it is checked: magic, version, header
//     CRC, declared sizes (counts capped by MaxEntries, section sizes derived
//     from the count), then each section's CRC after decompression, then the
//     columns' ranges and order, the blob offsets and the tags.
//     Decompression grows its buffer with the data actually present, and
//     never past a section's declared size; what the sizes declare
//     together must be within a load limit (Loader, DefaultLoadLimit:
//     16 GiB), so a small file of highly compressible data cannot make a
//     load allocate more than that. Errors say which file and why
//     (ErrMagic, ErrVersion, ErrTruncated, ErrChecksum, ErrCorrupt,
//     ErrRegion, ErrTooLarge, ErrLoadLimit).
//   - Files are written to a temporary file, synced, renamed into place and
//     the directory synced: a reader never sees a partial seed.
//   - A directory's MANIFEST.json names the current seed of each region and
//     is replaced the same way, so readers load a consistent set. GC removes
//     seeds no manifest names, keeping the newest few for rollback.
//   - Format versions only grow; testdata/ keeps a seed of every released
//     version, which must keep loading.
package seeds
