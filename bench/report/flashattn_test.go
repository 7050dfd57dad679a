package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/internal/testfix"
)

// TestFlashAttnAsParsed: report rows and compare keys take flash attention
// from what the llama-bench parser made of the field, for every spelling it
// accepts (a CSV "enabled" or " 1" was once a row of unknown FA here while
// the parser read it as on).
func TestFlashAttnAsParsed(t *testing.T) {
	csv, err := os.ReadFile(filepath.Join(testfix.Dir(), "bench.csv"))
	if err != nil {
		t.Fatal(err)
	}
	const field = `"0","-1","auto","0.00"` // no_kv_offload, flash_attn, devices, tensor_split
	if !bytes.Contains(csv, []byte(field)) {
		t.Fatalf("bench.csv no longer has %s: update this test", field)
	}
	for _, tc := range []struct {
		spelling string
		want     int
	}{{"enabled", 1}, {" 1", 1}, {"disabled", 0}, {"auto", -1}, {"-1", -1}} {
		t.Run(tc.spelling, func(t *testing.T) {
			data := bytes.ReplaceAll(csv, []byte(field), []byte(`"0","`+tc.spelling+`","auto","0.00"`))
			recs, err := llamabench.ParseBytes(data, llamabench.FormatCSV, "bench.csv")
			if err != nil {
				t.Fatal(err)
			}
			if recs[0].FlashAttn != tc.want {
				t.Fatalf("parser: flash_attn %q -> %d, want %d", tc.spelling, recs[0].FlashAttn, tc.want)
			}
			run := bench.Run{ID: "fa", Suite: "import", Started: time.Date(2026, 11, 26, 11, 40, 0, 0, time.UTC),
				Cases: []bench.CaseResult{{ID: "llama/tiny/cpu", Tool: bench.ToolLlamaBench, Backend: "cpu", Model: "tiny", Status: bench.StatusOK, Llama: recs}}}
			for _, sec := range Build(run, DefaultTarget).Models {
				for _, tb := range sec.Tables {
					for _, row := range tb.Rows {
						if row.FlashAttn != tc.want {
							t.Errorf("report row %q: flash_attn %d, want %d", row.Label, row.FlashAttn, tc.want)
						}
					}
				}
			}
			for _, e := range Compare(run, run, CompareOptions{Threshold: 0.05, Alpha: 0.05}).Deltas {
				if e.Key.FlashAttn != tc.want {
					t.Errorf("compare key %+v: flash_attn %d, want %d", e.Key, e.Key.FlashAttn, tc.want)
				}
			}
		})
	}
}
