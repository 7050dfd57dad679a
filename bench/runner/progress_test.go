package runner

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/bench/suite"
)

func TestProgressOutputs(t *testing.T) {
	start := time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)
	c := suite.Case{Index: 1, ID: "llama/tiny/cpu/fa0/pp64-tg16"}
	ok := bench.CaseResult{Status: bench.StatusOK, Started: start, Finished: start.Add(1500 * time.Millisecond),
		Llama: []llamabench.Record{{NPrompt: 64, AvgTS: 100.5, StddevTS: 2}, {NGen: 16, AvgTS: 20, StddevTS: 0.5}}}
	hang := bench.CaseResult{Status: bench.StatusHang, Started: start, Finished: start.Add(time.Second), Error: "exceeded its time limit of 1s"}
	for _, tt := range []struct {
		name string
		p    func(*bytes.Buffer) Progress
		want []string
	}{
		{"lines", func(b *bytes.Buffer) Progress { return &Lines{W: b} }, []string{
			"run r1: 3 cases, 1 already done, resuming", "[2/3] llama/tiny/cpu/fa0/pp64-tg16 ...",
			"[2/3] llama/tiny/cpu/fa0/pp64-tg16: ok 1.5s  pp64 100.50±2.00 t/s  tg16 20.00±0.50 t/s",
			"[3/3] llama/tiny/cpu/fa0/pp64-tg16: hang 1.0s  exceeded its time limit of 1s", "note: probe skipped",
		}},
		{"bar", func(b *bytes.Buffer) Progress { return &Bar{W: b} }, []string{
			"llama/tiny/cpu/fa0/pp64-tg16: ok 1.5s  pp64 100.50±2.00 t/s", "note: probe skipped",
			"llama/tiny/cpu/fa0/pp64-tg16: hang 1.0s",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			p := tt.p(&b)
			p.Begin("r1", 3, 1)
			p.CaseStart(c)
			p.CaseDone(c, ok)
			p.Note("probe skipped")
			p.CaseStart(c)
			p.CaseDone(c, hang)
			p.End()
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}
