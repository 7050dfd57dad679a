// Package mamf parses the output of mamf-finder (stas00/ml-engineering's
// maximum achievable matmul FLOPS finder, compute/accelerator/benchmarks).
//
// A finished sweep ends with a "Tried N shapes => the best outcomes were:"
// block (mean, median and max lines, geomean in newer versions) and an
// "Elapsed time:" line; Parse returns it as a Result. An output without that
// block (a killed run) is an error wrapping ErrTruncated; the best values
// seen in its progress lines are available from the error as a Progress,
// clearly marked partial, never as a Result.
package mamf

import "time"

// Shape is one best outcome: TFLOPS at an MxNxK matmul shape.
type Shape struct {
	TFLOPS float64 `json:"tflops"`
	M      int     `json:"m"`
	N      int     `json:"n"`
	K      int     `json:"k"`
}

// Result is a finished mamf-finder sweep.
type Result struct {
	Dtype   string `json:"dtype"`             // e.g. torch.bfloat16
	Device  string `json:"device,omitempty"`  // name='...' from device properties
	Arch    string `json:"arch,omitempty"`    // gcnArchName='...' on ROCm, e.g. gfx1151
	Torch   string `json:"torch,omitempty"`   // torch=... version
	Version int    `json:"version,omitempty"` // "benchmark version: N"
	Shapes  int    `json:"shapes"`            // "Tried N shapes"
	Mean    Shape  `json:"mean"`
	Median  Shape  `json:"median"`
	Max     Shape  `json:"max"`
	// GeomeanTFLOPS is the geometric mean over all shapes tried (newer
	// versions only: "geomean:" or "geometric mean:").
	GeomeanTFLOPS *float64 `json:"geomean_tflops,omitempty"`
	// ArithMeanTFLOPS is "arithmetic mean:" over all shapes (newest versions).
	ArithMeanTFLOPS *float64 `json:"arith_mean_tflops,omitempty"`
	// MAMF and MSMF are the newest versions' headlines ("MAMF (max
	// achievable, boost burst)", "MSMF (max sustainable, saturated)"), which
	// replace the mean/median/max lines.
	MAMF *Shape `json:"mamf,omitempty"`
	MSMF *Shape `json:"msmf,omitempty"`
	// Absent lists the outcome fields this output did not print ("mean",
	// "median", "max" for MAMF/MSMF outputs); they are zero and must be shown
	// as not available.
	Absent []string `json:"absent,omitempty"`
	// Interrupted is set when the sweep was stopped early with Ctrl-C
	// (mamf-finder then still prints the best outcomes so far).
	Interrupted bool          `json:"interrupted,omitempty"`
	Elapsed     time.Duration `json:"elapsed"`
}

// Progress is what a sweep's progress lines show so far. It is partial data
// from an unfinished run and must be labelled as such wherever shown.
type Progress struct {
	Partial bool  `json:"partial"` // always true
	Done    int   `json:"done"`    // progress lines seen
	Mean    Shape `json:"mean"`    // best mean so far and its shape
	Median  Shape `json:"median"`
	Max     Shape `json:"max"`
}
