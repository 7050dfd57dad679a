package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/internal/testfix"
)

func TestDetectAndParse(t *testing.T) {
	fx := testfix.Dir()
	tests := []struct {
		name    string
		path    string
		tool    bench.Tool
		backend string
		tests   int
	}{
		{"llama json", filepath.Join(fx, "bench.json"), bench.ToolLlamaBench, "cpu", 2},
		{"llama jsonl", filepath.Join(fx, "bench-multi.jsonl"), bench.ToolLlamaBench, "cpu", 12},
		{"llama csv", filepath.Join(fx, "bench.csv"), bench.ToolLlamaBench, "cpu", 2},
		{"llama md", filepath.Join(fx, "bench.md"), bench.ToolLlamaBench, "cpu", 2},
		{"llama sql", filepath.Join(fx, "bench.sql"), bench.ToolLlamaBench, "cpu", 2},
		{"llama -oe stderr log", filepath.Join(fx, "bench-oe.md.stderr.log"), bench.ToolLlamaBench, "cpu", 2},
		{"llama vulkan", filepath.Join(fx, "bench-vulkan-lavapipe.json"), bench.ToolLlamaBench, "vulkan", 2},
		{"mamf", "../mamf/testdata/gpu0-bf16.txt", bench.ToolMamf, "", 0},
		{"rbt 2.6", "../rbt/testdata/strix-halo-2.6.txt", bench.ToolRBT, "", 0},
		{"rbt ng", "../rbt/testdata/ng-tb.txt", bench.ToolRBT, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Case(1, tt.path, data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Tool != tt.tool || c.Backend != tt.backend || len(c.Llama) != tt.tests {
				t.Errorf("tool=%s backend=%s tests=%d", c.Tool, c.Backend, len(c.Llama))
			}
			if tt.tool == bench.ToolMamf && (c.Mamf == nil || c.Mamf.Max.TFLOPS <= 0) {
				t.Error("no mamf result")
			}
			if tt.tool == bench.ToolRBT && (c.Bandwidth == nil || c.Bandwidth.GPUCopyGBs == nil) {
				t.Error("no bandwidth result")
			}
		})
	}
}

func TestGarbledIsError(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testfix.Dir(), "bench.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, data string }{
		{"empty", ""},
		{"prose", "hello world\nthis is not a benchmark\n"},
		{"truncated jsonl", string(data[:len(data)-40])},
		{"load banner only", "load_backend: loaded CPU backend from /usr/lib/x/libggml-cpu.so\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Case(1, "f.txt", []byte(tt.data), Options{})
			if err == nil || !strings.Contains(err.Error(), "f.txt") {
				t.Fatalf("err = %v, want an error naming f.txt", err)
			}
		})
	}
}

func TestRunHeader(t *testing.T) {
	recs := testfix.Llama(t, "bench-vulkan-lavapipe.json")
	c := bench.CaseResult{ID: "a", Llama: recs, Started: time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)}
	r := Run("", "gfx1151", []bench.CaseResult{c}, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	if !strings.HasPrefix(r.ID, "import-20261127-000000-") || r.Suite != "import" || !r.Started.Equal(c.Started) || len(r.Host.GPUs) != 1 {
		t.Fatalf("run = %+v", r)
	}
}

// FuzzCase: arbitrary bytes never panic, and an accepted llama-bench output
// always has tests with finite numbers.
func FuzzCase(f *testing.F) {
	for _, name := range []string{"bench.json", "bench.jsonl", "bench.csv", "bench.md", "bench.sql"} {
		if data, err := os.ReadFile(filepath.Join(testfix.Dir(), name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("** Dtype: torch.bfloat16\nTried 1 shapes => the best outcomes were:\n"))
	f.Add([]byte("RocmBandwidthTest Version: 2.6.0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Case(1, "fuzz", data, Options{})
		if err != nil {
			return
		}
		if c.Tool == bench.ToolLlamaBench && len(c.Llama) == 0 {
			t.Fatal("llama-bench output accepted with no tests")
		}
	})
}
