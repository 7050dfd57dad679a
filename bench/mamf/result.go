// Package mamf parses the output of mamf-finder (stas00/ml-engineering's
// maximum achievable matmul FLOPS finder).
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
	Dtype   string        `json:"dtype"`            // e.g. torch.bfloat16
	Device  string        `json:"device,omitempty"` // name='...' from device properties
	Torch   string        `json:"torch,omitempty"`  // torch=... version
	Shapes  int           `json:"shapes"`           // "Tried N shapes"
	Mean    Shape         `json:"mean"`
	Median  Shape         `json:"median"`
	Max     Shape         `json:"max"`
	Geomean *Shape        `json:"geomean,omitempty"` // newer versions only
	Elapsed time.Duration `json:"elapsed"`
}
