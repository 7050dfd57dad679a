package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// ErrCorrupt marks a file that is not a valid GGUF model (bad magic,
// truncated, inconsistent tensor table).
var ErrCorrupt = errors.New("not a valid GGUF file")

// TensorInfo is one entry of a GGUF tensor table.
type TensorInfo struct {
	Name   string     `json:"name"`
	Type   TensorType `json:"type"`
	Dims   []uint64   `json:"dims"`
	Offset uint64     `json:"offset"` // relative to the data section
	Size   uint64     `json:"size"`   // bytes
}

// ArrayInfo summarizes an array metadata value.
type ArrayInfo struct {
	Type ValueType `json:"type"`
	Len  uint64    `json:"len"`
}

// Info is what Inspect learns from a valid GGUF file.
type Info struct {
	Path       string         `json:"path"`
	Version    uint32         `json:"version"`
	Alignment  uint64         `json:"alignment"`
	Metadata   map[string]any `json:"metadata"` // scalars and strings; arrays as ArrayInfo
	Keys       []string       `json:"keys"`     // metadata keys in file order
	Tensors    []TensorInfo   `json:"tensors"`
	DataOffset uint64         `json:"data_offset"`
	DataSize   uint64         `json:"data_size"`
	FileSize   int64          `json:"file_size"`
	NParams    uint64         `json:"n_params"`
}

// Arch is general.architecture ("llama", ...).
func (i *Info) Arch() string { s, _ := i.Metadata["general.architecture"].(string); return s }

// Uint reads an unsigned integer metadata value (any integer type).
func (i *Info) Uint(key string) (uint64, bool) {
	switch v := i.Metadata[key].(type) {
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	case int8:
		return uint64(v), v >= 0
	case int16:
		return uint64(v), v >= 0
	case int32:
		return uint64(v), v >= 0
	case int64:
		return uint64(v), v >= 0
	}
	return 0, false
}

// ArchUint reads "<arch>.<key>", e.g. ArchUint("block_count").
func (i *Info) ArchUint(key string) (uint64, bool) { return i.Uint(i.Arch() + "." + key) }

// Limits on untrusted input.
const (
	maxTensors   = 1 << 20
	maxKV        = 1 << 20
	maxStringLen = 1 << 24
	maxDims      = 4
)

type reader struct {
	r    *bufio.Reader
	pos  int64
	size int64
	name string
}

func (r *reader) fail(format string, a ...any) error {
	return fmt.Errorf("%s: %w: %s at byte %d (the file is damaged or truncated: download it again, or regenerate it with haloforge model tiny)", r.name, ErrCorrupt, fmt.Sprintf(format, a...), r.pos)
}

func (r *reader) read(p []byte) error {
	n, err := io.ReadFull(r.r, p)
	r.pos += int64(n)
	if err != nil {
		return r.fail("unexpected end of file (%d bytes)", r.size)
	}
	return nil
}

func (r *reader) u32() (uint32, error) {
	var b [4]byte
	err := r.read(b[:])
	return binary.LittleEndian.Uint32(b[:]), err
}

func (r *reader) u64() (uint64, error) {
	var b [8]byte
	err := r.read(b[:])
	return binary.LittleEndian.Uint64(b[:]), err
}

func (r *reader) str(what string) (string, error) {
	n, err := r.u64()
	if err != nil {
		return "", err
	}
	if n > maxStringLen {
		return "", r.fail("%s length %d is impossible", what, n)
	}
	if int64(n) > r.size-r.pos {
		return "", r.fail("%s of %d bytes runs past the end of the file (%d bytes)", what, n, r.size)
	}
	b := make([]byte, n)
	if err := r.read(b); err != nil {
		return "", err
	}
	return string(b), nil
}

