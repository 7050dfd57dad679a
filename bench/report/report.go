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
	// Devices are substrings of the device names tools print for this
	// target (mamf-finder's torch device name, llama-bench's gpu_info): a
	// result naming another device is not measured against these peaks.
	Devices []string `json:"-"`
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
	return Target{Name: t.Name, PeakTFLOPS: math.Round(t.PeakTFLOPS()*10) / 10, PeakGBs: t.PeakGBs(),
		Devices: append([]string{t.Name}, t.DeviceNames...)}, true
}

// peakFor is the peak a result measured on device is compared with, or
// why there is none ("" device: the run's target).
func (t Target) peakFor(device string, peak float64) (float64, string) {
	if device != "" && len(t.Devices) > 0 {
		match := false
		for _, d := range t.Devices {
			if strings.Contains(strings.ToLower(device), strings.ToLower(d)) {
				match = true
				break
			}
		}
		if !match {
			return 0, fmt.Sprintf("measured on %s, not %s: no peak known for it", device, t.Name)
		}
	}
	if peak <= 0 {
		return 0, fmt.Sprintf("no peak figure for target %s (pass --peak-tflops/--peak-gbs)", t.Name)
	}
	return peak, ""
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
// Rows are never merged across results that measured the same test: a
// second file with identical settings is a row of its own, labelled by
// what differs (model file, build, test date, source).
type Row struct {
	Label     string            `json:"label"` // HIP, HIP + FA, HIP + WMMA + FA, Vulkan b256 ...
	Backend   string            `json:"backend"`
	FlashAttn int               `json:"flash_attn"`
	NBatch    int               `json:"n_batch,omitempty"`
	NUbatch   int               `json:"n_ubatch,omitempty"`
	Cases     []string          `json:"cases"`
	Cells     []Cell            `json:"cells"` // aligned with Table.Tests
	Memory    bench.MemoryPeaks `json:"memory"`
	MemBest   bool              `json:"memory_best,omitempty"`
	ModelSize int64             `json:"model_size,omitempty"` // bytes, for bandwidth efficiency
	ModelFile string            `json:"model_file,omitempty"` // llama-bench model_filename
	BuildInfo string            `json:"build,omitempty"`      // llama-bench "commit (number)"
	TestDate  string            `json:"test_date,omitempty"`  // first test_time's date (YYYY-MM-DD)
	// Correct is the backend's reference check on the model (correct.go).
	Correct *Correctness `json:"correctness,omitempty"`
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
	Device  string       `json:"device,omitempty"`
	Torch   string       `json:"torch,omitempty"`
	Mean    float64      `json:"mean_tflops"`
	Median  float64      `json:"median_tflops"`
	Max     float64      `json:"max_tflops"`
	Shape   string       `json:"max_shape,omitempty"`
	PctPeak *float64     `json:"pct_peak,omitempty"` // max / the device's peak; nil: PeakNote says why
	// PeakNote says why there is no % of peak.
	PeakNote string `json:"peak_note,omitempty"`
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
	PeakNote string       `json:"peak_note,omitempty"`
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
	// Correctness are the reference checks (KLD vs CPU), see correct.go.
	Correctness []Correctness `json:"correctness,omitempty"`
	// Images are the pipeline-built images the run used (provenance.go).
	Images []ImageProvenance `json:"images,omitempty"`
}

// BackendLabel is the seed's name for a backend build: cpu -> CPU,
// hip -> HIP, hip-rocwmma -> HIP + WMMA, vulkan -> Vulkan. llama-bench's
// own backends field (ROCm, Vulkan, CPU) is accepted too.
func BackendLabel(b string) string {
	switch strings.ToLower(strings.TrimSpace(b)) {
	case "cpu":
		return "CPU"
	case "hip", "rocm", "cuda,rocm":
		return "HIP"
	case "hip-rocwmma", "hip+rocwmma", "rocwmma":
		return "HIP + WMMA" // the seed post's name for the rocWMMA build
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

// statusNote is the cell text of a case without numbers. A hang or a crash
// with kernel-logged GPU faults reads as bench.FailureLabel has it ("GPU
// Reset", "GPU Hang", "Timeout" for a CPU case over its limit, ...).
func statusNote(c bench.CaseResult) string {
	switch c.Status {
	case bench.StatusHang:
		return bench.FailureLabel(c)
	case bench.StatusCrash:
		if len(c.Faults) > 0 {
			return fmt.Sprintf("%s (exit %d)", bench.FailureLabel(c), c.ExitCode)
		}
		return fmt.Sprintf("Crash (exit %d)", c.ExitCode)
	case bench.StatusError:
		return "Error"
	case bench.StatusSkipped:
		return "Skipped"
	case bench.StatusFallback, bench.StatusWrong:
		return fallbackNote(c)
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
	dup       int // 0, or the n-th row of results that measured the same tests again
}

type rowAcc struct {
	key    rowKey
	row    Row
	byTest map[string]Cell
	source string // the case the row's first results came from
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

// modelName is the section a case without results goes under.
func modelName(c bench.CaseResult) string {
	if c.Model != "" {
		return c.Model
	}
	for i := range c.Llama {
		if n := recModel(c, &c.Llama[i]); n != "" {
			return n
		}
	}
	return "unknown model"
}

// recModel names the model of one llama-bench record: the case's model (the
// suite's name, or the import's --model), else llama-bench's model_type,
// which every output format prints, else the model file's base name. An
// output of several models (-m a -m b) names each record's own.
func recModel(c bench.CaseResult, r *llamabench.Record) string {
	switch {
	case c.Model != "":
		return c.Model
	case r.ModelType != "":
		return r.ModelType
	case r.ModelFile != "":
		return strings.TrimSuffix(path.Base(r.ModelFile), ".gguf")
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

// builder accumulates a run's llama-bench results into model sections.
type builder struct {
	models     map[string]*modelAcc
	modelOrder []string
}

// place finds the row of table (model, tests) for key that has none of
// tests measured yet, creating one (the next dup) when every row of that
// key already has them: results are never dropped or merged.
func (b *builder) place(model string, tests []string, key rowKey, c bench.CaseResult) *rowAcc {
	m := b.models[model]
	if m == nil {
		m = &modelAcc{name: model, tables: map[string]*tableAcc{}}
		b.models[model] = m
		b.modelOrder = append(b.modelOrder, model)
	}
	tk := strings.Join(tests, "|")
	tb := m.tables[tk]
	if tb == nil {
		tb = &tableAcc{tests: tests, rows: map[rowKey]*rowAcc{}}
		m.tables[tk] = tb
		m.order = append(m.order, tk)
	}
	var ra *rowAcc
	for key.dup = 0; ; key.dup++ {
		ra = tb.rows[key]
		if ra == nil {
			ra = &rowAcc{key: key, byTest: map[string]Cell{}, source: c.ID, row: Row{
				Backend: key.backend, FlashAttn: key.fa, NBatch: key.nb, NUbatch: key.nub, ModelFile: key.modelFile,
			}}
			tb.rows[key] = ra
			tb.order = append(tb.order, key)
			break
		}
		free := true
		for _, t := range tests {
			if _, taken := ra.byTest[t]; taken {
				free = false
				break
			}
		}
		if free {
			break
		}
	}
	ra.row.Cases = appendUnique(ra.row.Cases, c.ID)
	ra.row.Memory.VRAMMiB = maxPeak(ra.row.Memory.VRAMMiB, c.Memory.VRAMMiB)
	ra.row.Memory.GTTMiB = maxPeak(ra.row.Memory.GTTMiB, c.Memory.GTTMiB)
	ra.row.Memory.RAMMiB = maxPeak(ra.row.Memory.RAMMiB, c.Memory.RAMMiB)
	return ra
}

// Build lays a run out as report tables.
func Build(run bench.Run, t Target) Report {
	rep := Report{RunID: run.ID, Suite: run.Suite, Started: run.Started, Host: run.Host, Target: t,
		Models: []ModelSection{}, Images: builtImages(run)}
	b := &builder{models: map[string]*modelAcc{}}
	for _, c := range run.Cases {
		switch {
		case c.Tool == bench.ToolMamf || c.Mamf != nil:
			rep.Mamf = append(rep.Mamf, mamfRow(c, t))
			continue
		case c.Tool == bench.ToolRBT || c.Bandwidth != nil:
			rep.Bandwidth = append(rep.Bandwidth, bandwidthRow(c, t))
			continue
		case c.Tool == bench.ToolPerplexity || c.Correct != nil:
			rep.Correctness = append(rep.Correctness, correctnessRow(c))
			continue
		case c.Tool != bench.ToolLlamaBench && len(c.Llama) == 0:
			rep.Problems = append(rep.Problems, fmt.Sprintf("case %s: unknown tool %q, not shown", c.ID, c.Tool))
			continue
		}
		if c.Status != bench.StatusOK || len(c.Llama) == 0 {
			cfg := argsConfig(c.Args)
			key := rowKey{backend: backendOf(c, nil), fa: cfg.fa, nb: cfg.nBatch, nub: cfg.nUb}
			note := statusNote(c)
			if c.Status == bench.StatusOK {
				note = "no results"
			}
			ra := b.place(modelName(c), cfg.tests, key, c)
			for _, tst := range cfg.tests {
				ra.byTest[tst] = Cell{Status: c.Status, Note: note}
			}
			continue
		}
		// Group the case's records into rows (one case may sweep -fa 0,1
		// or several models); a test measured twice starts a new group.
		type grp struct {
			model string
			key   rowKey
			recs  []llamabench.Record
			seen  map[string]bool
		}
		var groups []*grp
		type gk struct {
			model string
			key   rowKey
		}
		gi := map[gk]*grp{}
		for i := range c.Llama {
			r := &c.Llama[i]
			k := gk{recModel(c, r), rowKey{backend: backendOf(c, r), fa: r.FlashAttn, nb: r.NBatch, nub: r.NUbatch, modelFile: r.ModelFile}}
			g := gi[k]
			if g == nil || g.seen[r.Label()] {
				g = &grp{model: k.model, key: k.key, seen: map[string]bool{}}
				gi[k] = g
				groups = append(groups, g)
			}
			g.seen[r.Label()] = true
			g.recs = append(g.recs, *r)
		}
		for _, g := range groups {
			tests := make([]string, 0, len(g.recs))
			for _, r := range g.recs {
				tests = appendUnique(tests, r.Label())
			}
			ra := b.place(g.model, tests, g.key, c)
			for _, r := range g.recs {
				ra.byTest[r.Label()] = llamaCell(r, t)
				if r.ModelSize > 0 {
					ra.row.ModelSize = r.ModelSize
				}
				if r.BuildCommit != "" {
					ra.row.BuildInfo = fmt.Sprintf("%s (%d)", r.BuildCommit, r.BuildNumber)
				}
				if d, _, ok := strings.Cut(r.TestTime, "T"); ok && ra.row.TestDate == "" {
					ra.row.TestDate = d
				}
			}
		}
	}
	for _, mn := range b.modelOrder {
		m := b.models[mn]
		sec := ModelSection{Model: mn}
		for _, tk := range m.order {
			tb := m.tables[tk]
			table := Table{Tests: tb.tests}
			var sources []string
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
				sources = append(sources, ra.source)
			}
			attachCorrectness(mn, table.Rows, rep.Correctness)
			labelRows(table.Rows, sources)
			markBest(table)
			sec.Tables = append(sec.Tables, table)
		}
		rep.Models = append(rep.Models, sec)
	}
	return rep
}

// llamaCell is one llama-bench result with its efficiency against t:
// tok/TFLOP for prompt processing, % of peak bandwidth for generation,
// unless the result names a GPU that is not t's.
func llamaCell(r llamabench.Record, t Target) Cell {
	cell := Cell{Stat: &Stat{Mean: r.AvgTS, Std: r.StddevTS, Samples: r.SamplesTS}, Status: bench.StatusOK}
	dev := r.GPUInfo // "" on CPU builds: the run's target
	switch {
	case r.NPrompt > 0 && r.NGen == 0:
		if peak, note := t.peakFor(dev, t.PeakTFLOPS); note == "" {
			v := r.AvgTS / peak
			cell.Efficiency = &v
		}
	case r.NGen > 0 && r.NPrompt == 0 && r.ModelSize > 0:
		if peak, note := t.peakFor(dev, t.PeakGBs); note == "" {
			v := r.AvgTS * float64(r.ModelSize) / (peak * 1e9) * 100
			cell.Efficiency = &v
		}
	}
	return cell
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// labelRows names rows by backend and FA ("HIP + FA"), adding -b/-ub
// ("Vulkan b256") where two rows of the table would otherwise read the same,
// then what else tells them apart: the model file, the llama.cpp build, the
// test date, the case (file) the results came from; "#n" only when nothing
// differs.
func labelRows(rows []Row, sources []string) {
	labels := make([]string, len(rows))
	for i, r := range rows {
		labels[i] = RowLabel(r.Backend, r.FlashAttn)
	}
	parts := []func(i int) string{
		func(i int) string { return batchSuffix(rows[i].NBatch, rows[i].NUbatch) },
		func(i int) string {
			if rows[i].ModelFile == "" {
				return ""
			}
			return " · " + path.Base(rows[i].ModelFile)
		},
		func(i int) string {
			if rows[i].BuildInfo == "" {
				return ""
			}
			return " · build " + rows[i].BuildInfo
		},
		func(i int) string {
			if rows[i].TestDate == "" {
				return ""
			}
			return " · " + rows[i].TestDate
		},
		func(i int) string { return " · " + strings.TrimPrefix(sources[i], "import/") },
	}
	for _, part := range parts {
		groups := map[string][]int{}
		for i, l := range labels {
			groups[l] = append(groups[l], i)
		}
		for _, idx := range groups {
			if len(idx) < 2 {
				continue
			}
			distinct := map[string]bool{}
			for _, i := range idx {
				distinct[part(i)] = true
			}
			if len(distinct) < 2 {
				continue
			}
			for _, i := range idx {
				labels[i] += part(i)
			}
		}
	}
	seen := map[string]int{}
	for i := range rows {
		l := labels[i]
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

// minBestRows is how many rows must have a value before the best is bold:
// with two rows bold says nothing a reader cannot see (the seed post bolds
// its eight- and six-row tables, not its two-row ones).
const minBestRows = 3

// markBest bolds the highest mean of each test column and the lowest memory
// (VRAM+GTT; equal lowest values all bold), when at least minBestRows rows
// have a value to compare.
func markBest(t Table) {
	for j := range t.Tests {
		best, n := -1, 0
		for i, r := range t.Rows {
			if s := r.Cells[j].Stat; s != nil && !r.wrong() {
				n++
				if best < 0 || s.Mean > t.Rows[best].Cells[j].Stat.Mean {
					best = i
				}
			}
		}
		if n >= minBestRows {
			t.Rows[best].Cells[j].Best = true
		}
	}
	n := 0
	bestV := math.Inf(1)
	for _, r := range t.Rows {
		if v, ok := memTotal(r.Memory); ok {
			n++
			bestV = math.Min(bestV, v)
		}
	}
	if n < minBestRows {
		return
	}
	for i, r := range t.Rows {
		if v, ok := memTotal(r.Memory); ok && v == bestV {
			t.Rows[i].MemBest = true
		}
	}
}

func mamfRow(c bench.CaseResult, t Target) MamfRow {
	r := MamfRow{Case: c.ID, Backend: c.Backend, Status: c.Status}
	if m := c.Mamf; m != nil {
		r.Dtype, r.Mean, r.Median, r.Max = m.Dtype, m.Mean.TFLOPS, m.Median.TFLOPS, m.Max.TFLOPS
		r.Device, r.Torch = m.Device, m.Torch
		r.Shape = fmt.Sprintf("%dx%dx%d", m.Max.M, m.Max.N, m.Max.K)
		if peak, note := t.peakFor(m.Device, t.PeakTFLOPS); note != "" {
			r.PeakNote = note
		} else {
			v := m.Max.TFLOPS / peak * 100
			r.PctPeak = &v
		}
	}
	return r
}

func bandwidthRow(c bench.CaseResult, t Target) BandwidthRow {
	r := BandwidthRow{Case: c.ID, Status: c.Status}
	if b := c.Bandwidth; b != nil {
		r.Version, r.GPUCopy, r.HostToGP, r.GPUToHst = b.Version, b.GPUCopyGBs, b.HostToGPUGBs, b.GPUToHostGBs
		if b.GPUCopyGBs != nil {
			if peak, note := t.peakFor("", t.PeakGBs); note != "" {
				r.PeakNote = note
			} else {
				v := *b.GPUCopyGBs / peak * 100
				r.PctPeak = &v
			}
		}
	}
	return r
}
