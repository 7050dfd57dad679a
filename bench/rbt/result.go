// Package rbt parses rocm_bandwidth_test output: the classic 2.6 matrix
// format and RBT-NG's Executor/Transfer/Aggregate lines.
package rbt

// Matrix is a bandwidth matrix in GB/s between devices; NaN-free: missing
// (N/A) cells are nil.
type Matrix struct {
	Title   string       `json:"title"`
	Devices []int        `json:"devices"`
	Cells   [][]*float64 `json:"cells"` // [src][dst]
}

// Line is one RBT-NG result line (Executor, Transfer or Aggregate).
type Line struct {
	Kind     string  `json:"kind"` // Executor, Transfer, Aggregate
	Name     string  `json:"name"` // e.g. "DMA 00", "00", "CPU"
	GBs      float64 `json:"gbs"`
	Millis   float64 `json:"ms"`
	Bytes    int64   `json:"bytes"`
	RawTails string  `json:"raw_tail,omitempty"` // the rest of the line, kept verbatim
}

// Result is one rocm_bandwidth_test run and its summary figures.
type Result struct {
	Version        string   `json:"version"` // "2.6.0" or "ng"
	Unidirectional *Matrix  `json:"unidirectional,omitempty"`
	Bidirectional  *Matrix  `json:"bidirectional,omitempty"`
	Lines          []Line   `json:"lines,omitempty"`
	GPUCopyGBs     *float64 `json:"gpu_copy_gbs,omitempty"` // device-to-device peak
	HostToGPUGBs   *float64 `json:"host_to_gpu_gbs,omitempty"`
	GPUToHostGBs   *float64 `json:"gpu_to_host_gbs,omitempty"`
}
