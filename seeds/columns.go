package seeds

import "encoding/binary"

// Column encodings, little-endian. Reads assume the length was checked.

func appendInt64s(b []byte, vs []int64) []byte {
	b = append(b, make([]byte, 8*len(vs))...)
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return b
}

func readInt64s(b []byte, n int) []int64 {
	vs := make([]int64, n)
	for i := range vs {
		vs[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return vs
}

func appendUint32s(b []byte, vs []uint32) []byte {
	b = append(b, make([]byte, 4*len(vs))...)
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return b
}

func readUint32s(b []byte, n int) []uint32 {
	vs := make([]uint32, n)
	for i := range vs {
		vs[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return vs
}

// appendDeltas stores each value as the zigzag-encoded difference from the
// previous one (wrapping), so small steps become small unsigned numbers.
func appendDeltas(b []byte, vs []int32) []byte {
	b = append(b, make([]byte, 4*len(vs))...)
	var prev int32
	for i, v := range vs {
		d := v - prev
		prev = v
		binary.LittleEndian.PutUint32(b[4*i:], uint32(d<<1)^uint32(d>>31))
	}
	return b
}

func readDeltas(b []byte, n int) []int32 {
	vs := make([]int32, n)
	var prev int32
	for i := range vs {
		z := binary.LittleEndian.Uint32(b[4*i:])
		prev += int32(z>>1) ^ -int32(z&1)
		vs[i] = prev
	}
	return vs
}
