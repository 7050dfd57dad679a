package report

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/bench/mamf"
	"github.com/haloforge/haloforge/bench/rbt"
	"github.com/haloforge/haloforge/bench/store"
	"github.com/haloforge/haloforge/internal/testfix"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden (go test -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func f64(v float64) *float64 { return &v }

const (
	llama2Size   = 3825065984 // Llama-2-7B Q4_0: 3.56 GiB
	qwen3Size    = 17715663360
	scoutSize    = 61823264768
	llamaBuild   = "b6000abc"
	llamaBuildNo = 6000
)

// rec is one llama-bench result. The seed publishes means only: the
// standard deviations here are illustrative inputs, the means are the seed's.
func rec(size int64, p, n int, avg, std float64, fa, nb int) llamabench.Record {
	return llamabench.Record{
		BuildCommit: llamaBuild, BuildNumber: llamaBuildNo, ModelType: "llama 7B Q4_0", ModelSize: size,
		NBatch: nb, NUbatch: 512, NGPULayers: 99, FlashAttn: fa, NPrompt: p, NGen: n,
		AvgTS: avg, StddevTS: std, TestTime: "2025-06-01T00:00:00Z",
	}
}

func llamaCase(id, backend, model string, args []string, recs ...llamabench.Record) bench.CaseResult {
	return bench.CaseResult{ID: id, Tool: bench.ToolLlamaBench, Backend: backend, Model: model,
		Args: args, Status: bench.StatusOK, Llama: recs}
}

// seedRun carries the numbers of design.md section 1.
func seedRun() bench.Run {
	const l2, q3, sc = "Llama-2-7B Q4_0", "Qwen3-30B-A3B UD-Q4_K_XL", "Llama 4 Scout UD-Q4_K_XL"
	base := []string{"llama-bench", "-mmp", "0", "-ngl", "99", "-o", "json"}
	a := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	rocwmma := llamaCase("llama2/hip-rocwmma/fa1/pp8192", "hip-rocwmma", l2, a("-fa", "1", "-p", "8192", "-n", "8192"),
		rec(llama2Size, 8192, 0, 368.8, 1.9, 1, 2048), rec(llama2Size, 0, 8192, 50.97, 0.12, 1, 2048))
	rocwmma.Memory = bench.MemoryPeaks{VRAMMiB: f64(7), GTTMiB: f64(8062)}
	hang := bench.CaseResult{ID: "scout/hip/fa0/pp512", Tool: bench.ToolLlamaBench, Backend: "hip", Model: sc,
		Args: a("-fa", "0"), Status: bench.StatusHang, ExitCode: 137, Error: "no output for 1800s: killed",
		Memory: bench.MemoryPeaks{VRAMMiB: f64(12), GTTMiB: f64(60211)}}
	return bench.Run{
		ID: "20250601-seed", Suite: "seed", Target: "gfx1151",
		Started: time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC),
		Host:    bench.HostFacts{Hostname: "strix", Kernel: "6.18.4", GPUs: []string{"gfx1151 (Radeon 8060S)"}},
		Cases: []bench.CaseResult{
			{ID: "mamf/bf16/quick", Tool: bench.ToolMamf, Status: bench.StatusOK, Mamf: &mamf.Result{
				Dtype: "torch.bfloat16", Shapes: 81, Mean: mamf.Shape{TFLOPS: 20.1, M: 10240, N: 4096, K: 4096},
				Median: mamf.Shape{TFLOPS: 20.4, M: 12288, N: 4096, K: 4096}, Max: mamf.Shape{TFLOPS: 22.6, M: 18432, N: 4096, K: 4096}}},
			{ID: "rbt", Tool: bench.ToolRBT, Status: bench.StatusOK, Bandwidth: &rbt.Result{Version: "2.6.0",
				GPUCopyGBs: f64(212), HostToGPUGBs: f64(84), GPUToHostGBs: f64(84)}},
			llamaCase("llama2/cpu/fa0/pp512", "cpu", l2, a("-fa", "0"), rec(llama2Size, 512, 0, 294.6, 1.2, 0, 2048), rec(llama2Size, 0, 128, 28.9, 0.1, 0, 2048)),
			llamaCase("llama2/hip/fa0/pp512", "hip", l2, a("-fa", "0"), rec(llama2Size, 512, 0, 349.0, 2.1, 0, 2048), rec(llama2Size, 0, 128, 48.7, 0.2, 0, 2048)),
			llamaCase("llama2/vulkan/fa0/pp512", "vulkan", l2, a("-fa", "0"), rec(llama2Size, 512, 0, 881.7, 3.4, 0, 2048), rec(llama2Size, 0, 128, 52.2, 0.1, 0, 2048)),
			rocwmma,
			llamaCase("qwen3/vulkan/fa0/pp512", "vulkan", q3, a("-fa", "0", "-n", "0"), rec(qwen3Size, 512, 0, 70.0, 0.8, 0, 2048)),
			llamaCase("qwen3/vulkan/fa0/pp512-b256", "vulkan", q3, a("-fa", "0", "-n", "0", "-b", "256"), rec(qwen3Size, 512, 0, 118.8, 1.1, 0, 256)),
			llamaCase("scout/vulkan/fa0/pp512", "vulkan", sc, a("-fa", "0"), rec(scoutSize, 512, 0, 102.6, 0.9, 0, 2048), rec(scoutSize, 0, 128, 20.2, 0.05, 0, 2048)),
			hang,
		},
	}
}