func (r *reader) scalar(t ValueType) (any, error) {
	var b [8]byte
	sz := t.scalarSize()
	if err := r.read(b[:sz]); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return b[0], nil
	case TypeInt8:
		return int8(b[0]), nil
	case TypeBool:
		if b[0] > 1 {
			return nil, r.fail("bool value %d", b[0])
		}
		return b[0] == 1, nil
	case TypeUint16:
		return le.Uint16(b[:]), nil
	case TypeInt16:
		return int16(le.Uint16(b[:])), nil
	case TypeUint32:
		return le.Uint32(b[:]), nil
	case TypeInt32:
		return int32(le.Uint32(b[:])), nil
	case TypeFloat32:
		return math.Float32frombits(le.Uint32(b[:])), nil
	case TypeUint64:
		return le.Uint64(b[:]), nil
	case TypeInt64:
		return int64(le.Uint64(b[:])), nil
	case TypeFloat64:
		return math.Float64frombits(le.Uint64(b[:])), nil
	}
	return nil, r.fail("unknown value type %d", t)
}

func (r *reader) value(key string) (any, error) {
	t, err := r.u32()
	if err != nil {
		return nil, err
	}
	vt := ValueType(t)
	switch {
	case vt == TypeString:
		return r.str("string value of " + key)
	case vt == TypeArray:
		et, err := r.u32()
		if err != nil {
			return nil, err
		}
		n, err := r.u64()
		if err != nil {
			return nil, err
		}
		elem := ValueType(et)
		if elem == TypeArray {
			return nil, r.fail("nested array in %q", key)
		}
		minSize := int64(elem.scalarSize())
		if elem == TypeString {
			minSize = 8
		}
		if minSize == 0 {
			return nil, r.fail("array %q has unknown element type %d", key, et)
		}
		if n > uint64(r.size-r.pos)/uint64(minSize) {
			return nil, r.fail("array %q claims %d elements, more than the file holds", key, n)
		}
		for i := uint64(0); i < n; i++ {
			if elem == TypeString {
				if _, err := r.str("string in " + key); err != nil {
					return nil, err
				}
			} else if _, err := r.scalar(elem); err != nil {
				return nil, err
			}
		}
		return ArrayInfo{Type: elem, Len: n}, nil
	case vt.scalarSize() > 0:
		return r.scalar(vt)
	}
	return nil, r.fail("metadata %q has unknown value type %d", key, t)
}

// InspectFile validates the GGUF file at path and returns what it holds.
func InspectFile(path string) (*Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open model: %w", err)
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat model: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return Inspect(f, st.Size(), path)
}

