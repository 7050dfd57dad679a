package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/correct"
)

// FormatStat prints mean ± std with two decimals, as llama-bench does.
func FormatStat(s Stat) string { return fmt.Sprintf("%.2f ± %.2f", s.Mean, s.Std) }

// FormatMemory prints peaks as the seed's VRAM+GTT in MiB ("7+8062"), the
// one figure when only one of them was measured ("4219", as the seed's
// first table shows it), and "" when neither was (the seed leaves the CPU
// rows' cells empty).
func FormatMemory(m bench.MemoryPeaks) string {
	mib := func(p float64) string { return strconv.FormatFloat(p, 'f', 0, 64) }
	switch {
	case m.VRAMMiB != nil && m.GTTMiB != nil:
		return mib(*m.VRAMMiB) + "+" + mib(*m.GTTMiB)
	case m.VRAMMiB != nil:
		return mib(*m.VRAMMiB)
	case m.GTTMiB != nil:
		return mib(*m.GTTMiB)
	}
	return ""
}

func (c Cell) text() string {
	if c.Stat == nil {
		return c.Note
	}
	s := FormatStat(*c.Stat)
	if c.Note == correct.VerdictWrong {
		s += " (wrong)"
	}
	return s
}

func isPP(test string) bool { return strings.HasPrefix(test, "pp") && !strings.Contains(test, "+tg") }
func isTG(test string) bool { return strings.HasPrefix(test, "tg") }

// table writes a padded markdown table; align[i] is true for right-aligned.
func table(w io.Writer, head []string, align []bool, rows [][]string) {
	width := make([]int, len(head))
	for i, h := range head {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if n := utf8.RuneCountInString(c); n > width[i] {
				width[i] = n
			}
		}
	}
	pad := func(s string, i int) string {
		n := width[i] - utf8.RuneCountInString(s)
		if n <= 0 {
			return s
		}
		if align[i] {
			return strings.Repeat(" ", n) + s
		}
		return s + strings.Repeat(" ", n)
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			b.WriteString(" " + pad(c, i) + " |")
		}
		_, _ = fmt.Fprintln(w, b.String())
	}
	line(head)
	sep := make([]string, len(head))
	for i := range head {
		if align[i] {
			sep[i] = strings.Repeat("-", max(width[i]-1, 2)) + ":"
		} else {
			sep[i] = strings.Repeat("-", max(width[i], 3))
		}
	}
	var b strings.Builder
	b.WriteString("|")
	for i, s := range sep {
		b.WriteString(" " + pad(s, i) + " |")
	}
	_, _ = fmt.Fprintln(w, b.String())
	for _, r := range rows {
		line(r)
	}
}

// grid is one rendered table, whatever the output format: markdown and
// HTML both draw it, so they always show the same cells.
type grid struct {
	Head  []string
	Align []bool // right-aligned columns
	Rows  [][]gridCell
}

type gridCell struct {
	Text  string
	Best  bool // bold
	Bad   bool // a hang, crash or error
	Wrong bool // a failed reference check: bold in markdown, marked bad in HTML
}

func (g *grid) col(head string, right bool) {
	g.Head = append(g.Head, head)
	g.Align = append(g.Align, right)
}

func plain(texts ...string) []gridCell {
	out := make([]gridCell, len(texts))
	for i, t := range texts {
		out[i] = gridCell{Text: t}
	}
	return out
}

// markdown writes g as a padded markdown table, bold as **...**.
func (g grid) markdown(w io.Writer) {
	rows := make([][]string, len(g.Rows))
	for i, r := range g.Rows {
		rows[i] = make([]string, len(r))
		for j, c := range r {
			rows[i][j] = c.Text
			if (c.Best || c.Wrong) && c.Text != "" {
				rows[i][j] = "**" + c.Text + "**"
			}
		}
	}
	table(w, g.Head, g.Align, rows)
}

func badStatus(s bench.Status) bool {
	return s == bench.StatusHang || s == bench.StatusCrash || s == bench.StatusError
}

// hasMemory reports whether any row of t has a memory peak: tables without
// any leave the Max Mem column out, as the seed does.
func hasMemory(t Table) bool {
	for _, r := range t.Rows {
		if _, ok := memTotal(r.Memory); ok {
			return true
		}
	}
	return false
}

