package gguf

import (
	"encoding/binary"
	"math"
)

// Block sizes of the quantized types written here.
const (
	qk8_0 = 32 // QK8_0
	qk4_0 = 32 // QK4_0
)

// fp16 converts a float32 to IEEE half precision with round-to-nearest-even,
// as ggml's GGML_FP32_TO_FP16 does (F16C / ggml_compute_fp32_to_fp16).
func fp16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp == 0 && mant == 0:
		return sign
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00 // overflow to Inf
	}
	if e <= 0 { // subnormal half
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := m >> shift
		rem := m & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, which is correct rounding
	}
	return sign | uint16(half)
}

// f16to32 converts IEEE half precision to float32.
func f16to32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		for mant&0x400 == 0 {
			mant <<= 1
			exp--
		}
		exp++
		mant &= 0x3ff
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// quantizeQ8_0 appends x (len a multiple of 32) as Q8_0 blocks, exactly as
// ggml's quantize_row_q8_0_ref: d = amax/127 stored as fp16, qs = roundf(x/d).
func quantizeQ8_0(dst []byte, x []float32) []byte {
	for i := 0; i+qk8_0 <= len(x); i += qk8_0 {
		var amax float32
		for _, v := range x[i : i+qk8_0] {
			if a := float32(math.Abs(float64(v))); a > amax {
				amax = a
			}
		}
		d := amax / ((1 << 7) - 1)
		var id float32
		if d != 0 {
			id = 1.0 / d
		}
		dst = binary.LittleEndian.AppendUint16(dst, fp16(d))
		for _, v := range x[i : i+qk8_0] {
			x0 := v * id
			dst = append(dst, byte(int8(math.Round(float64(x0)))))
		}
	}
	return dst
}

// quantizeQ4_0 appends x (len a multiple of 32) as Q4_0 blocks, exactly as
// ggml's quantize_row_q4_0_ref: d = max/-8 (max = the value of largest
// magnitude), nibbles min(15, (int8)(x/d + 8.5)); the low nibbles hold the
// first 16 values, the high nibbles the last 16.
func quantizeQ4_0(dst []byte, x []float32) []byte {
	for i := 0; i+qk4_0 <= len(x); i += qk4_0 {
		var amax, maxv float32
		for _, v := range x[i : i+qk4_0] {
			if a := float32(math.Abs(float64(v))); amax < a {
				amax, maxv = a, v
			}
		}
		d := maxv / -8
		var id float32
		if d != 0 {
			id = 1.0 / d
		}
		dst = binary.LittleEndian.AppendUint16(dst, fp16(d))
		for j := 0; j < qk4_0/2; j++ {
			x0 := x[i+j] * id
			x1 := x[i+qk4_0/2+j] * id
			xi0 := min(15, int8(x0+8.5))
			xi1 := min(15, int8(x1+8.5))
			dst = append(dst, uint8(xi0)|uint8(xi1)<<4)
		}
	}
	return dst
}

// dequantize decodes one tensor's data back to float32 (for tests and
// inspection); only the types written here are supported.
func dequantize(t TensorType, data []byte, n int) []float32 {
	out := make([]float32, 0, n)
	switch t {
	case F32:
		for i := 0; i+4 <= len(data) && len(out) < n; i += 4 {
			out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(data[i:])))
		}
	case F16:
		for i := 0; i+2 <= len(data) && len(out) < n; i += 2 {
			out = append(out, f16to32(binary.LittleEndian.Uint16(data[i:])))
		}
	case Q8_0:
		for b := 0; b+34 <= len(data) && len(out) < n; b += 34 {
			d := f16to32(binary.LittleEndian.Uint16(data[b:]))
			for j := 0; j < 32; j++ {
				out = append(out, float32(int8(data[b+2+j]))*d)
			}
		}
	case Q4_0:
		for b := 0; b+18 <= len(data) && len(out) < n; b += 18 {
			d := f16to32(binary.LittleEndian.Uint16(data[b:]))
			var lo, hi [16]float32
			for j := 0; j < 16; j++ {
				q := data[b+2+j]
				lo[j] = float32(int(q&0x0f)-8) * d
				hi[j] = float32(int(q>>4)-8) * d
			}
			out = append(append(out, lo[:]...), hi[:]...)
		}
	}
	return out
}