// storedSeed round-trips the seed run through a real store.
func storedSeed(t testing.TB) bench.Run {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx := context.Background()
	if err := s.PutRunWithCases(ctx, seedRun(), false); err != nil {
		t.Fatal(err)
	}
	id, err := s.Resolve(ctx, "latest")
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestSeedTablesGolden(t *testing.T) {
	rep := Build(storedSeed(t), DefaultTarget)
	var md, js, cs bytes.Buffer
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	golden(t, "seed.md", md.Bytes())
	if err := rep.JSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "seed.json", js.Bytes())
	if err := rep.CSV(&cs); err != nil {
		t.Fatal(err)
	}
	golden(t, "seed.csv", cs.Bytes())

	// The seed's facts, independent of the golden file.
	out := md.String()
	for _, want := range []string{
		"| Run ", " pp512 (t/s) |", " tg128 (t/s) |", " Max Mem (MiB) |",
		"| CPU ", "294.60 ± 1.20", "28.90 ± 0.10",
		"| HIP ", "349.00 ± 2.10", "48.70 ± 0.20",
		"**881.70 ± 3.40**", "**52.20 ± 0.10**",
		"| HIP + rocWMMA + FA", "368.80 ± 1.90", "50.97 ± 0.12", "7+8062",
		"pp8192 (t/s)", "tg8192 (t/s)",
		"70.00 ± 0.80", "**118.80 ± 1.10**", "Vulkan (-b 256)",
		"102.60 ± 0.90", "20.20 ± 0.05", "GPU Hang",
		"22.60 @ 18432x4096x4096", "38.0 %", "212.00", "82.8 %", "487.8 % †", "† above 100 %",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestEfficiency(t *testing.T) {
	rep := Build(storedSeed(t), DefaultTarget)
	var vk Row
	for _, r := range rep.Models[0].Tables[0].Rows {
		if r.Label == "Vulkan" {
			vk = r
		}
	}
	// tok/TFLOP = pp512 t/s / peak TFLOPS.
	if e := vk.Cells[0].Efficiency; e == nil || abs(*e-881.7/59.4) > 1e-9 {
		t.Errorf("pp512 tok/TFLOP = %v, want %v", e, 881.7/59.4)
	}
	// % of peak BW = tg t/s x model bytes / peak bytes/s.
	want := 52.2 * llama2Size / 256e9 * 100
	if e := vk.Cells[1].Efficiency; e == nil || abs(*e-want) > 1e-9 {
		t.Errorf("tg128 %% of peak BW = %v, want %v", e, want)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestArgsConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
		fa   int
		nb   int
	}{
		{"defaults", nil, "pp512,tg128", -1, 2048},
		{"long context fa", []string{"-p", "8192", "-n", "8192", "-fa", "1"}, "pp8192,tg8192", 1, 2048},
		{"pp only b256", []string{"-n", "0", "-b", "256", "-fa", "off"}, "pp512", 0, 256},
		{"depth and pg", []string{"-p", "0", "-n", "0", "-pg", "512,128", "-d", "0,4096"}, "pp512+tg128,pp512+tg128 @ d4096", -1, 2048},
		{"dangling flag", []string{"-p"}, "pp512,tg128", -1, 2048},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := argsConfig(tt.args)
			if got := strings.Join(c.tests, ","); got != tt.want || c.fa != tt.fa || c.nBatch != tt.nb {
				t.Errorf("got %s fa=%d b=%d", got, c.fa, c.nBatch)
			}
		})
	}
}

// Real llama-bench output from Debian sid, -fa 0,1 -b 256,2048 in one case:
// one row per (fa, -b), labels disambiguated.
func TestFixtureMultiRows(t *testing.T) {
	recs := testfix.Llama(t, "bench-multi.jsonl")
	run := bench.Run{ID: "fixture", Suite: "smoke", Cases: []bench.CaseResult{
		llamaCase("multi", "cpu", "tiny-f16", nil, recs...),
	}}
	rep := Build(run, DefaultTarget)
	var md bytes.Buffer
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	golden(t, "fixture-multi.md", md.Bytes())
	tb := rep.Models[0].Tables[0]
	if len(tb.Rows) != 4 || strings.Join(tb.Tests, ",") != "pp128,pp512,tg32" {
		t.Fatalf("rows=%d tests=%v", len(tb.Rows), tb.Tests)
	}
}

func FuzzArgsConfig(f *testing.F) {
	f.Add("-p 512 -n 128 -fa 1 -b 256 -ub 1024 -d 0,4096 -pg 512,128")
	f.Add("-p")
	f.Fuzz(func(t *testing.T, s string) {
		c := argsConfig(strings.Fields(s))
		if len(c.tests) != len(c.specs) {
			t.Fatalf("tests %v vs specs %v", c.tests, c.specs)
		}
	})
}
