// Package report turns stored runs into the tables people post: per model,
// `| Run | pp512 (t/s) | tg128 (t/s) | Max Mem (MiB) |` with mean ± std,
// the best value of each column in bold, memory as VRAM+GTT and a "GPU Hang"
// cell for hung cases; efficiency (tok/TFLOP for prompt processing, % of
// peak memory bandwidth for generation); mamf-finder and bandwidth summaries
// against the target's peaks; as markdown, JSON, CSV or one self-contained
// HTML page with plots. It also renders a case's history across runs.
//
// It is pure: no store, no Docker. Callers load runs and pass them in.
package report

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/recipes"
)

// Target holds the peak figures efficiency is measured against; TargetOf
// reads them from recipes' target table.
type Target struct {
	Name       string  `json:"name"`
	PeakTFLOPS float64 `json:"peak_tflops"` // dense FP16/BF16
	PeakGBs    float64 `json:"peak_gbs"`    // memory bandwidth, GB/s (1e9 bytes)
}

// DefaultTarget is the peaks of recipes.DefaultTarget (Strix Halo: 59.4
// TFLOPS, 256 GB/s).
var DefaultTarget, _ = TargetOf(recipes.DefaultTarget)

// TargetOf is the peak figures of GPU target name from recipes' target
// table, the one place they live; PeakTFLOPS is rounded to 0.1 TFLOPS as
// the figure is quoted (gfx1151: 40 CU x 512 x 2.9 GHz = 59.392 -> 59.4).
// false for a target the table does not know.
func TargetOf(name string) (Target, bool) {
	t, err := recipes.LookupTarget(name)
	if err != nil {
		return Target{Name: name}, false
	}
	return Target{Name: t.Name, PeakTFLOPS: math.Round(t.PeakTFLOPS()*10) / 10, PeakGBs: t.PeakGBs()}, true
}

// Stat is a t/s figure: mean and standard deviation over N samples.
type Stat struct {
	Mean    float64   `json:"mean"`
	Std     float64   `json:"std"`
	Samples []float64 `json:"samples,omitempty"`
}

// Cell is one test of one row: a number, or why there is none.
type Cell struct {
	Stat   *Stat        `json:"stat,omitempty"`
	Status bench.Status `json:"status"`
	Note   string       `json:"note,omitempty"` // "GPU Hang", "Crash (exit 139)", ...
	// Efficiency: tok/TFLOP for pp tests, % of peak bandwidth for tg tests.
	Efficiency *float64 `json:"efficiency,omitempty"`
	Best       bool     `json:"best,omitempty"`
}

// Row is one backend configuration in a table (a "Run" row of the seed).
type Row struct {
	Label     string            `json:"label"` // HIP, HIP + FA, HIP + rocWMMA + FA, Vulkan (-b 256) ...
	Backend   string            `json:"backend"`
	FlashAttn int               `json:"flash_attn"`
	NBatch    int               `json:"n_batch,omitempty"`
	NUbatch   int               `json:"n_ubatch,omitempty"`
	Cases     []string          `json:"cases"`
	Cells     []Cell            `json:"cells"` // aligned with Table.Tests
	Memory    bench.MemoryPeaks `json:"memory"`
	MemBest   bool              `json:"memory_best,omitempty"`
	ModelSize int64             `json:"model_size,omitempty"` // bytes, for bandwidth efficiency
	BuildInfo string            `json:"build,omitempty"`      // llama-bench "commit (number)"
}

// Table is rows over one set of tests (pp512+tg128, pp8192+tg8192, ...).
type Table struct {
	Tests []string `json:"tests"`
	Rows  []Row    `json:"rows"`
}

// ModelSection is the tables of one model.
type ModelSection struct {
	Model  string  `json:"model"`
	Tables []Table `json:"tables"`
}

// MamfRow summarises one mamf-finder case.
type MamfRow struct {
	Case    string       `json:"case"`
	Backend string       `json:"backend,omitempty"`
	Status  bench.Status `json:"status"`
	Dtype   string       `json:"dtype,omitempty"`
	Mean    float64      `json:"mean_tflops"`
	Median  float64      `json:"median_tflops"`
	Max     float64      `json:"max_tflops"`
	Shape   string       `json:"max_shape,omitempty"`
	PctPeak float64      `json:"pct_peak"` // max / target peak
}

// BandwidthRow summarises one rocm_bandwidth_test case.
type BandwidthRow struct {
	Case     string       `json:"case"`
	Status   bench.Status `json:"status"`
	Version  string       `json:"version,omitempty"`
	GPUCopy  *float64     `json:"gpu_copy_gbs,omitempty"`
	HostToGP *float64     `json:"host_to_gpu_gbs,omitempty"`
	GPUToHst *float64     `json:"gpu_to_host_gbs,omitempty"`
	PctPeak  *float64     `json:"gpu_copy_pct_peak,omitempty"`
}

