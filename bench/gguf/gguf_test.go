package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/bench/models"
)

// TestQuantReference checks the Go encoders byte for byte against gguf-py's
// (see testdata/README.md).
func TestQuantReference(t *testing.T) {
	b, err := os.ReadFile("testdata/quant-vectors.bin")
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.LittleEndian.Uint32(b))
	b = b[4:]
	x := make([]float32, n)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	b = b[4*n:]
	sizes := []struct {
		t    TensorType
		size int
	}{{F16, 2 * n}, {Q8_0, n / 32 * 34}, {Q4_0, n / 32 * 18}}
	for _, s := range sizes {
		want := b[:s.size]
		b = b[s.size:]
		got := encode(s.t, x)
		if !bytes.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s: first difference at byte %d: got %#x want %#x", s.t, i, got[i], want[i])
					break
				}
			}
			continue
		}
		// And the decoded values are close to the inputs.
		dq := dequantize(s.t, got, n)
		tol := map[TensorType]float64{F16: 1e-3, Q8_0: 1.0 / 127, Q4_0: 1.0 / 7}[s.t]
		for blk := 0; blk < n/32; blk++ {
			var amax float64
			for j := 0; j < 32; j++ {
				amax = math.Max(amax, math.Abs(float64(x[blk*32+j])))
			}
			for j := 0; j < 32; j++ {
				i := blk*32 + j
				if d := math.Abs(float64(dq[i] - x[i])); d > tol*amax+1e-5 { // fp16 d underflows to 0 for tiny blocks, as in ggml
					t.Fatalf("%s: value %d decodes to %v, input %v", s.t, i, dq[i], x[i])
				}
			}
		}
	}
	if len(b) != 0 {
		t.Errorf("%d trailing bytes in reference file", len(b))
	}
}

func TestFP16(t *testing.T) {
	tests := []struct {
		name string
		in   float32
		want uint16
	}{
		{"one", 1, 0x3c00}, {"minus two", -2, 0xc000}, {"max half", 65504, 0x7bff},
		{"overflow", 70000, 0x7c00}, {"smallest subnormal", 5.960464477539063e-08, 0x0001},
		{"tie to even", 1 + 1.0/2048, 0x3c00}, {"tie up to even", 1 + 3.0/2048, 0x3c02},
		{"underflow", 1e-9, 0}, {"inf", float32(math.Inf(1)), 0x7c00},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fp16(tc.in); got != tc.want {
				t.Errorf("fp16(%v) = %#04x, want %#04x", tc.in, got, tc.want)
			}
		})
	}
}

func writeTemp(t *testing.T, o TinyOptions) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := WriteTiny(&buf, o); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, buf.Bytes()
}

func TestTiny(t *testing.T) {
	for _, typ := range []TensorType{F16, Q8_0, Q4_0} {
		t.Run(typ.String(), func(t *testing.T) {
			p, data := writeTemp(t, TinyOptions{Type: typ, Seed: 1})
			info, err := InspectFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if info.Arch() != "llama" || len(info.Tensors) != 39 || info.NParams != 5507328 || info.Version != 3 {
				t.Errorf("got %s", info.Summary())
			}
			if a := info.Metadata["tokenizer.ggml.tokens"].(ArrayInfo); a.Len != 4096 || a.Type != TypeString {
				t.Errorf("tokens %+v", a)
			}
			if ft, _ := info.Uint("general.file_type"); ft != uint64(FileType(typ)) {
				t.Errorf("file_type %d", ft)
			}
			for _, ti := range info.Tensors {
				want := typ
				if strings.Contains(ti.Name, "norm") {
					want = F32
				}
				if ti.Type != want {
					t.Errorf("%s is %s, want %s", ti.Name, ti.Type, want)
				}
			}
			// Weights decode to N(0, 0.02): check the spread of one tensor.
			ti := info.Tensors[0]
			start := info.DataOffset + ti.Offset
			vals := dequantize(ti.Type, data[start:start+ti.Size], int(ti.Dims[0]*ti.Dims[1]))
			var ss float64
			for _, v := range vals {
				ss += float64(v) * float64(v)
			}
			if sd := math.Sqrt(ss / float64(len(vals))); sd < 0.018 || sd > 0.022 {
				t.Errorf("token_embd sd %.4f, want about 0.02", sd)
			}
			// Same seed, same bytes; another seed, other bytes.
			_, again := writeTemp(t, TinyOptions{Type: typ, Seed: 1})
			_, other := writeTemp(t, TinyOptions{Type: typ, Seed: 2})
			if !bytes.Equal(data, again) || bytes.Equal(data, other) {
				t.Error("output is not a deterministic function of the seed")
			}
		})
	}
}