// resultsGrid is a model's results table: | Run | pp512 (t/s) | ... | Max Mem (MiB) |.
func resultsGrid(t Table) grid {
	var g grid
	g.col("Run", false)
	for _, tst := range t.Tests {
		g.col(tst+" (t/s)", true)
	}
	mem := hasMemory(t)
	if mem {
		g.col("Max Mem (MiB)", true)
	}
	kc := hasCorrectness(t)
	if kc {
		g.col("KLD vs CPU", true)
		g.col("same top %", true)
	}
	for _, row := range t.Rows {
		cells := []gridCell{{Text: row.Label}}
		for _, c := range row.Cells {
			cells = append(cells, gridCell{Text: c.text(), Best: c.Best, Bad: c.Stat == nil && badStatus(c.Status)})
		}
		if mem {
			cells = append(cells, gridCell{Text: FormatMemory(row.Memory), Best: row.MemBest})
		}
		if kc {
			cells = append(cells, correctCells(row)...)
		}
		g.Rows = append(g.Rows, cells)
	}
	return g
}

// efficiencyGrid follows a results table when any cell has an efficiency:
// tok/TFLOP for pp columns, % of peak bandwidth for tg columns. over
// reports a bandwidth above 100 % (see overPeakNote).
func efficiencyGrid(t Table) (g grid, ok, over bool) {
	var cols []int
	for j, tst := range t.Tests {
		if isPP(tst) || isTG(tst) {
			for _, row := range t.Rows {
				if row.Cells[j].Efficiency != nil {
					cols = append(cols, j)
					break
				}
			}
		}
	}
	if len(cols) == 0 {
		return g, false, false
	}
	g.col("Efficiency", false)
	for _, j := range cols {
		if isPP(t.Tests[j]) {
			g.col(t.Tests[j]+" tok/TFLOP", true)
		} else {
			g.col(t.Tests[j]+" % of peak BW", true)
		}
	}
	for _, row := range t.Rows {
		cells := plain(row.Label)
		for _, j := range cols {
			e := row.Cells[j].Efficiency
			switch {
			case e == nil:
				cells = append(cells, gridCell{Text: "n/a"})
			case isPP(t.Tests[j]):
				cells = append(cells, gridCell{Text: f2(*e)})
			case *e > 100:
				over = true
				cells = append(cells, gridCell{Text: fmt.Sprintf("%.1f %% †", *e)})
			default:
				cells = append(cells, gridCell{Text: fmt.Sprintf("%.1f %%", *e)})
			}
		}
		g.Rows = append(g.Rows, cells)
	}
	return g, true, over
}

// mamfGrid is the mamf-finder summary; the % of peak column names the
// target's peak when it has one.
func (r Report) mamfGrid() (g grid, notes []string) {
	pct := "max % of peak"
	if r.Target.PeakTFLOPS > 0 {
		pct = fmt.Sprintf("max %% of %.1f", r.Target.PeakTFLOPS)
	}
	for _, h := range []string{"Case", "device", "torch", "dtype"} {
		g.col(h, false)
	}
	for _, h := range []string{"mean TFLOPS", "median TFLOPS", "max TFLOPS @ MxNxK", pct} {
		g.col(h, true)
	}
	for _, m := range r.Mamf {
		if m.Status != bench.StatusOK {
			g.Rows = append(g.Rows, append(plain(m.Case, m.Device, m.Torch), gridCell{Text: statusWord(m.Status), Bad: badStatus(m.Status)},
				gridCell{}, gridCell{}, gridCell{}, gridCell{}))
			continue
		}
		p := "n/a"
		if m.PctPeak != nil {
			p = fmt.Sprintf("%.1f %%", *m.PctPeak)
		} else if m.PeakNote != "" {
			notes = appendUnique(notes, m.Case+": no % of peak: "+m.PeakNote+".")
		}
		g.Rows = append(g.Rows, plain(m.Case, m.Device, m.Torch, m.Dtype, f2(m.Mean), f2(m.Median), f2(m.Max)+" @ "+m.Shape, p))
	}
	return g, notes
}

// bandwidthGrid is the rocm_bandwidth_test summary.
func (r Report) bandwidthGrid() (g grid, notes []string) {
	pct := "GPU copy % of peak"
	if r.Target.PeakGBs > 0 {
		pct = fmt.Sprintf("GPU copy %% of %.0f", r.Target.PeakGBs)
	}
	g.col("Case", false)
	for _, h := range []string{"GPU copy (GB/s)", "CPU→GPU (GB/s)", "GPU→CPU (GB/s)", pct} {
		g.col(h, true)
	}
	for _, b := range r.Bandwidth {
		if b.Status != bench.StatusOK {
			g.Rows = append(g.Rows, []gridCell{{Text: b.Case}, {Text: statusWord(b.Status), Bad: badStatus(b.Status)}, {}, {}, {}})
			continue
		}
		p := "n/a"
		if b.PctPeak != nil {
			p = fmt.Sprintf("%.1f %%", *b.PctPeak)
		} else if b.PeakNote != "" {
			notes = appendUnique(notes, b.Case+": no % of peak: "+b.PeakNote+".")
		}
		g.Rows = append(g.Rows, plain(b.Case, optF(b.GPUCopy), optF(b.HostToGP), optF(b.GPUToHst), p))
	}
	return g, notes
}

