package bench

import "testing"

func TestFailureLabel(t *testing.T) {
	for _, tc := range []struct {
		c    CaseResult
		want string
	}{
		{CaseResult{Status: StatusHang, Backend: "cpu"}, "Timeout"},
		{CaseResult{Status: StatusHang, Backend: "vulkan"}, "GPU Hang"},
		{CaseResult{Status: StatusHang, Backend: "hip", Faults: []string{"gpu-reset", "gpu-hang"}}, "GPU Reset"},
		{CaseResult{Status: StatusCrash, Backend: "hip", Faults: []string{"gpu-page-fault"}}, "GPU Page Fault"},
		{CaseResult{Status: StatusCrash, Backend: "cpu", Faults: []string{"oom-kill"}}, "OOM Kill"},
		{CaseResult{Status: StatusCrash, Backend: "cpu"}, "crash"},
	} {
		if got := FailureLabel(tc.c); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.c, got, tc.want)
		}
	}
}
