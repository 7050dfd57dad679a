package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// KV is one metadata key/value pair. Value is one of uint8, int8, uint16,
// int16, uint32, int32, float32, bool, string, uint64, int64, float64, or a
// slice of one of those ([]string, []float32, []int32, ...).
type KV struct {
	Key   string
	Value any
}

// Tensor is one tensor to write: its name, ggml dims (ne[0] first, the
// contiguous dimension) and its encoded data.
type Tensor struct {
	Name string
	Type TensorType
	Dims []uint64
	Data []byte
}

// File is a GGUF file to write.
type File struct {
	KV      []KV
	Tensors []Tensor
}

// WriteTo writes f as GGUF v3 with 32-byte alignment.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: bufio.NewWriterSize(w, 1<<20)}
	le := binary.LittleEndian
	put := func(v any) { _ = binary.Write(cw, le, v) }
	cw.WriteString(Magic)
	put(uint32(Version))
	put(uint64(len(f.Tensors)))
	put(uint64(len(f.KV)))
	for _, kv := range f.KV {
		writeString(cw, kv.Key)
		if err := writeValue(cw, kv.Value, true); err != nil {
			return cw.n, fmt.Errorf("metadata %q: %w", kv.Key, err)
		}
	}
	var off uint64
	offsets := make([]uint64, len(f.Tensors))
	for i, t := range f.Tensors {
		want, err := rowBytes(t.Type, t.Dims)
		if err != nil {
			return cw.n, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		if uint64(len(t.Data)) != want {
			return cw.n, fmt.Errorf("tensor %q: %d data bytes, want %d for %s %v", t.Name, len(t.Data), want, t.Type, t.Dims)
		}
		writeString(cw, t.Name)
		put(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			put(d)
		}
		put(uint32(t.Type))
		off = align(off, DefaultAlignment)
		offsets[i] = off
		put(off)
		off += want
	}
	pad := func() {
		for cw.n%DefaultAlignment != 0 {
			_ = cw.WriteByte(0) // errors are kept in cw.err
		}
	}
	pad()
	start := cw.n
	for i, t := range f.Tensors {
		for uint64(cw.n-start) < offsets[i] {
			_ = cw.WriteByte(0)
		}
		_, _ = cw.Write(t.Data)
	}
	pad()
	if cw.err != nil {
		return cw.n, cw.err
	}
	return cw.n, cw.w.(*bufio.Writer).Flush()
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

func (c *countWriter) WriteString(s string) { _, _ = c.Write([]byte(s)) }
func (c *countWriter) WriteByte(b byte) error {
	_, err := c.Write([]byte{b})
	return err
}

func writeString(w *countWriter, s string) {
	_ = binary.Write(w, binary.LittleEndian, uint64(len(s)))
	w.WriteString(s)
}

// writeValue writes a typed value (with its type tag when tagged).
func writeValue(w *countWriter, v any, tagged bool) error {
	le := binary.LittleEndian
	tag := func(t ValueType) {
		if tagged {
			_ = binary.Write(w, le, uint32(t))
		}
	}
	arr := func(t ValueType, n int) {
		tag(TypeArray)
		_ = binary.Write(w, le, uint32(t))
		_ = binary.Write(w, le, uint64(n))
	}
	switch x := v.(type) {
	case uint8:
		tag(TypeUint8)
		_ = binary.Write(w, le, x)
	case int8:
		tag(TypeInt8)
		_ = binary.Write(w, le, x)
	case uint16:
		tag(TypeUint16)
		_ = binary.Write(w, le, x)
	case int16:
		tag(TypeInt16)
		_ = binary.Write(w, le, x)
	case uint32:
		tag(TypeUint32)
		_ = binary.Write(w, le, x)
	case int32:
		tag(TypeInt32)
		_ = binary.Write(w, le, x)
	case float32:
		tag(TypeFloat32)
		_ = binary.Write(w, le, math.Float32bits(x))
	case bool:
		tag(TypeBool)
		b := byte(0)
		if x {
			b = 1
		}
		_ = w.WriteByte(b)
	case string:
		tag(TypeString)
		writeString(w, x)
	case uint64:
		tag(TypeUint64)
		_ = binary.Write(w, le, x)
	case int64:
		tag(TypeInt64)
		_ = binary.Write(w, le, x)
	case float64:
		tag(TypeFloat64)
		_ = binary.Write(w, le, x)
	case []string:
		arr(TypeString, len(x))
		for _, s := range x {
			writeString(w, s)
		}
	case []float32:
		arr(TypeFloat32, len(x))
		for _, f := range x {
			_ = binary.Write(w, le, math.Float32bits(f))
		}
	case []int32:
		arr(TypeInt32, len(x))
		_ = binary.Write(w, le, x)
	case []uint32:
		arr(TypeUint32, len(x))
		_ = binary.Write(w, le, x)
	default:
		return fmt.Errorf("unsupported metadata value type %T", v)
	}
	return nil
}