// headline is the report's first sentence: suite, target and its peaks.
func (r Report) headline() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Suite `%s` on %s", r.Suite, r.Target.Name)
	if r.Target.PeakTFLOPS > 0 || r.Target.PeakGBs > 0 {
		fmt.Fprintf(&b, " (peak %.1f TFLOPS FP16/BF16, %.0f GB/s)", r.Target.PeakTFLOPS, r.Target.PeakGBs)
	} else {
		b.WriteString(" (no peak figures known)")
	}
	if !r.Started.IsZero() {
		fmt.Fprintf(&b, ", started %s", r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	}
	b.WriteString(".")
	return b.String()
}

// hostLine lists the host facts the run recorded ("" when none), as one
// sentence: "host strix, kernel 6.18.4, GPU gfx1151 (Radeon 8060S)."
func (r Report) hostLine() string {
	var host []string
	if r.Host.Hostname != "" {
		host = append(host, "host "+r.Host.Hostname)
	}
	if r.Host.Kernel != "" {
		host = append(host, "kernel "+r.Host.Kernel)
	}
	if r.Host.Firmware != "" {
		host = append(host, "linux-firmware "+r.Host.Firmware)
	}
	if r.Host.CPU != "" {
		host = append(host, "CPU "+r.Host.CPU)
	}
	if len(r.Host.GPUs) > 0 {
		host = append(host, "GPU "+strings.Join(r.Host.GPUs, ", "))
	}
	if len(host) == 0 {
		return ""
	}
	return strings.Join(host, ", ") + "."
}

// section is one model's tables in render order.
type section struct {
	Name   string
	Tables []grid
	Notes  []string
}

// sections lays every model out as grids: each results table followed by
// its efficiency table.
func (r Report) sections() []section {
	out := make([]section, 0, len(r.Models))
	for _, m := range r.Models {
		sec := section{Name: m.Model}
		over := false
		for _, t := range m.Tables {
			sec.Tables = append(sec.Tables, resultsGrid(t))
			if g, ok, o := efficiencyGrid(t); ok {
				sec.Tables = append(sec.Tables, g)
				over = over || o
			}
		}
		if over {
			sec.Notes = append(sec.Notes, overPeakNote)
		}
		out = append(out, sec)
	}
	return out
}

// Markdown writes the report as markdown.
func (r Report) Markdown(out io.Writer) error {
	w := bufio.NewWriter(out)
	_, _ = fmt.Fprintf(w, "# haloforge report: %s\n\n", r.RunID)
	_, _ = fmt.Fprintln(w, r.headline())
	if h := r.hostLine(); h != "" {
		_, _ = fmt.Fprintln(w, h)
	}
	for _, sec := range r.sections() {
		_, _ = fmt.Fprintf(w, "\n## %s\n", sec.Name)
		for _, g := range sec.Tables {
			_, _ = fmt.Fprintln(w)
			g.markdown(w)
		}
		for _, n := range sec.Notes {
			_, _ = fmt.Fprintln(w, "\n"+n)
		}
	}
	r.correctnessTable(w)
	if len(r.Mamf) > 0 {
		_, _ = fmt.Fprintf(w, "\n## Matmul (mamf-finder)\n\n")
		g, notes := r.mamfGrid()
		g.markdown(w)
		for _, n := range notes {
			_, _ = fmt.Fprintln(w, "\n"+n)
		}
	}
	if len(r.Bandwidth) > 0 {
		_, _ = fmt.Fprintf(w, "\n## Memory bandwidth (rocm_bandwidth_test)\n\n")
		g, notes := r.bandwidthGrid()
		g.markdown(w)
		for _, n := range notes {
			_, _ = fmt.Fprintln(w, "\n"+n)
		}
	}
	r.provenanceTable(w)
	if len(r.Problems) > 0 {
		_, _ = fmt.Fprintf(w, "\n## Not shown\n\n")
		for _, p := range r.Problems {
			_, _ = fmt.Fprintf(w, "- %s\n", p)
		}
	}
	return w.Flush()
}

func statusWord(s bench.Status) string {
	if s == bench.StatusHang {
		return "GPU Hang"
	}
	return string(s)
}

func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func optF(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return f2(*p)
}

// overPeakNote explains a bandwidth efficiency above 100 %.
const overPeakNote = "† above 100 %: the bandwidth figure assumes every weight is read once per token (model size);" +
	" a mixture-of-experts model reads only its active experts, so this is not a real bandwidth."

