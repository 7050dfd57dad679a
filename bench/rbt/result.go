// Package rbt parses rocm_bandwidth_test output: the classic 2.6 matrix
// format and RBT-NG's Executor/Transfer/Aggregate lines (TransferBench
// plugin, `rocm_bandwidth_test plugin --run tb`).
//
// Summaries (GPU copy peak, CPU->GPU, GPU->CPU) are computed only from cells
// whose devices are known; an unknown one stays nil ("not available").
package rbt

// Device is one entry of the 2.6 device list ("Device: 1,  AMD Radeon
// Graphics,  GPU-XX,  c2:0.0"). GPUs are the devices printed with a PCI BDF.
type Device struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	GPU   bool   `json:"gpu"`
	BDF   string `json:"bdf,omitempty"`
}

// Matrix is a bandwidth matrix in GB/s between devices; NaN-free: missing
// (N/A) cells are nil.
type Matrix struct {
	Title   string       `json:"title"`
	Devices []int        `json:"devices"`
	Cells   [][]*float64 `json:"cells"` // [src][dst]
}

// Line is one RBT-NG result line (Executor, Transfer or Aggregate).
type Line struct {
	Test     int     `json:"test,omitempty"` // "Test N:" block it belongs to
	Kind     string  `json:"kind"`           // Executor, Transfer, Aggregate
	Name     string  `json:"name"`           // e.g. "DMA 00", "00", "CPU"
	GBs      float64 `json:"gbs"`
	Millis   float64 `json:"ms"`
	Bytes    int64   `json:"bytes"`
	Src      string  `json:"src,omitempty"` // Transfer only: memory devices, e.g. "C0", "G0"
	Dst      string  `json:"dst,omitempty"`
	RawTails string  `json:"raw_tail,omitempty"` // the rest of the line, kept verbatim
}

// Result is one rocm_bandwidth_test run and its summary figures.
type Result struct {
	Version        string   `json:"version"` // "2.6.0" or "ng"
	Devices        []Device `json:"devices,omitempty"`
	Unidirectional *Matrix  `json:"unidirectional,omitempty"` // peak
	Bidirectional  *Matrix  `json:"bidirectional,omitempty"`  // peak
	// Matrices holds every bandwidth matrix printed (peak and average).
	Matrices     []Matrix `json:"matrices,omitempty"`
	Lines        []Line   `json:"lines,omitempty"`
	GPUCopyGBs   *float64 `json:"gpu_copy_gbs,omitempty"` // device-to-device peak (same GPU or GPU<->GPU)
	HostToGPUGBs *float64 `json:"host_to_gpu_gbs,omitempty"`
	GPUToHostGBs *float64 `json:"gpu_to_host_gbs,omitempty"`
}
