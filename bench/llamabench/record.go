// Package llamabench parses every output format of llama.cpp's llama-bench
// (json, jsonl, csv, md, sql) across schema generations, keeping unknown
// fields verbatim.
//
// Schema generations handled (see tools/llama-bench/llama-bench.cpp upstream):
//   - mid-2025 builds: flash_attn is a JSON bool, use_mmap is present and
//     n_cpu_moe, devices, load_mode, no_host, fit_* are absent;
//   - current builds: flash_attn is an int (-1 auto, 0 off, 1 on) and the
//     newer fields are present.
//
// Truncated or garbled output is an error naming the input and line; no
// number is ever invented. Markdown carries only a subset of the fields:
// what it lacks is listed in Record.Absent.
package llamabench

import "fmt"

// Record is one llama-bench test (one JSON object / CSV row / SQL row / md row).
//
// Typed fields hold what haloforge computes with. Fields holds every field the
// tool printed, known or not, under llama-bench's own names, so nothing is
// dropped and the store can write llama-bench's own columns. Values are as the
// format carried them: decoded JSON (string, float64, bool, []any) for json
// and jsonl, the printed text (string) for csv, sql and md.
type Record struct {
	BuildCommit  string `json:"build_commit"`
	BuildNumber  int    `json:"build_number"`
	CPUInfo      string `json:"cpu_info"`
	GPUInfo      string `json:"gpu_info"`
	Backends     string `json:"backends"`
	ModelFile    string `json:"model_filename"`
	ModelType    string `json:"model_type"`
	ModelSize    int64  `json:"model_size"`
	ModelNParams int64  `json:"model_n_params"`
	NBatch       int    `json:"n_batch"`
	NUbatch      int    `json:"n_ubatch"`
	NThreads     int    `json:"n_threads"`
	NGPULayers   int    `json:"n_gpu_layers"`
	// FlashAttn is -1 (auto), 0 or 1; mid-2025 builds printed a bool, mapped to 0/1.
	FlashAttn int     `json:"flash_attn"`
	NPrompt   int     `json:"n_prompt"`
	NGen      int     `json:"n_gen"`
	NDepth    int     `json:"n_depth"`
	TestTime  string  `json:"test_time"`
	AvgNS     float64 `json:"avg_ns"`
	StddevNS  float64 `json:"stddev_ns"`
	// AvgTS counts n_prompt+n_gen tokens per second (not the depth).
	AvgTS     float64   `json:"avg_ts"`
	StddevTS  float64   `json:"stddev_ts"`
	SamplesNS []float64 `json:"samples_ns,omitempty"`
	SamplesTS []float64 `json:"samples_ts,omitempty"`

	// Fields is every field as printed, including the ones above.
	Fields map[string]any `json:"fields,omitempty"`
	// Order is the order fields appeared in, for faithful re-emission.
	Order []string `json:"order,omitempty"`

	// Format is the output format the record was parsed from.
	Format Format `json:"format,omitempty"`
	// Absent lists the typed fields above that the output did not carry
	// (markdown prints only a few columns; older builds lack newer fields).
	// Their typed values are zero and must be shown as "not available".
	Absent []string `json:"absent,omitempty"`
	// Rounded lists typed fields derived from rounded display text
	// (markdown's "10.51 MiB" size and "5.51 M" params).
	Rounded []string `json:"rounded,omitempty"`
}

// Has reports whether the output carried the named typed field.
func (r Record) Has(field string) bool {
	for _, a := range r.Absent {
		if a == field {
			return false
		}
	}
	return true
}

// Label is the test label llama-bench prints in markdown: pp512, tg128,
// pp512+tg128, with " @ d4096" appended for a depth.
func (r Record) Label() string {
	var s string
	switch {
	case r.NPrompt > 0 && r.NGen == 0:
		s = fmt.Sprintf("pp%d", r.NPrompt)
	case r.NGen > 0 && r.NPrompt == 0:
		s = fmt.Sprintf("tg%d", r.NGen)
	default:
		s = fmt.Sprintf("pp%d+tg%d", r.NPrompt, r.NGen)
	}
	if r.NDepth > 0 {
		s += fmt.Sprintf(" @ d%d", r.NDepth)
	}
	return s
}