// Report is a rendered view of one run.
type Report struct {
	RunID     string          `json:"run_id"`
	Suite     string          `json:"suite"`
	Started   time.Time       `json:"started"`
	Host      bench.HostFacts `json:"host"`
	Target    Target          `json:"target"`
	Models    []ModelSection  `json:"models"`
	Mamf      []MamfRow       `json:"mamf,omitempty"`
	Bandwidth []BandwidthRow  `json:"bandwidth,omitempty"`
	Problems  []string        `json:"problems,omitempty"` // cases not shown in a table, with why
}

// BackendLabel is the seed's name for a backend build: cpu -> CPU,
// hip -> HIP, hip-rocwmma -> HIP + rocWMMA, vulkan -> Vulkan. llama-bench's
// own backends field (ROCm, Vulkan, CPU) is accepted too.
func BackendLabel(b string) string {
	switch strings.ToLower(strings.TrimSpace(b)) {
	case "cpu":
		return "CPU"
	case "hip", "rocm", "cuda,rocm":
		return "HIP"
	case "hip-rocwmma", "hip+rocwmma", "rocwmma":
		return "HIP + rocWMMA"
	case "vulkan", "vulkan-radv", "radv":
		return "Vulkan"
	case "vulkan-amdvlk", "amdvlk":
		return "Vulkan (AMDVLK)"
	case "":
		return "unknown backend"
	}
	return b
}

// RowLabel is a backend label with " + FA" when flash attention was on.
func RowLabel(backend string, fa int) string {
	l := BackendLabel(backend)
	if fa == 1 {
		l += " + FA"
	}
	return l
}

// caseConfig is what a case asked llama-bench for, read from its argv: used
// to place cases that produced no numbers (hangs, crashes) in their table.
type caseConfig struct {
	tests  []string
	specs  []testSpec // aligned with tests
	fa     int
	nBatch int
	nUb    int
}

// testSpec is one llama-bench test: prompt and generated tokens at a depth.
type testSpec struct{ p, n, d int }

func (s testSpec) label() string {
	return llamabench.Record{NPrompt: s.p, NGen: s.n, NDepth: s.d}.Label()
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// argsConfig reads -p, -n, -pg, -d, -fa, -b, -ub from a llama-bench argv,
// with llama-bench's defaults (-p 512 -n 128, -b 2048, -ub 512).
func argsConfig(args []string) caseConfig {
	cfg := caseConfig{fa: -1, nBatch: 2048, nUb: 512}
	prompts, gens, depths := []int{512}, []int{128}, []int{0}
	var pg [][2]int
	for i := 0; i+1 < len(args); i++ {
		v := args[i+1]
		switch args[i] {
		case "-p", "--n-prompt":
			prompts = ints(v)
		case "-n", "--n-gen":
			gens = ints(v)
		case "-d", "--n-depth":
			depths = ints(v)
		case "-pg":
			if x := ints(v); len(x) == 2 {
				pg = append(pg, [2]int{x[0], x[1]})
			}
		case "-fa", "--flash-attn":
			switch v {
			case "1", "on", "true":
				cfg.fa = 1
			case "0", "off", "false":
				cfg.fa = 0
			}
		case "-b", "--batch-size":
			if x := ints(v); len(x) > 0 {
				cfg.nBatch = x[0]
			}
		case "-ub", "--ubatch-size":
			if x := ints(v); len(x) > 0 {
				cfg.nUb = x[0]
			}
		}
	}
	for _, d := range depths {
		for _, p := range prompts {
			if p > 0 {
				cfg.specs = append(cfg.specs, testSpec{p: p, d: d})
			}
		}
		for _, n := range gens {
			if n > 0 {
				cfg.specs = append(cfg.specs, testSpec{n: n, d: d})
			}
		}
		for _, x := range pg {
			cfg.specs = append(cfg.specs, testSpec{p: x[0], n: x[1], d: d})
		}
	}
	for _, s := range cfg.specs {
		cfg.tests = append(cfg.tests, s.label())
	}
	return cfg
}

func statusNote(c bench.CaseResult) string {
	switch c.Status {
	case bench.StatusHang:
		return "GPU Hang"
	case bench.StatusCrash:
		return fmt.Sprintf("Crash (exit %d)", c.ExitCode)
	case bench.StatusError:
		return "Error"
	case bench.StatusSkipped:
		return "Skipped"
	case bench.StatusOK:
		return "n/a"
	}
	return string(c.Status)
}

type rowKey struct {
	backend   string
	fa        int
	nb, nub   int
	modelFile string
}

type rowAcc struct {
	key    rowKey
	row    Row
	byTest map[string]Cell
	order  int
}

type tableAcc struct {
	tests []string
	rows  map[rowKey]*rowAcc
	order []rowKey
}

type modelAcc struct {
	name   string
	tables map[string]*tableAcc
	order  []string
}

func maxPeak(a, b *float64) *float64 {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case *b > *a:
		return b
	}
	return a
}

