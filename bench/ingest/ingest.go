// Package ingest turns tool outputs from manual runs (llama-bench in any
// -o format, mamf-finder, rocm_bandwidth_test 2.6 or RBT-NG) into a
// bench.Run the results store can hold, detecting which tool wrote each
// file. It never makes numbers up: a file that is not a complete output of
// a known tool is an error naming it.
package ingest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/bench/mamf"
	"github.com/haloforge/haloforge/bench/rbt"
)

// MaxFile bounds one imported file.
const MaxFile = 64 << 20

// Options label what a file does not say itself.
type Options struct {
	Backend string     // cpu, hip, hip-rocwmma, vulkan; default from llama-bench's backends field
	Model   string     // model name; default the model file's base name
	Tool    bench.Tool // force a tool instead of detecting it
}

var rbtRE = regexp.MustCompile(`(?m)RocmBandwidthTest Version|^\s*(Executor|Transfer|Aggregate)\b.*\|\s*[0-9.]+\s*GB/s`)

// Detect tells which tool wrote an output.
func Detect(data []byte) (bench.Tool, error) {
	switch {
	case bytes.Contains(data, []byte("** Dtype:")) || bytes.Contains(data, []byte("shapes => the best outcomes were")):
		return bench.ToolMamf, nil
	case rbtRE.Match(data):
		return bench.ToolRBT, nil
	}
	if _, _, _, err := llamabench.Extract(data); err == nil {
		return bench.ToolLlamaBench, nil
	}
	return "", errors.New("not an output of llama-bench (-o json|jsonl|csv|md|sql), mamf-finder or rocm_bandwidth_test")
}

// backendID maps llama-bench's backends field onto haloforge's backend ids.
func backendID(backends string) string {
	b := strings.ToLower(backends)
	switch {
	case strings.Contains(b, "rocm") || strings.Contains(b, "hip"):
		return "hip"
	case strings.Contains(b, "vulkan"):
		return "vulkan"
	case b == "cpu" || b == "":
		return "cpu"
	}
	return b
}

// Case parses one file into a case numbered n.
func Case(n int, name string, data []byte, o Options) (bench.CaseResult, error) {
	tool := o.Tool
	if tool == "" {
		t, err := Detect(data)
		if err != nil {
			return bench.CaseResult{}, fmt.Errorf("%s: %w", name, err)
		}
		tool = t
	}
	base := filepath.Base(name)
	c := bench.CaseResult{
		ID: fmt.Sprintf("import/%d-%s", n, base), Tool: tool, Backend: o.Backend, Model: o.Model,
		Status: bench.StatusOK,
	}
	switch tool {
	case bench.ToolLlamaBench:
		recs, err := llamabench.ParseBytes(data, llamabench.FormatAuto, name)
		if errors.Is(err, llamabench.ErrNoOutput) {
			recs, err = llamabench.ParseLog(data, name) // stderr of -oe, with log lines first
		}
		if err != nil {
			return c, err
		}
		c.Llama = recs
		if c.Backend == "" {
			c.Backend = backendID(recs[0].Backends)
		}
		if c.Model == "" {
			c.Model = ModelName(recs)
		}
		for _, r := range recs {
			if t, err := time.Parse(time.RFC3339, r.TestTime); err == nil {
				if c.Started.IsZero() || t.Before(c.Started) {
					c.Started = t
				}
				if t.After(c.Finished) {
					c.Finished = t
				}
			}
		}
	case bench.ToolMamf:
		m, err := mamf.ParseBytes(data, name)
		if err != nil {
			return c, err
		}
		c.Mamf = m
	case bench.ToolRBT:
		r, err := rbt.ParseBytes(data, name)
		if err != nil {
			return c, err
		}
		c.Bandwidth = r
	default:
		return c, fmt.Errorf("%s: unknown tool %q: use llama-bench, mamf-finder or rocm_bandwidth_test", name, tool)
	}
	return c, nil
}

