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

// appendPlanes stores values as four byte planes: every value's lowest
// byte, then every value's second byte, and so on. Tags and review counts
// are small numbers in no order, so their high planes are all zero and
// compress to nothing, and the low ones compress as literals; as plain
// little-endian words they compress worse and decompress slower.
func appendPlanes(b []byte, vs []uint32) []byte {
	n := len(vs)
	b = append(b, make([]byte, 4*n)...)
	p := b[len(b)-4*n:]
	for i, v := range vs {
		p[i], p[n+i], p[2*n+i], p[3*n+i] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	return b
}

func readPlanes(b []byte, n int) []uint32 {
	vs := make([]uint32, n)
	p0, p1, p2, p3 := b[:n], b[n:2*n], b[2*n:3*n], b[3*n:4*n]
	for i := range vs {
		vs[i] = uint32(p0[i]) | uint32(p1[i])<<8 | uint32(p2[i])<<16 | uint32(p3[i])<<24
	}
	return vs
}
