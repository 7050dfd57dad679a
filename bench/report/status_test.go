package report

import (
	"testing"

	"github.com/haloforge/haloforge/bench"
)

// TestStatusNoteNamesTheFailure: a case without numbers reads in the report
// as the runner's table has it (bench.FailureLabel), not always "GPU Hang".
func TestStatusNoteNamesTheFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    bench.CaseResult
		want string
	}{
		{"GPU case over its limit", bench.CaseResult{Status: bench.StatusHang, Backend: "vulkan", Devices: []string{"/dev/dri"}}, "GPU Hang"},
		{"CPU case over its limit", bench.CaseResult{Status: bench.StatusHang, Backend: "cpu"}, "Timeout"},
		{"hang with a logged reset", bench.CaseResult{Status: bench.StatusHang, Backend: "hip", Faults: []string{"gpu-reset", "gpu-hang"}}, "GPU Reset"},
		{"crash with a logged page fault", bench.CaseResult{Status: bench.StatusCrash, ExitCode: 139, Backend: "hip", Faults: []string{"gpu-page-fault"}}, "GPU Page Fault (exit 139)"},
		{"plain crash", bench.CaseResult{Status: bench.StatusCrash, ExitCode: 1, Backend: "cpu"}, "Crash (exit 1)"},
	} {
		if got := statusNote(tc.c); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
