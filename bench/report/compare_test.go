package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/internal/testfix"
)

// scaled returns a copy of recs with every sample multiplied by f and the
// mean and stddev recomputed from the samples, as llama-bench would print.
func scaled(recs []llamabench.Record, f float64) []llamabench.Record {
	out := make([]llamabench.Record, len(recs))
	for i, r := range recs {
		r.SamplesTS = append([]float64(nil), r.SamplesTS...)
		for j := range r.SamplesTS {
			r.SamplesTS[j] *= f
		}
		m, v := meanVar(r.SamplesTS)
		r.AvgTS, r.StddevTS = m, math.Sqrt(v)
		fields := map[string]any{}
		for k, v := range r.Fields {
			fields[k] = v
		}
		fields["avg_ts"], fields["stddev_ts"] = r.AvgTS, r.StddevTS
		r.Fields = fields
		out[i] = r
	}
	return out
}

func runOf(id string, recs []llamabench.Record) bench.Run {
	return bench.Run{ID: id, Cases: []bench.CaseResult{llamaCase("multi", "cpu", "tiny-f16", nil, recs...)}}
}

// The base is real llama-bench output (Debian sid, 2 busy cores): a matrix
// -p 128,512 -n 32 -fa 0,1 -b 256,2048 -r 2, so spreads are realistic.
func TestComparePlantedRegressionAndWobble(t *testing.T) {
	base := testfix.Llama(t, "bench-multi.jsonl")
	opts := CompareOptions{Threshold: 0.05}
	// The case with the tightest spread: pp512, fa 1, -b 2048 (389.04 ± 7.23).
	tight := -1
	for i, r := range base {
		if r.NPrompt == 512 && r.FlashAttn == 1 && r.NBatch == 2048 {
			tight = i
		}
	}
	if tight < 0 {
		t.Fatal("fixture lacks pp512 fa1 b2048")
	}
	tests := []struct {
		name   string
		factor float64
		want   Verdict // for the tight case
		regs   bool    // any regression overall
	}{
		{"planted 10% regression", 0.90, Regression, true},
		{"1% wobble down", 0.99, Unchanged, false},
		{"1% wobble up", 1.01, Unchanged, false},
		{"planted 10% improvement", 1.10, Improvement, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(runOf("base", base), runOf("new", scaled(base, tt.factor)), opts)
			if len(c.Deltas) != len(base) {
				t.Fatalf("%d deltas for %d cases", len(c.Deltas), len(base))
			}
			var d Delta
			for _, x := range c.Deltas {
				if x.Key.NPrompt == 512 && x.Key.FlashAttn == 1 && x.Key.NBatch == 2048 {
					d = x
				}
			}
			if d.Verdict != tt.want || d.Method != "welch" {
				t.Errorf("tight case: verdict %s method %s p=%v change=%v, want %s", d.Verdict, d.Method, *d.PValue, *d.ChangePct, tt.want)
			}
			if got := len(c.Regressions()) > 0; got != tt.regs {
				t.Errorf("regressions present = %v, want %v", got, tt.regs)
			}
			for _, x := range c.Deltas {
				// No case with a wobble inside the spread is ever a regression.
				if math.Abs(tt.factor-1) < 0.05 && x.Verdict != Unchanged {
					t.Errorf("%s %s: %s on a 1%% wobble", x.Key.Label(), x.Key.Test(), x.Verdict)
				}
				// A 10% drop is flagged or, where the spread is wider than it, called noise: never unchanged.
				if tt.factor == 0.90 && x.Verdict != Regression && x.Verdict != Noise {
					t.Errorf("%s %s: %s on a planted 10%% drop", x.Key.Label(), x.Key.Test(), x.Verdict)
				}
			}
			var md bytes.Buffer
			if err := c.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			golden(t, "compare-"+strings.ReplaceAll(tt.name, " ", "-")+".md", md.Bytes())
		})
	}
}

func TestWelchP(t *testing.T) {
	// Reference p-values: t and Welch df by hand, the t tail by numerical integration.
	tests := []struct {
		name string
		a, b []float64
		want float64
	}{
		{"identical", []float64{1, 2, 3}, []float64{1, 2, 3}, 1},
		{"shifted", []float64{10, 11, 12}, []float64{13, 14, 15}, 0.0213},
		{"no spread, equal", []float64{5, 5}, []float64{5, 5}, 1},
		{"no spread, different", []float64{5, 5}, []float64{6, 6}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := welchP(tt.a, tt.b); math.Abs(got-tt.want) > 5e-4 {
				t.Errorf("p = %.4f, want %.4f", got, tt.want)
			}
		})
	}
}

// Without samples (csv/md/sql imports) the spread decides.
func TestCompareSpreadMethod(t *testing.T) {
	mk := func(id string, avg, std float64) bench.Run {
		r := llamabench.Record{NPrompt: 512, NBatch: 2048, NUbatch: 512, AvgTS: avg, StddevTS: std}
		return runOf(id, []llamabench.Record{r})
	}
	tests := []struct {
		name         string
		b, bs, n, ns float64
		want         Verdict
	}{
		{"tight drop", 100, 1, 90, 1, Regression},
		{"wide drop", 100, 20, 90, 20, Noise},
		{"small drop", 100, 0.1, 98, 0.1, Unchanged},
		{"single reps", 100, 0, 80, 0, Regression},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(mk("a", tt.b, tt.bs), mk("b", tt.n, tt.ns), CompareOptions{Threshold: 0.05})
			if len(c.Deltas) != 1 || c.Deltas[0].Verdict != tt.want {
				t.Fatalf("deltas = %+v, want %s", c.Deltas, tt.want)
			}
		})
	}
}

