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
//	sections, each a zstd frame: ids, latitudes, longitudes, categories,
//	name offsets, names.
//
// Rules:
//   - Entries are stored in the tree's own order, so loading rebuilds the
//     tree with quadtree.FromColumns in one linear pass, without sorting.
//     Latitudes and longitudes are zigzag deltas, which compress well in that
//     order. Names are a section of their own, apart from the spatial data.
//   - Nothing read is trusted before it is checked: magic, version, header
//     CRC, declared sizes (counts capped by MaxEntries, section sizes derived
//     from the count), then each section's CRC after decompression, then the
//     columns' ranges and order. Decompression grows its buffer with the data
//     actually present, so a forged header cannot force a large allocation.
//     Errors say which file and why (ErrMagic, ErrVersion, ErrTruncated,
//     ErrChecksum, ErrCorrupt, ErrRegion, ErrTooLarge).
//   - Files are written to a temporary file, synced, renamed into place and
//     the directory synced: a reader never sees a partial seed.
//   - A directory's MANIFEST.json names the current seed of each region and
//     is replaced the same way, so readers load a consistent set. GC removes
//     seeds no manifest names, keeping the newest few for rollback.
//   - Format versions only grow; testdata/ keeps a seed of every released
//     version, which must keep loading.
package seeds
