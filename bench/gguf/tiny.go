package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/haloforge/haloforge/internal/atomicfile"
)

// TinyOptions shape a tiny random-weight llama model. The zero value of a
// field takes the default shown (the shape of the fixtures' models:
// 5.5 M parameters).
type TinyOptions struct {
	Type    TensorType // F16 (default), Q8_0, Q4_0 or F32: the type of the 2-D weights
	Seed    uint64     // weights are a pure function of the options
	NEmbd   int        // 256
	NLayer  int        // 4
	NHead   int        // 4
	NHeadKV int        // = NHead
	NFF     int        // 768
	NVocab  int        // 4096
	Ctx     int        // 4096
}

func (o *TinyOptions) defaults() {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&o.NEmbd, 256)
	def(&o.NLayer, 4)
	def(&o.NHead, 4)
	def(&o.NHeadKV, o.NHead)
	def(&o.NFF, 768)
	def(&o.NVocab, 4096)
	def(&o.Ctx, 4096)
}

// Validate checks that the options describe a model llama.cpp can load.
func (o TinyOptions) Validate() error {
	o.defaults()
	switch o.Type {
	case F16, F32, Q8_0, Q4_0:
	default:
		return fmt.Errorf("tiny model type %s not supported: use f16, q8_0, q4_0 or f32", o.Type)
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"n-embd", o.NEmbd}, {"n-layer", o.NLayer}, {"n-head", o.NHead}, {"n-head-kv", o.NHeadKV}, {"n-ff", o.NFF}, {"n-vocab", o.NVocab}, {"ctx", o.Ctx}} {
		if c.v < 1 || c.v > 1<<20 {
			return fmt.Errorf("--%s %d out of range (1..%d)", c.name, c.v, 1<<20)
		}
	}
	if o.NEmbd%o.NHead != 0 {
		return fmt.Errorf("--n-embd %d is not divisible by --n-head %d", o.NEmbd, o.NHead)
	}
	if o.NHead%o.NHeadKV != 0 {
		return fmt.Errorf("--n-head %d is not divisible by --n-head-kv %d", o.NHead, o.NHeadKV)
	}
	if o.NVocab < 259+1 {
		return fmt.Errorf("--n-vocab %d too small: the vocab has 3 control and 256 byte tokens plus pieces (min 260)", o.NVocab)
	}
	if o.Type == Q8_0 || o.Type == Q4_0 {
		for _, c := range []struct {
			name string
			v    int
		}{{"n-embd", o.NEmbd}, {"n-ff", o.NFF}} {
			if c.v%32 != 0 {
				return fmt.Errorf("--%s %d must be a multiple of 32 for %s (its block size)", c.name, c.v, o.Type)
			}
		}
	}
	return nil
}