// JSON writes the report as indented JSON.
func (r Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CSV writes one line per row and test of every llama-bench table, then
// one per figure of every mamf-finder case (mean, median, max TFLOPS) and
// rocm_bandwidth_test case (GPU copy, CPU→GPU, GPU→CPU GB/s), those in the
// value and unit columns. Nothing the other formats show is left out.
func (r Report) CSV(out io.Writer) error {
	w := csv.NewWriter(out)
	_ = w.Write([]string{"run", "tool", "model", "row", "backend", "flash_attn", "n_batch", "n_ubatch", "test", "status", "note",
		"mean_ts", "stddev_ts", "samples", "vram_mib", "gtt_mib", "ram_mib", "efficiency", "efficiency_unit", "cases",
		"value", "unit", "detail"})
	opt := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, m := range r.Models {
		for _, t := range m.Tables {
			for _, row := range t.Rows {
				for j, tst := range t.Tests {
					c := row.Cells[j]
					var mean, std, n, eff, unit string
					if c.Stat != nil {
						mean = num(c.Stat.Mean)
						std = num(c.Stat.Std)
						n = strconv.Itoa(len(c.Stat.Samples))
					}
					if c.Efficiency != nil {
						eff = strconv.FormatFloat(*c.Efficiency, 'f', 4, 64)
						unit = "tok/TFLOP"
						if isTG(tst) {
							unit = "% peak BW"
						}
					}
					_ = w.Write([]string{r.RunID, string(bench.ToolLlamaBench), m.Model, row.Label, row.Backend, strconv.Itoa(row.FlashAttn),
						strconv.Itoa(row.NBatch), strconv.Itoa(row.NUbatch), tst, string(c.Status), c.Note, mean, std, n,
						opt(row.Memory.VRAMMiB), opt(row.Memory.GTTMiB), opt(row.Memory.RAMMiB), eff, unit,
						strings.Join(row.Cases, " "), "", "", ""})
				}
			}
		}
	}
	line := func(tool bench.Tool, model, cs, test string, st bench.Status, note, value, unit, detail string, pct *float64, pctUnit string) {
		eff, eu := "", ""
		if pct != nil {
			eff, eu = strconv.FormatFloat(*pct, 'f', 4, 64), pctUnit
		}
		_ = w.Write([]string{r.RunID, string(tool), model, cs, "", "", "", "", test, string(st), note,
			"", "", "", "", "", "", eff, eu, cs, value, unit, detail})
	}
	for _, m := range r.Mamf {
		if m.Status != bench.StatusOK {
			line(bench.ToolMamf, m.Device, m.Case, "max", m.Status, statusWord(m.Status), "", "", "", nil, "")
			continue
		}
		detail := strings.TrimSpace(strings.Join([]string{m.Dtype, m.Torch}, " "))
		line(bench.ToolMamf, m.Device, m.Case, "mean", m.Status, "", num(m.Mean), "TFLOPS", detail, nil, "")
		line(bench.ToolMamf, m.Device, m.Case, "median", m.Status, "", num(m.Median), "TFLOPS", detail, nil, "")
		line(bench.ToolMamf, m.Device, m.Case, "max", m.Status, m.PeakNote, num(m.Max), "TFLOPS", detail+" @ "+m.Shape, m.PctPeak, "% peak TFLOPS")
	}
	for _, b := range r.Bandwidth {
		if b.Status != bench.StatusOK {
			line(bench.ToolRBT, "", b.Case, "gpu copy", b.Status, statusWord(b.Status), "", "", "", nil, "")
			continue
		}
		line(bench.ToolRBT, "", b.Case, "gpu copy", b.Status, b.PeakNote, opt(b.GPUCopy), "GB/s", b.Version, b.PctPeak, "% peak BW")
		line(bench.ToolRBT, "", b.Case, "cpu to gpu", b.Status, "", opt(b.HostToGP), "GB/s", b.Version, nil, "")
		line(bench.ToolRBT, "", b.Case, "gpu to cpu", b.Status, "", opt(b.GPUToHst), "GB/s", b.Version, nil, "")
	}
	// Reference checks (KLD vs the CPU): one line per figure, the verdict
	// (ok, wrong, reference, or why there are no figures) as the note.
	for _, k := range r.Correctness {
		note := k.Verdict
		if k.Note != "" {
			note += ": " + k.Note
		}
		for _, f := range []struct {
			test, unit string
			v          *float64
		}{{"mean kld", "KLD", k.MeanKLD}, {"kld p99", "KLD", k.KLD99}, {"same top", "%", k.SameTop}, {"ppl", "PPL", k.PPL}} {
			if f.v == nil && f.test != "mean kld" {
				continue
			}
			_ = w.Write([]string{r.RunID, string(bench.ToolPerplexity), k.Model, k.Case, k.Backend, "", "", "", f.test, string(k.Status), note,
				"", "", "", "", "", "", "", "", k.Case, opt(f.v), f.unit, k.Device})
		}
	}
	w.Flush()
	return w.Error()
}
