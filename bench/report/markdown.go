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

// FormatMemory prints peaks as the seed's VRAM+GTT in MiB ("7+8062"), "n/a"
// when neither was measured; a missing half reads "n/a" too.
func FormatMemory(m bench.MemoryPeaks) string {
	if m.VRAMMiB == nil && m.GTTMiB == nil {
		return "n/a"
	}
	part := func(p *float64) string {
		if p == nil {
			return "n/a"
		}
		return strconv.FormatFloat(*p, 'f', 0, 64)
	}
	return part(m.VRAMMiB) + "+" + part(m.GTTMiB)
}

func (c Cell) text() string {
	if c.Stat == nil {
		return c.Note
	}
	s := FormatStat(*c.Stat)
	if c.Best {
		s = "**" + s + "**"
	}
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

// Markdown writes the report as markdown.
func (r Report) Markdown(out io.Writer) error {
	w := bufio.NewWriter(out)
	_, _ = fmt.Fprintf(w, "# haloforge report: %s\n\n", r.RunID)
	_, _ = fmt.Fprintf(w, "Suite `%s` on %s (peak %.1f TFLOPS FP16/BF16, %.0f GB/s)", r.Suite, r.Target.Name, r.Target.PeakTFLOPS, r.Target.PeakGBs)
	if !r.Started.IsZero() {
		_, _ = fmt.Fprintf(w, ", started %s", r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	}
	_, _ = fmt.Fprintln(w, ".")
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
	if len(r.Host.GPUs) > 0 {
		host = append(host, "GPU "+strings.Join(r.Host.GPUs, ", "))
	}
	if len(host) > 0 {
		_, _ = fmt.Fprintf(w, "%s.\n", strings.Join(host, ", "))
	}
	for _, m := range r.Models {
		_, _ = fmt.Fprintf(w, "\n## %s\n", m.Model)
		for _, t := range m.Tables {
			_, _ = fmt.Fprintln(w)
			writeModelTable(w, t)
			r.efficiencyTable(w, t)
		}
	}
	r.correctnessTable(w)
	if len(r.Mamf) > 0 {
		_, _ = fmt.Fprintf(w, "\n## Matmul (mamf-finder)\n\n")
		var rows [][]string
		for _, m := range r.Mamf {
			if m.Status != bench.StatusOK {
				rows = append(rows, []string{m.Case, "", statusWord(m.Status), "", "", ""})
				continue
			}
			rows = append(rows, []string{m.Case, m.Dtype, f2(m.Mean), f2(m.Median), f2(m.Max) + " @ " + m.Shape, fmt.Sprintf("%.1f %%", m.PctPeak)})
		}
		table(w, []string{"Case", "dtype", "mean TFLOPS", "median TFLOPS", "max TFLOPS @ MxNxK", fmt.Sprintf("max %% of %.1f", r.Target.PeakTFLOPS)},
			[]bool{false, false, true, true, true, true}, rows)
	}
	if len(r.Bandwidth) > 0 {
		_, _ = fmt.Fprintf(w, "\n## Memory bandwidth (rocm_bandwidth_test)\n\n")
		var rows [][]string
		for _, b := range r.Bandwidth {
			if b.Status != bench.StatusOK {
				rows = append(rows, []string{b.Case, statusWord(b.Status), "", "", ""})
				continue
			}
			pct := "n/a"
			if b.PctPeak != nil {
				pct = fmt.Sprintf("%.1f %%", *b.PctPeak)
			}
			rows = append(rows, []string{b.Case, optF(b.GPUCopy), optF(b.HostToGP), optF(b.GPUToHst), pct})
		}
		table(w, []string{"Case", "GPU copy (GB/s)", "CPU→GPU (GB/s)", "GPU→CPU (GB/s)", fmt.Sprintf("GPU copy %% of %.0f", r.Target.PeakGBs)},
			[]bool{false, true, true, true, true}, rows)
	}
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

// overPeak reports whether a table has a generation bandwidth above 100 %.
func overPeak(t Table) bool {
	for j, tst := range t.Tests {
		if !isTG(tst) {
			continue
		}
		for _, r := range t.Rows {
			if e := r.Cells[j].Efficiency; e != nil && *e > 100 {
				return true
			}
		}
	}
	return false
}

// efficiencyTable follows a results table when any cell has an efficiency:
// tok/TFLOP for pp columns, % of peak bandwidth for tg columns.
func (r Report) efficiencyTable(w io.Writer, t Table) {
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
		return
	}
	head := []string{"Efficiency"}
	align := []bool{false}
	for _, j := range cols {
		if isPP(t.Tests[j]) {
			head = append(head, t.Tests[j]+" tok/TFLOP")
		} else {
			head = append(head, t.Tests[j]+" % of peak BW")
		}
		align = append(align, true)
	}
	var rows [][]string
	overPeak := false
	for _, row := range t.Rows {
		cells := []string{row.Label}
		for _, j := range cols {
			e := row.Cells[j].Efficiency
			switch {
			case e == nil:
				cells = append(cells, "n/a")
			case isPP(t.Tests[j]):
				cells = append(cells, f2(*e))
			case *e > 100:
				overPeak = true
				cells = append(cells, fmt.Sprintf("%.1f %% †", *e))
			default:
				cells = append(cells, fmt.Sprintf("%.1f %%", *e))
			}
		}
		rows = append(rows, cells)
	}
	_, _ = fmt.Fprintln(w)
	table(w, head, align, rows)
	if overPeak {
		_, _ = fmt.Fprintln(w, "\n"+overPeakNote)
	}
}

// JSON writes the report as indented JSON.
func (r Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CSV writes one line per row and test.
func (r Report) CSV(out io.Writer) error {
	w := csv.NewWriter(out)
	_ = w.Write([]string{"run", "model", "row", "backend", "flash_attn", "n_batch", "n_ubatch", "test", "status", "note",
		"mean_ts", "stddev_ts", "samples", "vram_mib", "gtt_mib", "ram_mib", "efficiency", "efficiency_unit", "cases"})
	opt := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	for _, m := range r.Models {
		for _, t := range m.Tables {
			for _, row := range t.Rows {
				for j, tst := range t.Tests {
					c := row.Cells[j]
					var mean, std, n, eff, unit string
					if c.Stat != nil {
						mean = strconv.FormatFloat(c.Stat.Mean, 'f', -1, 64)
						std = strconv.FormatFloat(c.Stat.Std, 'f', -1, 64)
						n = strconv.Itoa(len(c.Stat.Samples))
					}
					if c.Efficiency != nil {
						eff = strconv.FormatFloat(*c.Efficiency, 'f', 4, 64)
						unit = "tok/TFLOP"
						if isTG(tst) {
							unit = "% peak BW"
						}
					}
					_ = w.Write([]string{r.RunID, m.Model, row.Label, row.Backend, strconv.Itoa(row.FlashAttn),
						strconv.Itoa(row.NBatch), strconv.Itoa(row.NUbatch), tst, string(c.Status), c.Note, mean, std, n,
						opt(row.Memory.VRAMMiB), opt(row.Memory.GTTMiB), opt(row.Memory.RAMMiB), eff, unit,
						strings.Join(row.Cases, " ")})
				}
			}
		}
	}
	w.Flush()
	return w.Error()
}
