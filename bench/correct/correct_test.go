package correct

import (
	"math"
	"strings"
	"testing"
)

func f(v float64) *float64 { return &v }

func TestJudge(t *testing.T) {
	tests := []struct {
		name    string
		r       Result
		th      Thresholds
		verdict string
		why     string
	}{
		{"rounding only", Result{Role: "check", MeanKLD: f(0.000004), KLD99: f(0.00003), SameTop: f(99.6)}, Thresholds{}, VerdictOK, ""},
		{"mean beyond", Result{Role: "check", MeanKLD: f(0.02), KLD99: f(0.05), SameTop: f(95)}, Thresholds{}, VerdictWrong, "mean KLD 0.020000 > 0.01"},
		{"tail beyond", Result{Role: "check", MeanKLD: f(0.001), KLD99: f(0.4), SameTop: f(97)}, Thresholds{}, VerdictWrong, "99% KLD 0.400000 > 0.1"},
		{"top token", Result{Role: "check", MeanKLD: f(0.001), KLD99: f(0.01), SameTop: f(80)}, Thresholds{}, VerdictWrong, "same top 80.00 % < 90 %"},
		{"suite loosens", Result{Role: "check", MeanKLD: f(0.02), KLD99: f(0.05), SameTop: f(95)}, Thresholds{MaxMeanKLD: 0.05}, VerdictOK, ""},
		{"garbage", Result{Role: "check", MeanKLD: f(math.NaN()), KLD99: f(math.NaN()), SameTop: f(math.NaN())}, Thresholds{}, VerdictWrong, "not a number"},
		{"reference", Result{Role: VerdictReference, PPL: 4100}, Thresholds{}, VerdictReference, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			r.Judge(tt.th)
			if r.Verdict != tt.verdict || !strings.Contains(r.Why, tt.why) || (tt.why == "" && r.Why != "") {
				t.Errorf("verdict %s (%s), want %s (%s)", r.Verdict, r.Why, tt.verdict, tt.why)
			}
			if r.Thresholds == nil || r.Thresholds.MinSameTop == 0 {
				t.Errorf("thresholds not recorded with defaults: %+v", r.Thresholds)
			}
		})
	}
	if err := (Thresholds{MinSameTop: 101}).Validate(); err == nil {
		t.Error("min_same_top 101 must be refused")
	}
}
