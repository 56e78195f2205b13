package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// f16Table maps every half-precision bit pattern to its float32 value (256 KiB, built on
// first use), as ggml's table_f32_f16 does.
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = F16ToF32(uint16(i))
	}
	return &t
})

// CanDequantize reports whether Dequantize supports t.
func CanDequantize(t TensorType) bool {
	switch t {
	case TypeF32, TypeF16, TypeBF16, TypeQ8_0, TypeQ4_0, TypeQ4_K, TypeQ6_K:
		return true
	}
	return false
}

// Dequantize decodes src, the raw data of len(dst) elements of type t, into dst. len(dst)
// must be a multiple of t's block size and len(src) must be exactly the data size.
func Dequantize(t TensorType, src []byte, dst []float32) error {
	if !CanDequantize(t) {
		return fmt.Errorf("%w %s", ErrUnsupportedType, t)
	}
	bs, ts := t.BlockSize(), t.TypeSize()
	if len(dst)%bs != 0 {
		return fmt.Errorf("gguf: %d elements are not a whole number of %s blocks of %d", len(dst), t, bs)
	}
	if want := len(dst) / bs * ts; len(src) != want {
		return fmt.Errorf("gguf: %d elements of %s need %d bytes, have %d", len(dst), t, want, len(src))
	}
	le := binary.LittleEndian
	switch t {
	case TypeF32:
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	case TypeF16:
		tab := f16Table()
		for i := range dst {
			dst[i] = tab[le.Uint16(src[2*i:])]
		}
	case TypeBF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(le.Uint16(src[2*i:])) << 16)
		}
	case TypeQ8_0:
		for b := 0; b < len(dst)/32; b++ {
			blk := src[b*34 : b*34+34]
			d := F16ToF32(le.Uint16(blk))
			y := dst[b*32 : b*32+32]
			for j := range 32 {
				y[j] = float32(int8(blk[2+j])) * d
			}
		}
	case TypeQ4_0:
		for b := 0; b < len(dst)/32; b++ {
			blk := src[b*18 : b*18+18]
			d := F16ToF32(le.Uint16(blk))
			y := dst[b*32 : b*32+32]
			for j := range 16 {
				q := blk[2+j]
				y[j] = float32(int(q&0x0F)-8) * d
				y[j+16] = float32(int(q>>4)-8) * d
			}
		}
	case TypeQ4_K:
		for b := 0; b < len(dst)/256; b++ {
			dequantQ4K(src[b*144:b*144+144], dst[b*256:b*256+256])
		}
	case TypeQ6_K:
		for b := 0; b < len(dst)/256; b++ {
			dequantQ6K(src[b*210:b*210+210], dst[b*256:b*256+256])
		}
	}
	return nil
}

// scaleMinK4 unpacks the 6-bit scale and min of sub-block j (get_scale_min_k4 in ggml).
func scaleMinK4(j int, q []byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return (q[j+4] & 0xF) | ((q[j-4] >> 6) << 4), (q[j+4] >> 4) | ((q[j] >> 6) << 4)
}

// dequantQ4K decodes one block_q4_K {d f16, dmin f16, scales [12]u8, qs [128]u8}
// (dequantize_row_q4_K in ggml-quants.c).
func dequantQ4K(blk []byte, y []float32) {
	d := F16ToF32(binary.LittleEndian.Uint16(blk[0:]))
	dmin := F16ToF32(binary.LittleEndian.Uint16(blk[2:]))
	scales := blk[4:16]
	q := blk[16:144]
	is := 0
	for j := 0; j < 256; j += 64 {
		sc, m := scaleMinK4(is, scales)
		d1, m1 := d*float32(sc), dmin*float32(m)
		sc, m = scaleMinK4(is+1, scales)
		d2, m2 := d*float32(sc), dmin*float32(m)
		for l := range 32 {
			y[j+l] = float32(d1*float32(q[l]&0xF)) - m1
			y[j+32+l] = float32(d2*float32(q[l]>>4)) - m2
		}
		q = q[32:]
		is += 2
	}
}

// dequantQ6K decodes one block_q6_K {ql [128]u8, qh [64]u8, scales [16]i8, d f16}
// (dequantize_row_q6_K in ggml-quants.c).
func dequantQ6K(blk []byte, y []float32) {
	ql := blk[0:128]
	qh := blk[128:192]
	sc := blk[192:208]
	d := F16ToF32(binary.LittleEndian.Uint16(blk[208:]))
	for n := 0; n < 256; n += 128 {
		for l := range 32 {
			is := l / 16
			q1 := int8((ql[l]&0xF)|((qh[l]>>0)&3)<<4) - 32
			q2 := int8((ql[l+32]&0xF)|((qh[l]>>2)&3)<<4) - 32
			q3 := int8((ql[l]>>4)|((qh[l]>>4)&3)<<4) - 32
			q4 := int8((ql[l+32]>>4)|((qh[l]>>6)&3)<<4) - 32
			y[n+l] = float32(d*float32(int8(sc[is]))) * float32(q1)
			y[n+l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
			y[n+l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
			y[n+l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
		}
		ql = ql[64:]
		qh = qh[32:]
		sc = sc[8:]
	}
}

// F16ToF32 converts an IEEE 754 half-precision value to float32 exactly.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1F
	mant := uint32(h) & 0x3FF
	switch {
	case exp == 0x1F: // inf or NaN
		return math.Float32frombits(sign | 0x7F800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3FF
		return math.Float32frombits(sign | e<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// F32ToF16 converts a float32 to half precision, rounding to nearest even (as ggml's
// GGML_FP32_TO_FP16 does on hardware with F16C).
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xFF
	mant := b & 0x7FFFFF
	if exp == 0xFF {
		if mant != 0 {
			return sign | 0x7E00 | uint16(mant>>13)
		}
		return sign | 0x7C00
	}
	e := exp - 127 + 15
	if e >= 0x1F {
		return sign | 0x7C00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := mant >> shift
		rem := mant & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1FFF
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // may carry into the exponent, which is correct (up to infinity)
	}
	return sign | uint16(r)
}
