package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/gguf"
	"github.com/haloforge/haloforge/bench/models"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/spf13/cobra"
)

func init() { addCommand(newModelCmd()) }

func newModelCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "model",
		Short: "Make tiny test models and check GGUF model files",
		Long: `model works with GGUF model files.

  haloforge model tiny     writes a small random-weight llama GGUF (F16, Q8_0 or Q4_0)
                           natively in Go, for the smoke suite and tests
  haloforge model inspect  validates a GGUF file (magic, version, tensor table,
                           alignment, data size) and prints its metadata
  haloforge model fetch    downloads and verifies a suite's models into the cache`,
	}
	c.AddCommand(newModelTinyCmd(), newModelInspectCmd(), newModelFetchCmd())
	return c
}

func newModelTinyCmd() *cobra.Command {
	var (
		o       gguf.TinyOptions
		typ     string
		out     string
		seed    uint64
		jsonOut bool
	)
	c := &cobra.Command{
		Use:   "tiny",
		Short: "Write a tiny random-weight llama GGUF model",
		Long: `tiny writes a small llama-architecture GGUF v3 model with random weights
(normal, sd 0.02) and a synthetic SentencePiece vocab, deterministic from
--seed. 2-D weights use --type (f16, q8_0 or q4_0, quantized exactly as
ggml's reference quantizers); norms stay f32. The defaults give a 5.5 M
parameter model that llama-bench runs in seconds on a CPU.

The file is written atomically and validated before the command returns.

Examples:
  haloforge model tiny -o tiny-f16.gguf
  haloforge model tiny --type q4_0 -o tiny-q4_0.gguf --seed 7
  haloforge model tiny --type q8_0 --n-embd 512 --n-layer 8 -o bigger.gguf
  llama-bench -m tiny-q4_0.gguf -p 64 -n 16 -r 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := gguf.ParseTensorType(typ)
			if err != nil {
				return err
			}
			o.Type, o.Seed = t, seed
			if err := o.Validate(); err != nil {
				return err
			}
			if out == "" {
				out = fmt.Sprintf("tiny-%s.gguf", typ)
			}
			if err := gguf.WriteTinyFile(out, o); err != nil {
				return err
			}
			info, err := gguf.InspectFile(out)
			if err != nil {
				return fmt.Errorf("the model just written does not validate (a bug): %w", err)
			}
			if jsonOut {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(info)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s\n", out, info.Summary())
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&typ, "type", "f16", "weight type: f16, q8_0, q4_0 (or f32)")
	f.StringVarP(&out, "output", "o", "", "output file (default tiny-<type>.gguf)")
	f.Uint64Var(&seed, "seed", 0, "random seed; the same options and seed give the same bytes")
	f.IntVar(&o.NEmbd, "n-embd", 256, "embedding length")
	f.IntVar(&o.NLayer, "n-layer", 4, "number of layers")
	f.IntVar(&o.NHead, "n-head", 4, "attention heads")
	f.IntVar(&o.NHeadKV, "n-head-kv", 0, "key/value heads (default: --n-head)")
	f.IntVar(&o.NFF, "n-ff", 768, "feed-forward length")
	f.IntVar(&o.NVocab, "n-vocab", 4096, "vocabulary size (>= 260)")
	f.IntVar(&o.Ctx, "ctx", 4096, "context length")
	f.BoolVar(&jsonOut, "json", false, "print the validated file's details as JSON")
	return c
}

func newModelInspectCmd() *cobra.Command {
	var jsonOut bool
	c := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Validate a GGUF model file and print its metadata",
		Long: `inspect checks a GGUF file's structure (magic, version, metadata, tensor
table, alignment, and that the file holds all tensor data) without loading
the weights, and prints the architecture, size and layout. A damaged or
truncated file is an error (exit status 1) naming what is wrong.

Examples:
  haloforge model inspect ~/.local/share/haloforge/models/<sha256>
  haloforge model inspect --json tiny-q4_0.gguf`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := gguf.InspectFile(args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if jsonOut {
				e := json.NewEncoder(w)
				e.SetIndent("", "  ")
				return e.Encode(info)
			}
			var sb strings.Builder
			fmt.Fprintf(&sb, "%s: %s\n", args[0], info.Summary())
			for _, k := range info.Keys {
				v := info.Metadata[k]
				if a, ok := v.(gguf.ArrayInfo); ok {
					fmt.Fprintf(&sb, "  %-40s [%d x type %d]\n", k, a.Len, a.Type)
					continue
				}
				fmt.Fprintf(&sb, "  %-40s %v\n", k, v)
			}
			for _, t := range info.Tensors {
				fmt.Fprintf(&sb, "  tensor %-28s %-5s %v %d bytes\n", t.Name, t.Type, t.Dims, t.Size)
			}
			_, err = io.WriteString(w, sb.String())
			return err
		},
	}
	c.Flags().BoolVar(&jsonOut, "json", false, "print as JSON")
	return c
}

func newModelFetchCmd() *cobra.Command {
	var suiteName string
	c := &cobra.Command{
		Use:   "fetch [MODEL...]",
		Short: "Download and verify a suite's models into the model cache",
		Long: `fetch makes a suite's models (all, or the named ones) available in the model
cache exactly as haloforge bench does before its first case: downloads go
to a part file under a per-file lock (a second process waits for the
first), resume only when the server proves the file unchanged (If-Range
and a matching Content-Range), give up when no data arrives for
$HALOFORGE_DOWNLOAD_STALL (default 2m), and are verified against the
suite's sha256 or, when it says unknown, the digest the hub publishes
(X-Linked-Etag). $HF_TOKEN is sent to the hub when set (gated models) and
never written anywhere. $HF_ENDPOINT replaces https://huggingface.co.

Examples:
  haloforge model fetch                      # every model of the seed suite
  haloforge model fetch --suite my.yaml mine
  HF_TOKEN=hf_... haloforge model fetch llama4-scout`,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := suite.Load(suiteName)
			if err != nil {
				return err
			}
			cache := &models.Cache{Dir: bench.ModelDir(bench.Home()), Tiny: tinyWriter(),
				Log: func(format string, a ...any) { _, _ = fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", a...) }}
			infos, err := cache.Fetch(cmd.Context(), s, args)
			for _, mi := range infos {
				_, _ = fmt.Fprintf(cmd.OutOrStdout(), "%s %s %d bytes %s\n", mi.Name, mi.Source, mi.Bytes, strings.Join(mi.SHA256, ","))
			}
			return err
		},
	}
	c.Flags().StringVar(&suiteName, "suite", "seed", "built-in suite name or a suite file path")
	return c
}
