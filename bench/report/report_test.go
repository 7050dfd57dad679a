package report

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
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

// rec is one llama-bench result.
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

// seedRun carries the published results of the seed post
// (testdata/seed-post-tables.md): every mean ± std and Max Mem figure of its
// four tables, one case per row as the seed suite runs them.
func seedRun() bench.Run {
	const l2, q3, sc = "Llama-2-7B Q4_0", "Qwen3-30B-A3B UD-Q4_K_XL", "Llama 4 Scout UD-Q4_K_XL"
	base := []string{"llama-bench", "-mmp", "0", "-ngl", "99", "-o", "json"}
	a := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	type pub struct {
		backend   string
		fa        int
		pp, ppStd float64
		tg, tgStd float64
		vram, gtt float64 // 0: not published
		singleMiB float64 // the first table's one Max Mem figure
	}
	var cases []bench.CaseResult
	add := func(model string, size int64, p, n, nb int, rows []pub) {
		for _, r := range rows {
			id := fmt.Sprintf("%s/%s/fa%d/pp%d", model, r.backend, r.fa, p)
			args := a("-fa", fmt.Sprint(r.fa), "-p", fmt.Sprint(p), "-n", fmt.Sprint(n))
			if nb != 2048 {
				id += fmt.Sprintf("-b%d", nb)
				args = append(args, "-b", fmt.Sprint(nb))
			}
			c := llamaCase(id, r.backend, model, args, rec(size, p, 0, r.pp, r.ppStd, r.fa, nb), rec(size, 0, n, r.tg, r.tgStd, r.fa, nb))
			if r.vram > 0 {
				c.Memory.VRAMMiB = f64(r.vram)
			}
			if r.gtt > 0 {
				c.Memory.GTTMiB = f64(r.gtt)
			}
			if r.singleMiB > 0 {
				c.Memory.GTTMiB = f64(r.singleMiB)
			}
			cases = append(cases, c)
		}
	}
	cases = append(cases,
		bench.CaseResult{ID: "mamf/bf16/quick", Tool: bench.ToolMamf, Status: bench.StatusOK, Mamf: &mamf.Result{
			Dtype: "torch.bfloat16", Device: "AMD Radeon Graphics", Torch: "2.8.0a0", Shapes: 81,
			Mean:   mamf.Shape{TFLOPS: 20.1, M: 10240, N: 4096, K: 4096},
			Median: mamf.Shape{TFLOPS: 20.4, M: 12288, N: 4096, K: 4096}, Max: mamf.Shape{TFLOPS: 22.6, M: 18432, N: 4096, K: 4096}}},
		bench.CaseResult{ID: "rbt", Tool: bench.ToolRBT, Status: bench.StatusOK, Bandwidth: &rbt.Result{Version: "2.6.0",
			GPUCopyGBs: f64(212), HostToGPUGBs: f64(84), GPUToHostGBs: f64(84)}})
	add(l2, llama2Size, 512, 128, 2048, []pub{
		{backend: "cpu", fa: 0, pp: 294.64, ppStd: 0.58, tg: 28.94, tgStd: 0.04},
		{backend: "cpu", fa: 1, pp: 294.36, ppStd: 3.13, tg: 29.42, tgStd: 0.03},
		{backend: "hip", fa: 0, pp: 348.96, ppStd: 0.31, tg: 48.72, tgStd: 0.01, singleMiB: 4219},
		{backend: "hip", fa: 1, pp: 331.96, ppStd: 0.41, tg: 45.78, tgStd: 0.02, singleMiB: 4245},
		{backend: "hip-rocwmma", fa: 0, pp: 322.63, ppStd: 1.34, tg: 48.40, tgStd: 0.02, singleMiB: 4218},
		{backend: "hip-rocwmma", fa: 1, pp: 343.91, ppStd: 0.60, tg: 50.88, tgStd: 0.01, singleMiB: 4218},
		{backend: "vulkan", fa: 0, pp: 881.71, ppStd: 1.71, tg: 52.22, tgStd: 0.05, singleMiB: 3923},
		{backend: "vulkan", fa: 1, pp: 884.20, ppStd: 6.23, tg: 52.73, tgStd: 0.07, singleMiB: 3923},
	})
	add(l2, llama2Size, 8192, 8192, 2048, []pub{
		{backend: "hip", fa: 0, pp: 245.59, ppStd: 0.10, tg: 12.43, tgStd: 0.00, vram: 6, gtt: 10591},
		{backend: "hip", fa: 1, pp: 190.86, ppStd: 0.49, tg: 30.01, tgStd: 0.00, vram: 7, gtt: 8089},
		{backend: "hip-rocwmma", fa: 0, pp: 230.10, ppStd: 0.70, tg: 12.37, tgStd: 0.00, vram: 6, gtt: 10590},
		{backend: "hip-rocwmma", fa: 1, pp: 368.77, ppStd: 1.22, tg: 50.97, tgStd: 0.00, vram: 7, gtt: 8062},
		{backend: "vulkan", fa: 0, pp: 487.69, ppStd: 0.83, tg: 7.54, tgStd: 0.02, vram: 7761, gtt: 1180},
		{backend: "vulkan", fa: 1, pp: 490.18, ppStd: 4.89, tg: 32.03, tgStd: 0.01, vram: 7767, gtt: 1180},
	})
	add(q3, qwen3Size, 512, 128, 2048, []pub{{backend: "vulkan", fa: 0, pp: 70.03, ppStd: 0.18, tg: 75.32, tgStd: 0.08}})
	add(q3, qwen3Size, 512, 128, 256, []pub{{backend: "vulkan", fa: 0, pp: 118.78, ppStd: 0.64, tg: 74.76, tgStd: 0.07}})
	add(sc, scoutSize, 512, 128, 2048, []pub{{backend: "vulkan", fa: 0, pp: 102.61, ppStd: 1.02, tg: 20.23, tgStd: 0.01}})
	cases = append(cases, bench.CaseResult{ID: sc + "/hip/fa0/pp512", Tool: bench.ToolLlamaBench, Backend: "hip", Model: sc,
		Args: a("-fa", "0", "-p", "512", "-n", "128"), Status: bench.StatusHang, ExitCode: 137, Error: "no output for 1800s: killed"})
	return bench.Run{
		ID: "20250601-seed", Suite: "seed", Target: "gfx1151",
		Started: time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC),
		Host:    bench.HostFacts{Hostname: "strix", Kernel: "6.18.4", GPUs: []string{"gfx1151 (Radeon 8060S)"}},
		Cases:   cases,
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

	// Every table of the seed post, cell for cell, independent of the golden file.
	post, err := os.ReadFile(filepath.Join("testdata", "seed-post-tables.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := mdTables(string(post))
	if len(want) != 4 {
		t.Fatalf("the post has %d tables, want 4", len(want))
	}
	got := mdTables(md.String())
	for i, w := range want {
		found := false
		for _, g := range got {
			if reflect.DeepEqual(g, w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("the post's table %d is not in the report:\n%s\nreport:\n%s", i+1, tableText(w), md.String())
		}
	}
	for _, want := range []string{"22.60 @ 18432x4096x4096", "38.0 %", "212.00", "82.8 %", "† above 100 %"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

// mdTables reads the markdown tables of a document as rows of trimmed
// cells, leaving out the alignment rows: padding and alignment are layout,
// the cells (with their ** bold) are content.
func mdTables(doc string) [][][]string {
	var out [][][]string
	var cur [][]string
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if cur != nil {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if strings.Trim(strings.Join(cells, ""), "-:") == "" {
			continue
		}
		cur = append(cur, cells)
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

func tableText(t [][]string) string {
	var b strings.Builder
	for _, r := range t {
		b.WriteString("|" + strings.Join(r, "|") + "|\n")
	}
	return b.String()
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
	if e := vk.Cells[0].Efficiency; e == nil || abs(*e-881.71/59.4) > 1e-9 {
		t.Errorf("pp512 tok/TFLOP = %v, want %v", *e, 881.71/59.4)
	}
	// % of peak BW = tg t/s x model bytes / peak bytes/s.
	want := 52.22 * llama2Size / 256e9 * 100
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