func TestTinyOptions(t *testing.T) {
	tests := []struct {
		name string
		o    TinyOptions
		msg  string
	}{
		{"q4 needs multiple of 32", TinyOptions{Type: Q4_0, NEmbd: 100, NHead: 4}, "multiple of 32"},
		{"heads divide embd", TinyOptions{NEmbd: 256, NHead: 3}, "divisible"},
		{"vocab too small", TinyOptions{NVocab: 100}, "too small"},
		{"bad type", TinyOptions{Type: 12}, "not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Validate() = %v, want %q", err, tc.msg)
			}
		})
	}
}

// small is a minimal valid model for corruption tests and fuzz seeds.
var small = TinyOptions{Type: Q4_0, NEmbd: 32, NLayer: 1, NHead: 1, NFF: 32, NVocab: 260, Ctx: 64}

func TestInspectCorrupt(t *testing.T) {
	var buf bytes.Buffer
	if _, err := WriteTiny(&buf, small); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	info, err := Inspect(bytes.NewReader(good), int64(len(good)), "good")
	if err != nil {
		t.Fatal(err)
	}
	patch := func(off int, b ...byte) []byte {
		c := append([]byte(nil), good...)
		copy(c[off:], b)
		return c
	}
	// offset of the first tensor's "offset" field: find the name then skip dims and type.
	firstTensor := bytes.Index(good, []byte("token_embd.weight"))
	offField := firstTensor + len("token_embd.weight") + 4 + 2*8 + 4
	secondTensor := bytes.Index(good, []byte("blk.0.attn_norm.weight"))
	secondOff := secondTensor + len("blk.0.attn_norm.weight") + 4 + 8 + 4
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty", nil, "too short"},
		{"bad magic", patch(0, 'G', 'G', 'M', 'L'), "magic"},
		{"version 1", patch(4, 1), "version 1 unsupported"},
		{"cut in metadata", good[:200], "past the end of the file"},
		{"cut in tensor table", good[:firstTensor+5], "past the end of the file"},
		{"cut in header", good[:10], "unexpected end of file"},
		{"cut in data", good[:len(good)-100], "truncated"},
		{"huge string", patch(24, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0), "impossible"},
		{"misaligned offset", patch(offField+8+secondOff-offField-8, 1), "not aligned"},
		{"overlap", patch(secondOff, 0, 0, 0, 0, 0, 0, 0, 0), "overlap"},
		{"bad tensor type", patch(offField-4, 99), "unknown ggml type"},
	}
	if info.DataOffset%32 != 0 {
		t.Fatalf("data offset %d not aligned", info.DataOffset)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inspect(bytes.NewReader(tc.data), int64(len(tc.data)), "models/x.gguf")
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			if !errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), "models/x.gguf: ") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q: want ErrCorrupt naming the file and %q", err, tc.msg)
			}
		})
	}
}

func FuzzInspect(f *testing.F) {
	var buf bytes.Buffer
	if _, err := WriteTiny(&buf, small); err != nil {
		f.Fatal(err)
	}
	b := buf.Bytes()
	f.Add(b[:4096]) // header, metadata and part of the tensor table
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Inspect(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		if info.DataOffset+info.DataSize > uint64(len(data)) {
			t.Fatalf("accepted a file too short for its tensors: %s", info.Summary())
		}
	})
}

var _ models.TinyWriter = TinyMaker{}

func TestTinyMaker(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.gguf")
	if err := (TinyMaker{}).WriteTiny(p, "q4_0"); err != nil {
		t.Fatal(err)
	}
	info, err := InspectFile(p)
	if err != nil || info.Tensors[0].Type != Q4_0 {
		t.Fatalf("%v %+v", err, info)
	}
	if err := (TinyMaker{}).WriteTiny(p, "q5_k"); err == nil {
		t.Fatal("unknown type accepted")
	}
}