// Different llama-bench generations print different field sets: fields on
// one side only are ignored, fields on both must agree.
func TestCompareAcrossFieldSets(t *testing.T) {
	base := testfix.Llama(t, "bench.json")
	old := make([]llamabench.Record, len(base))
	for i, r := range base {
		f := map[string]any{}
		for k, v := range r.Fields {
			if k != "load_mode" && k != "n_cpu_moe" && k != "fit_target" && k != "devices" {
				f[k] = v
			}
		}
		f["use_mmap"] = false // mid-2025 builds print use_mmap instead of load_mode
		f["flash_attn"] = false
		r.Fields = f
		r.FlashAttn = 0
		old[i] = r
	}
	c := Compare(runOf("old", old), runOf("new", base), CompareOptions{Threshold: 0.05})
	// flash_attn false (mid-2025 bool) is 0, the new build's -1 is auto: different keys.
	for _, d := range c.Deltas {
		if d.Verdict != Missing && d.Verdict != Added {
			t.Errorf("fa=0 matched fa=-1: %+v", d)
		}
	}
	for i := range old {
		old[i].Fields["flash_attn"] = -1.0
		old[i].FlashAttn = -1
	}
	c = Compare(runOf("old", old), runOf("new", base), CompareOptions{Threshold: 0.05})
	for _, d := range c.Deltas {
		if d.Base == nil || d.New == nil {
			t.Errorf("not matched across field sets: %+v", d)
		}
	}
	// A shared key property that differs keeps cases apart.
	old[0].Fields["type_k"] = "q8_0"
	c = Compare(runOf("old", old), runOf("new", base), CompareOptions{Threshold: 0.05})
	if n := len(c.Deltas); n != 3 {
		t.Errorf("type_k q8_0 vs f16 matched: %d deltas, want 3", n)
	}
}

// A case that ran before and hangs now is a regression.
func TestCompareHangIsRegression(t *testing.T) {
	base := testfix.Llama(t, "bench.json")
	b := bench.Run{ID: "a", Cases: []bench.CaseResult{llamaCase("c", "cpu", "tiny-f16", []string{"llama-bench", "-p", "512", "-n", "128"}, base...)}}
	n := bench.Run{ID: "b", Cases: []bench.CaseResult{{ID: "c", Tool: bench.ToolLlamaBench, Backend: "cpu", Model: "tiny-f16",
		Args: []string{"llama-bench", "-p", "512", "-n", "128"}, Status: bench.StatusHang}}}
	c := Compare(b, n, CompareOptions{Threshold: 0.05})
	if len(c.Regressions()) != 2 {
		t.Fatalf("regressions = %+v", c.Deltas)
	}
}

func TestParseTest(t *testing.T) {
	for _, tt := range []struct {
		label   string
		p, n, d int
		ok      bool
	}{
		{"pp512", 512, 0, 0, true}, {"tg128", 0, 128, 0, true}, {"pp512+tg128", 512, 128, 0, true},
		{"pp512 @ d4096", 512, 0, 4096, true}, {"tg32 @ d64", 0, 32, 64, true}, {"pp", 0, 0, 0, false}, {"512", 0, 0, 0, false},
	} {
		p, n, d, ok := ParseTest(tt.label)
		if p != tt.p || n != tt.n || d != tt.d || ok != tt.ok {
			t.Errorf("%q: %d %d %d %v", tt.label, p, n, d, ok)
		}
		if ok {
			if got := (testSpec{p: p, n: n, d: d}).label(); got != tt.label {
				t.Errorf("%q round-trips to %q", tt.label, got)
			}
		}
	}
}

// TestCompareKeepsVariantsApart: two suite cases that differ only in their
// variant are two rows; a regression of one is reported under its variant.
func TestCompareKeepsVariantsApart(t *testing.T) {
	base := testfix.Llama(t, "bench-multi.jsonl")[:1]
	mk := func(id string, a, b []llamabench.Record) bench.Run {
		ca := llamaCase("multi/a", "cpu", "tiny-f16", nil, a...)
		ca.Variant = "a"
		cb := llamaCase("multi/b", "cpu", "tiny-f16", nil, b...)
		cb.Variant = "b"
		return bench.Run{ID: id, Cases: []bench.CaseResult{ca, cb}}
	}
	c := Compare(mk("base", base, base), mk("new", base, scaled(base, 0.8)), CompareOptions{Threshold: 0.05})
	if len(c.Deltas) != 2 {
		t.Fatalf("%d deltas, want one per variant", len(c.Deltas))
	}
	for _, d := range c.Deltas {
		want := Unchanged
		if d.Key.Variant == "b" {
			want = Regression
		}
		if d.Verdict != want || !strings.HasSuffix(d.Key.Label(), " ["+d.Key.Variant+"]") {
			t.Errorf("variant %q: %s, label %q", d.Key.Variant, d.Verdict, d.Key.Label())
		}
	}
}