// vocab builds the synthetic SentencePiece vocab of make_tiny_gguf.py:
// <unk> <s> </s>, 256 byte tokens <0xXX>, then "▁"-prefixed pieces.
func vocab(n int) ([]string, []float32, []int32) {
	const (
		normal  = 1
		unknown = 2
		control = 3
		byteTok = 6
	)
	tokens := []string{"<unk>", "<s>", "</s>"}
	scores := []float32{0, 0, 0}
	types := []int32{unknown, control, control}
	for b := 0; b < 256; b++ {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		scores = append(scores, 0)
		types = append(types, byteTok)
	}
	const alpha = "abcdefghijklmnopqrstuvwxyz"
	single := []string{"\u2581"}
	for _, c := range alpha {
		single = append(single, string(c))
	}
	for _, c := range alpha {
		single = append(single, "\u2581"+string(c))
	}
	seen := map[string]bool{}
	for _, t := range tokens {
		seen[t] = true
	}
	for i := 0; len(tokens) < n; i++ {
		var p string
		if i < len(single) {
			p = single[i]
		} else {
			j := i - len(single)
			p = "\u2581" + string(alpha[j%26]) + string(alpha[(j/26)%26])
			if j >= 676 {
				p += string(alpha[(j/676)%26])
			}
			if j >= 17576 {
				p += strconv.Itoa(j / 17576)
			}
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		tokens = append(tokens, p)
		scores = append(scores, -float32(len(tokens)))
		types = append(types, normal)
	}
	return tokens, scores, types
}

// Tiny builds a tiny random-weight llama model with the metadata keys,
// vocab and tensor names of /work/shared/fixtures/make_tiny_gguf.py (which
// llama.cpp loads): weights N(0, 0.02) from a PCG seeded with Seed, norms 1.0
// in F32, 2-D weights in o.Type.
func Tiny(o TinyOptions) (*File, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.defaults()
	rng := rand.New(rand.NewPCG(o.Seed, 0x68616c6f666f7267)) // "haloforg"
	headDim := o.NEmbd / o.NHead
	nEmbdKV := headDim * o.NHeadKV
	tokens, scores, types := vocab(o.NVocab)
	f := &File{KV: []KV{
		{"general.architecture", "llama"},
		{"general.name", "tiny-llama"},
		{"llama.context_length", uint32(o.Ctx)},
		{"llama.embedding_length", uint32(o.NEmbd)},
		{"llama.block_count", uint32(o.NLayer)},
		{"llama.feed_forward_length", uint32(o.NFF)},
		{"llama.attention.head_count", uint32(o.NHead)},
		{"llama.attention.head_count_kv", uint32(o.NHeadKV)},
		{"llama.rope.dimension_count", uint32(headDim)},
		{"llama.rope.freq_base", float32(10000)},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
		{"llama.vocab_size", uint32(o.NVocab)},
		{"general.file_type", FileType(o.Type)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.scores", scores},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.bos_token_id", uint32(1)},
		{"tokenizer.ggml.eos_token_id", uint32(2)},
		{"tokenizer.ggml.unknown_token_id", uint32(0)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
	}}
	mat := func(name string, rows, cols int) {
		x := make([]float32, rows*cols)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.02)
		}
		f.Tensors = append(f.Tensors, Tensor{Name: name, Type: o.Type, Dims: []uint64{uint64(cols), uint64(rows)}, Data: encode(o.Type, x)})
	}
	norm := func(name string, n int) {
		x := make([]float32, n)
		for i := range x {
			x[i] = 1
		}
		f.Tensors = append(f.Tensors, Tensor{Name: name, Type: F32, Dims: []uint64{uint64(n)}, Data: encode(F32, x)})
	}
	mat("token_embd.weight", o.NVocab, o.NEmbd)
	for l := 0; l < o.NLayer; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		norm(p+"attn_norm.weight", o.NEmbd)
		mat(p+"attn_q.weight", o.NEmbd, o.NEmbd)
		mat(p+"attn_k.weight", nEmbdKV, o.NEmbd)
		mat(p+"attn_v.weight", nEmbdKV, o.NEmbd)
		mat(p+"attn_output.weight", o.NEmbd, o.NEmbd)
		norm(p+"ffn_norm.weight", o.NEmbd)
		mat(p+"ffn_gate.weight", o.NFF, o.NEmbd)
		mat(p+"ffn_up.weight", o.NFF, o.NEmbd)
		mat(p+"ffn_down.weight", o.NEmbd, o.NFF)
	}
	norm("output_norm.weight", o.NEmbd)
	mat("output.weight", o.NVocab, o.NEmbd)
	return f, nil
}

// encode converts float32 values to a tensor type's bytes.
func encode(t TensorType, x []float32) []byte {
	switch t {
	case F16:
		out := make([]byte, 0, 2*len(x))
		for _, v := range x {
			out = binary.LittleEndian.AppendUint16(out, fp16(v))
		}
		return out
	case Q8_0:
		return quantizeQ8_0(make([]byte, 0, len(x)/32*34), x)
	case Q4_0:
		return quantizeQ4_0(make([]byte, 0, len(x)/32*18), x)
	default:
		out := make([]byte, 0, 4*len(x))
		for _, v := range x {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
		return out
	}
}

// WriteTiny builds a tiny model and writes it to w.
func WriteTiny(w io.Writer, o TinyOptions) (int64, error) {
	f, err := Tiny(o)
	if err != nil {
		return 0, err
	}
	return f.WriteTo(w)
}

// WriteTinyFile builds a tiny model and writes it to path atomically (see
// internal/atomicfile): a crash never leaves half a model.
func WriteTinyFile(path string, o TinyOptions) error {
	return atomicfile.WriteFrom(path, 0o644, func(w io.Writer) error {
		_, err := WriteTiny(w, o)
		return err
	})
}

// TinyMaker writes tiny models to files by type name; it is the
// models.TinyWriter the model cache uses for suites' tiny models.
type TinyMaker struct {
	Seed uint64 // the same seed gives byte-identical files
}

// WriteTiny writes a tiny model of type typ ("f16", "q8_0", "q4_0") to
// path with WriteTinyFile, then validates it.
func (m TinyMaker) WriteTiny(path, typ string) error {
	t, err := ParseTensorType(typ)
	if err != nil {
		return err
	}
	if err := WriteTinyFile(path, TinyOptions{Type: t, Seed: m.Seed}); err != nil {
		return err
	}
	_, err = InspectFile(path)
	return err
}