// ModelName names the model of an output's records the same way whatever
// the -o format: llama-bench's model_type ("llama 7B Q4_0"), which every
// format prints (markdown has no model_filename). An output holding
// several models (-m a.gguf -m b.gguf) gets no single name: each record
// keeps its own, and reports and compare read it from there.
func ModelName(recs []llamabench.Record) string {
	name := ""
	for _, r := range recs {
		n := r.ModelType
		if n == "" {
			n = strings.TrimSuffix(filepath.Base(r.ModelFile), ".gguf")
		}
		if name != "" && n != name {
			return ""
		}
		name = n
	}
	return name
}

// Files reads and parses every file; any failure fails the whole import.
func Files(paths []string, o Options) ([]bench.CaseResult, error) {
	var cases []bench.CaseResult
	for i, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", p, err)
		}
		if st.Size() > MaxFile {
			return nil, fmt.Errorf("import %s: %d bytes is larger than any tool output (%d); wrong file?", p, st.Size(), MaxFile)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", p, err)
		}
		c, err := Case(i+1, p, data, o)
		if err != nil {
			return nil, fmt.Errorf("import: %w (nothing was stored)", err)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// Run wraps imported cases in a run header: host facts llama-bench printed
// (cpu_info, gpu_info), start and end from test times, suite "import".
func Run(id, target string, cases []bench.CaseResult, now time.Time) bench.Run {
	r := bench.Run{ID: id, Suite: "import", Target: target, Cases: cases,
		Host: bench.HostFacts{Extra: map[string]string{"source": "haloforge import"}}}
	for _, c := range cases {
		if !c.Started.IsZero() && (r.Started.IsZero() || c.Started.Before(r.Started)) {
			r.Started = c.Started
		}
		if c.Finished.After(r.Finished) {
			r.Finished = c.Finished
		}
		for _, rec := range c.Llama {
			if r.Host.CPU == "" && rec.CPUInfo != "" {
				r.Host.CPU = rec.CPUInfo
			}
			if rec.GPUInfo != "" && !contains(r.Host.GPUs, rec.GPUInfo) {
				r.Host.GPUs = append(r.Host.GPUs, rec.GPUInfo)
			}
		}
		if c.Mamf != nil && c.Mamf.Device != "" && !contains(r.Host.GPUs, c.Mamf.Device) {
			r.Host.GPUs = append(r.Host.GPUs, c.Mamf.Device)
		}
	}
	if r.Started.IsZero() {
		r.Started = now
	}
	if r.ID == "" {
		r.ID = NewID(now)
	}
	return r
}

// NewID names an import: its UTC time, then eight random hex digits, so two
// imports in one second (a loop over files, parallel imports) never draw the
// same id, e.g. import-20261126-130405-3fa9c2d0.
func NewID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "import-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Summary says what imported cases hold, per tool, e.g. "2 llama-bench
// outputs with 12 tests, 1 mamf-finder result: max 22.60 TFLOPS bf16".
func Summary(cases []bench.CaseResult) string {
	var llama, tests, nm, nb int
	var mamfs, bws []string
	for _, c := range cases {
		switch {
		case len(c.Llama) > 0:
			llama++
			tests += len(c.Llama)
		case c.Mamf != nil:
			nm++
			dt := strings.TrimPrefix(c.Mamf.Dtype, "torch.")
			mamfs = append(mamfs, fmt.Sprintf("max %.2f TFLOPS %s @ %dx%dx%d", c.Mamf.Max.TFLOPS, dt, c.Mamf.Max.M, c.Mamf.Max.N, c.Mamf.Max.K))
		case c.Bandwidth != nil:
			nb++
			if c.Bandwidth.GPUCopyGBs != nil {
				bws = append(bws, fmt.Sprintf("GPU copy %.2f GB/s", *c.Bandwidth.GPUCopyGBs))
			} else {
				bws = append(bws, "no GPU copy figure")
			}
		}
	}
	var parts []string
	if llama > 0 {
		parts = append(parts, fmt.Sprintf("%d llama-bench output(s) with %d test(s)", llama, tests))
	}
	if nm > 0 {
		parts = append(parts, fmt.Sprintf("%d mamf-finder result(s): %s", nm, strings.Join(mamfs, "; ")))
	}
	if nb > 0 {
		parts = append(parts, fmt.Sprintf("%d rocm_bandwidth_test result(s): %s", nb, strings.Join(bws, "; ")))
	}
	if len(parts) == 0 {
		return "no results"
	}
	return strings.Join(parts, ", ")
}
