// Package gguf writes and validates GGUF v3 model files: a native writer for
// tiny random-weight llama models (F16, Q8_0, Q4_0, norms in F32) used by the
// smoke suite and tests, and a reader that checks a file's structure (magic,
// version, metadata, tensor infos, alignment, data size) and reads its
// architecture metadata, so the model cache and doctor reject a corrupt or
// truncated model with a clear error instead of letting llama-bench crash.
//
// Format reference: ggml's docs/gguf.md and gguf-py (ggml-org/llama.cpp).
package gguf

import "fmt"

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// Version is the GGUF version this package writes.
const Version = 3

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// ValueType is a GGUF metadata value type.
type ValueType uint32

// GGUF metadata value types.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

// scalarSize is the encoded size of fixed-size value types.
func (t ValueType) scalarSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// TensorType is a ggml tensor type (enum ggml_type).
type TensorType uint32

// The ggml tensor types this package writes; the reader knows more.
const (
	F32  TensorType = 0
	F16  TensorType = 1
	Q4_0 TensorType = 2
	Q8_0 TensorType = 8
)

// typeInfo is (block size in elements, bytes per block) for each ggml type,
// from ggml's type traits (blck_size, type_size).
var typeInfo = map[TensorType]struct {
	name        string
	block, size int
}{
	0: {"F32", 1, 4}, 1: {"F16", 1, 2}, 2: {"Q4_0", 32, 18}, 3: {"Q4_1", 32, 20},
	6: {"Q5_0", 32, 22}, 7: {"Q5_1", 32, 24}, 8: {"Q8_0", 32, 34}, 9: {"Q8_1", 32, 36},
	10: {"Q2_K", 256, 84}, 11: {"Q3_K", 256, 110}, 12: {"Q4_K", 256, 144}, 13: {"Q5_K", 256, 176},
	14: {"Q6_K", 256, 210}, 15: {"Q8_K", 256, 292}, 16: {"IQ2_XXS", 256, 66}, 17: {"IQ2_XS", 256, 74},
	18: {"IQ3_XXS", 256, 98}, 19: {"IQ1_S", 256, 50}, 20: {"IQ4_NL", 32, 18}, 21: {"IQ3_S", 256, 110},
	22: {"IQ2_S", 256, 82}, 23: {"IQ4_XS", 256, 136}, 24: {"I8", 1, 1}, 25: {"I16", 1, 2},
	26: {"I32", 1, 4}, 27: {"I64", 1, 8}, 28: {"F64", 1, 8}, 29: {"IQ1_M", 256, 56},
	30: {"BF16", 1, 2}, 34: {"TQ1_0", 256, 54}, 35: {"TQ2_0", 256, 66}, 39: {"MXFP4", 32, 17},
}

func (t TensorType) String() string {
	if ti, ok := typeInfo[t]; ok {
		return ti.name
	}
	return fmt.Sprintf("type%d", uint32(t))
}

// FileType is general.file_type (llama_ftype) for a model whose large
// tensors are of type t.
func FileType(t TensorType) uint32 {
	switch t {
	case F32:
		return 0 // ALL_F32
	case F16:
		return 1 // MOSTLY_F16
	case Q4_0:
		return 2 // MOSTLY_Q4_0
	case Q8_0:
		return 7 // MOSTLY_Q8_0
	}
	return 0
}

// ParseTensorType maps a user's type name (f16, q8_0, q4_0, f32) to a type.
func ParseTensorType(s string) (TensorType, error) {
	switch s {
	case "f32", "F32":
		return F32, nil
	case "f16", "F16":
		return F16, nil
	case "q8_0", "Q8_0":
		return Q8_0, nil
	case "q4_0", "Q4_0":
		return Q4_0, nil
	}
	return 0, fmt.Errorf("unknown tensor type %q: use f16, q8_0, q4_0 or f32", s)
}

// rowBytes is the byte size of a tensor with the given dims, or an error
// when the first dimension is not a whole number of blocks.
func rowBytes(t TensorType, dims []uint64) (uint64, error) {
	ti, ok := typeInfo[t]
	if !ok {
		return 0, fmt.Errorf("unknown ggml type %d", uint32(t))
	}
	if len(dims) == 0 {
		return 0, fmt.Errorf("no dimensions")
	}
	if dims[0]%uint64(ti.block) != 0 {
		return 0, fmt.Errorf("first dimension %d is not a multiple of %s's block size %d", dims[0], ti.name, ti.block)
	}
	n := dims[0] / uint64(ti.block) * uint64(ti.size)
	for _, d := range dims[1:] {
		if d != 0 && n > (1<<62)/d {
			return 0, fmt.Errorf("tensor size overflows")
		}
		n *= d
	}
	return n, nil
}

func align(n, a uint64) uint64 { return (n + a - 1) / a * a }