func modelName(c bench.CaseResult) string {
	if c.Model != "" {
		return c.Model
	}
	for _, r := range c.Llama {
		if r.ModelFile != "" {
			return strings.TrimSuffix(path.Base(r.ModelFile), ".gguf")
		}
		if r.ModelType != "" {
			return r.ModelType
		}
	}
	return "unknown model"
}

func backendOf(c bench.CaseResult, r *llamabench.Record) string {
	if c.Backend != "" {
		return c.Backend
	}
	if r != nil && r.Backends != "" {
		return r.Backends
	}
	return ""
}

// Build lays a run out as report tables.
func Build(run bench.Run, t Target) Report {
	rep := Report{RunID: run.ID, Suite: run.Suite, Started: run.Started, Host: run.Host, Target: t}
	models := map[string]*modelAcc{}
	var modelOrder []string
	seq := 0
	place := func(model string, tests []string, key rowKey, c bench.CaseResult) *rowAcc {
		m := models[model]
		if m == nil {
			m = &modelAcc{name: model, tables: map[string]*tableAcc{}}
			models[model] = m
			modelOrder = append(modelOrder, model)
		}
		tk := strings.Join(tests, "|")
		tb := m.tables[tk]
		if tb == nil {
			tb = &tableAcc{tests: tests, rows: map[rowKey]*rowAcc{}}
			m.tables[tk] = tb
			m.order = append(m.order, tk)
		}
		ra := tb.rows[key]
		if ra == nil {
			seq++
			ra = &rowAcc{key: key, byTest: map[string]Cell{}, order: seq, row: Row{
				Backend: key.backend, FlashAttn: key.fa, NBatch: key.nb, NUbatch: key.nub,
			}}
			tb.rows[key] = ra
			tb.order = append(tb.order, key)
		}
		ra.row.Cases = appendUnique(ra.row.Cases, c.ID)
		ra.row.Memory.VRAMMiB = maxPeak(ra.row.Memory.VRAMMiB, c.Memory.VRAMMiB)
		ra.row.Memory.GTTMiB = maxPeak(ra.row.Memory.GTTMiB, c.Memory.GTTMiB)
		ra.row.Memory.RAMMiB = maxPeak(ra.row.Memory.RAMMiB, c.Memory.RAMMiB)
		return ra
	}
	for _, c := range run.Cases {
		switch {
		case c.Tool == bench.ToolMamf || c.Mamf != nil:
			rep.Mamf = append(rep.Mamf, mamfRow(c, t))
			continue
		case c.Tool == bench.ToolRBT || c.Bandwidth != nil:
			rep.Bandwidth = append(rep.Bandwidth, bandwidthRow(c, t))
			continue
		case c.Tool != bench.ToolLlamaBench && len(c.Llama) == 0:
			rep.Problems = append(rep.Problems, fmt.Sprintf("case %s: unknown tool %q, not shown", c.ID, c.Tool))
			continue
		}
		model := modelName(c)
		if c.Status != bench.StatusOK || len(c.Llama) == 0 {
			cfg := argsConfig(c.Args)
			key := rowKey{backend: backendOf(c, nil), fa: cfg.fa, nb: cfg.nBatch, nub: cfg.nUb}
			note := statusNote(c)
			if c.Status == bench.StatusOK {
				note = "no results"
			}
			ra := place(model, cfg.tests, key, c)
			for _, tst := range cfg.tests {
				ra.byTest[tst] = Cell{Status: c.Status, Note: note}
			}
			continue
		}
		// Group the case's records into rows (one case may sweep -fa 0,1).
		type grp struct {
			key  rowKey
			recs []llamabench.Record
		}
		var groups []*grp
		gi := map[rowKey]*grp{}
		for i := range c.Llama {
			r := c.Llama[i]
			key := rowKey{backend: backendOf(c, &r), fa: r.FlashAttn, nb: r.NBatch, nub: r.NUbatch, modelFile: r.ModelFile}
			g := gi[key]
			if g == nil {
				g = &grp{key: key}
				gi[key] = g
				groups = append(groups, g)
			}
			g.recs = append(g.recs, r)
		}
		for _, g := range groups {
			tests := make([]string, 0, len(g.recs))
			for _, r := range g.recs {
				tests = appendUnique(tests, r.Label())
			}
			ra := place(model, tests, g.key, c)
			for _, r := range g.recs {
				lbl := r.Label()
				if _, dup := ra.byTest[lbl]; dup {
					continue
				}
				st := &Stat{Mean: r.AvgTS, Std: r.StddevTS, Samples: r.SamplesTS}
				cell := Cell{Stat: st, Status: bench.StatusOK}
				switch {
				case r.NPrompt > 0 && r.NGen == 0 && t.PeakTFLOPS > 0:
					v := r.AvgTS / t.PeakTFLOPS
					cell.Efficiency = &v
				case r.NGen > 0 && r.NPrompt == 0 && t.PeakGBs > 0 && r.ModelSize > 0:
					v := r.AvgTS * float64(r.ModelSize) / (t.PeakGBs * 1e9) * 100
					cell.Efficiency = &v
				}
				ra.byTest[lbl] = cell
				if r.ModelSize > 0 {
					ra.row.ModelSize = r.ModelSize
				}
				if r.BuildCommit != "" {
					ra.row.BuildInfo = fmt.Sprintf("%s (%d)", r.BuildCommit, r.BuildNumber)
				}
			}
		}
	}
	for _, mn := range modelOrder {
		m := models[mn]
		sec := ModelSection{Model: mn}
		for _, tk := range m.order {
			tb := m.tables[tk]
			table := Table{Tests: tb.tests}
			for _, k := range tb.order {
				ra := tb.rows[k]
				row := ra.row
				for _, tst := range tb.tests {
					cell, ok := ra.byTest[tst]
					if !ok {
						cell = Cell{Status: bench.StatusOK, Note: "n/a"}
					}
					row.Cells = append(row.Cells, cell)
				}
				table.Rows = append(table.Rows, row)
			}
			labelRows(table.Rows)
			markBest(table)
			sec.Tables = append(sec.Tables, table)
		}
		rep.Models = append(rep.Models, sec)
	}
	return rep
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// labelRows names rows by backend and FA, adding -b/-ub (and the model file)
// only where two rows of the table would otherwise read the same.
func labelRows(rows []Row) {
	base := make([]string, len(rows))
	count := map[string]int{}
	for i, r := range rows {
		base[i] = RowLabel(r.Backend, r.FlashAttn)
		count[base[i]]++
	}
	seen := map[string]int{}
	for i := range rows {
		l := base[i]
		if count[l] > 1 {
			l += batchSuffix(rows[i].NBatch, rows[i].NUbatch)
		}
		seen[l]++
		if seen[l] > 1 {
			l += fmt.Sprintf(" #%d", seen[l])
		}
		rows[i].Label = l
	}
}

func memTotal(m bench.MemoryPeaks) (float64, bool) {
	if m.VRAMMiB == nil && m.GTTMiB == nil {
		return 0, false
	}
	var t float64
	if m.VRAMMiB != nil {
		t += *m.VRAMMiB
	}
	if m.GTTMiB != nil {
		t += *m.GTTMiB
	}
	return t, true
}

// markBest bolds the highest mean of each test column and the lowest memory,
// when at least two rows have a value to compare.
func markBest(t Table) {
	for j := range t.Tests {
		best, n := -1, 0
		for i, r := range t.Rows {
			if s := r.Cells[j].Stat; s != nil {
				n++
				if best < 0 || s.Mean > t.Rows[best].Cells[j].Stat.Mean {
					best = i
				}
			}
		}
		if n >= 2 {
			t.Rows[best].Cells[j].Best = true
		}
	}
	best, n := -1, 0
	bestV := 0.0
	for i, r := range t.Rows {
		if v, ok := memTotal(r.Memory); ok {
			n++
			if best < 0 || v < bestV {
				best, bestV = i, v
			}
		}
	}
	if n >= 2 {
		t.Rows[best].MemBest = true
	}
}

func mamfRow(c bench.CaseResult, t Target) MamfRow {
	r := MamfRow{Case: c.ID, Backend: c.Backend, Status: c.Status}
	if m := c.Mamf; m != nil {
		r.Dtype, r.Mean, r.Median, r.Max = m.Dtype, m.Mean.TFLOPS, m.Median.TFLOPS, m.Max.TFLOPS
		r.Shape = fmt.Sprintf("%dx%dx%d", m.Max.M, m.Max.N, m.Max.K)
		if t.PeakTFLOPS > 0 {
			r.PctPeak = m.Max.TFLOPS / t.PeakTFLOPS * 100
		}
	}
	return r
}

func bandwidthRow(c bench.CaseResult, t Target) BandwidthRow {
	r := BandwidthRow{Case: c.ID, Status: c.Status}
	if b := c.Bandwidth; b != nil {
		r.Version, r.GPUCopy, r.HostToGP, r.GPUToHst = b.Version, b.GPUCopyGBs, b.HostToGPUGBs, b.GPUToHostGBs
		if b.GPUCopyGBs != nil && t.PeakGBs > 0 {
			v := *b.GPUCopyGBs / t.PeakGBs * 100
			r.PctPeak = &v
		}
	}
	return r
}
