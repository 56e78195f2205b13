package tensor

import "math"

// Format is a storage format that float32 values can be rounded to. Rounding a float32 to a
// Format and back is written Format.Round; every conversion rounds to nearest, ties to even, as
// the IEEE 754 default (and CUDA's __float2half_rn / __float2bfloat16_rn) does.
type Format uint8

// Formats, from finest to coarsest.
const (
	// F32 keeps float32 as it is: Round is the identity.
	F32 Format = iota
	// TF32 is NVIDIA's TensorFloat-32: float32's 8-bit exponent with a 10-bit mantissa.
	TF32
	// F16 is IEEE 754 binary16: 5-bit exponent, 10-bit mantissa, subnormals, max 65504.
	F16
	// BF16 is bfloat16: float32's 8-bit exponent with a 7-bit mantissa.
	BF16
)

// String returns the format's lower-case name.
func (f Format) String() string {
	switch f {
	case F32:
		return "f32"
	case TF32:
		return "tf32"
	case F16:
		return "f16"
	case BF16:
		return "bf16"
	}
	return "format(?)"
}

// UnitRoundoff is the relative error bound of one rounding to f: 2^-(mantissa bits + 1).
func (f Format) UnitRoundoff() float64 {
	switch f {
	case TF32, F16:
		return 0x1p-11
	case BF16:
		return 0x1p-8
	}
	return 0x1p-24
}

// Round rounds x to the format f (nearest, ties to even) and returns it as a float32.
// NaN stays NaN; values beyond the format's range become ±Inf.
func (f Format) Round(x float32) float32 {
	switch f {
	case TF32:
		return roundMantissa(x, 13)
	case F16:
		return Float16ToFloat32(Float32ToFloat16(x))
	case BF16:
		return roundMantissa(x, 16)
	}
	return x
}

// RoundSlice rounds every element of xs to f in place.
func (f Format) RoundSlice(xs []float32) {
	if f == F32 {
		return
	}
	for i, x := range xs {
		xs[i] = f.Round(x)
	}
}

// roundMantissa drops the low drop bits of x's mantissa, rounding to nearest even. The
// exponent range is float32's, so only overflow to Inf can happen (a carry out of the largest
// finite value).
func roundMantissa(x float32, drop uint) float32 {
	b := math.Float32bits(x)
	if b&0x7f800000 == 0x7f800000 { // Inf or NaN
		if b&0x007fffff != 0 {
			return math.Float32frombits(b | 0x00400000) // quiet NaN
		}
		return x
	}
	half := uint32(1)<<(drop-1) - 1
	b += half + (b>>drop)&1
	b &^= uint32(1)<<drop - 1
	return math.Float32frombits(b)
}

// Float32ToBFloat16 returns the bfloat16 bits nearest to x (ties to even).
func Float32ToBFloat16(x float32) uint16 {
	return uint16(math.Float32bits(roundMantissa(x, 16)) >> 16)
}

// BFloat16ToFloat32 returns the float32 value of bfloat16 bits h (exact).
func BFloat16ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// Float32ToFloat16 returns the IEEE binary16 bits nearest to x (ties to even), with overflow
// to ±Inf and gradual underflow to subnormals and ±0.
func Float32ToFloat16(x float32) uint16 {
	b := math.Float32bits(x)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint(14 - e)
		h := m >> shift
		rem := m & (uint32(1)<<shift - 1)
		halfway := uint32(1) << (shift - 1)
		if rem > halfway || (rem == halfway && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // a carry into the exponent is correct, up to Inf
	}
	return sign | uint16(h)
}

// Float16ToFloat32 returns the float32 value of IEEE binary16 bits h (exact).
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: mant * 2^-24, exact in float32.
		v := float32(mant) * 0x1p-24
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