// Inspect validates a GGUF file of the given size read through ra; name is
// used in errors. The tensor data is not read, only its extent checked.
func Inspect(ra io.ReaderAt, size int64, name string) (*Info, error) {
	r := &reader{r: bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 1<<16), size: size, name: name}
	var magic [4]byte
	if err := r.read(magic[:]); err != nil {
		return nil, fmt.Errorf("%s: %w: file too short for a GGUF header (%d bytes)", name, ErrCorrupt, size)
	}
	if string(magic[:]) != Magic {
		return nil, fmt.Errorf("%s: %w: magic %q, want %q (is this a GGUF model? older GGML/GGJT files must be converted)", name, ErrCorrupt, magic[:], Magic)
	}
	info := &Info{Path: name, FileSize: size, Metadata: map[string]any{}, Alignment: DefaultAlignment}
	var err error
	if info.Version, err = r.u32(); err != nil {
		return nil, err
	}
	if info.Version != 2 && info.Version != 3 {
		return nil, fmt.Errorf("%s: %w: GGUF version %d unsupported (want 2 or 3)", name, ErrCorrupt, info.Version)
	}
	nt, err := r.u64()
	if err != nil {
		return nil, err
	}
	nkv, err := r.u64()
	if err != nil {
		return nil, err
	}
	if nt > maxTensors || nkv > maxKV {
		return nil, r.fail("implausible counts: %d tensors, %d metadata keys", nt, nkv)
	}
	for i := uint64(0); i < nkv; i++ {
		key, err := r.str("metadata key")
		if err != nil {
			return nil, err
		}
		if _, dup := info.Metadata[key]; dup {
			return nil, r.fail("duplicate metadata key %q", key)
		}
		v, err := r.value(key)
		if err != nil {
			return nil, err
		}
		info.Metadata[key] = v
		info.Keys = append(info.Keys, key)
	}
	if a, ok := info.Metadata["general.alignment"]; ok {
		av, ok := a.(uint32)
		if !ok || av == 0 || av&(av-1) != 0 {
			return nil, r.fail("general.alignment %v is not a power of two", a)
		}
		info.Alignment = uint64(av)
	}
	seen := map[string]bool{}
	for i := uint64(0); i < nt; i++ {
		tn, err := r.str("tensor name")
		if err != nil {
			return nil, err
		}
		if tn == "" || seen[tn] {
			return nil, r.fail("empty or duplicate tensor name %q", tn)
		}
		seen[tn] = true
		nd, err := r.u32()
		if err != nil {
			return nil, err
		}
		if nd < 1 || nd > maxDims {
			return nil, r.fail("tensor %q has %d dimensions (1..%d)", tn, nd, maxDims)
		}
		dims := make([]uint64, nd)
		elems := uint64(1)
		for j := range dims {
			if dims[j], err = r.u64(); err != nil {
				return nil, err
			}
			if dims[j] == 0 || dims[j] > 1<<40 || elems > (1<<62)/dims[j] {
				return nil, r.fail("tensor %q dimension %d is %d", tn, j, dims[j])
			}
			elems *= dims[j]
		}
		tt, err := r.u32()
		if err != nil {
			return nil, err
		}
		off, err := r.u64()
		if err != nil {
			return nil, err
		}
		sz, err := rowBytes(TensorType(tt), dims)
		if err != nil {
			return nil, r.fail("tensor %q: %v", tn, err)
		}
		if off%info.Alignment != 0 {
			return nil, r.fail("tensor %q offset %d is not aligned to %d", tn, off, info.Alignment)
		}
		info.Tensors = append(info.Tensors, TensorInfo{Name: tn, Type: TensorType(tt), Dims: dims, Offset: off, Size: sz})
		info.NParams += elems
	}
	info.DataOffset = align(uint64(r.pos), info.Alignment)
	sorted := append([]TensorInfo(nil), info.Tensors...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].Offset < sorted[b].Offset })
	var end uint64
	for i, t := range sorted {
		if i > 0 && t.Offset < sorted[i-1].Offset+sorted[i-1].Size {
			return nil, fmt.Errorf("%s: %w: tensors %q and %q overlap", name, ErrCorrupt, sorted[i-1].Name, t.Name)
		}
		if e := t.Offset + t.Size; e > end {
			end = e
		}
	}
	info.DataSize = end
	if need := info.DataOffset + end; len(sorted) > 0 && need > uint64(size) {
		last := sorted[len(sorted)-1]
		return nil, fmt.Errorf("%s: %w: tensor data needs %d bytes but the file has %d (tensor %q ends past the end): the file is truncated; download it again or regenerate it", name, ErrCorrupt, need, size, last.Name)
	}
	if info.Arch() == "" {
		return nil, fmt.Errorf("%s: %w: no general.architecture metadata", name, ErrCorrupt)
	}
	return info, nil
}

// Summary is a one-line description: "llama, 5.51 M params, F16, 4 layers, ...".
func (i *Info) Summary() string {
	ft, _ := i.Uint("general.file_type")
	layers, _ := i.ArchUint("block_count")
	embd, _ := i.ArchUint("embedding_length")
	vocab := uint64(0)
	if a, ok := i.Metadata["tokenizer.ggml.tokens"].(ArrayInfo); ok {
		vocab = a.Len
	}
	return fmt.Sprintf("GGUF v%d %s, %d tensors, %.2f M params, file_type %d, %d layers, n_embd %d, vocab %d, %d bytes",
		i.Version, i.Arch(), len(i.Tensors), float64(i.NParams)/1e6, ft, layers, embd, vocab, i.FileSize)
}
