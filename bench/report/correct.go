package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/correct"
)

// Correctness is a backend's reference check on one model: the KL
// divergence of its token distributions from the CPU backend's over the
// shipped text (bench/correct), shown next to its t/s.
type Correctness struct {
	Case    string       `json:"case"`
	Model   string       `json:"model"`
	Backend string       `json:"backend"`
	Status  bench.Status `json:"status"`
	// Verdict is ok, wrong, reference (the CPU run itself), or the status
	// of a check that produced no figures (fallback, crash, skipped, ...).
	Verdict string   `json:"verdict"`
	MeanKLD *float64 `json:"mean_kld,omitempty"`
	KLD99   *float64 `json:"kld_p99,omitempty"`
	SameTop *float64 `json:"same_top_pct,omitempty"`
	PPL     *float64 `json:"ppl,omitempty"`
	Device  string   `json:"device,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// correctnessRow reads one llama-perplexity case.
func correctnessRow(c bench.CaseResult) Correctness {
	k := Correctness{Case: c.ID, Model: c.Model, Backend: c.Backend, Status: c.Status, Verdict: string(c.Status), Note: c.Error}
	if r := c.Correct; r != nil {
		k.MeanKLD, k.KLD99, k.SameTop, k.Device = r.MeanKLD, r.KLD99, r.SameTop, r.Device
		ppl := r.PPL
		k.PPL = &ppl
		if c.Status == bench.StatusOK || c.Status == bench.StatusWrong {
			k.Verdict = r.Verdict
		}
		if r.Why != "" {
			k.Note = r.Why
		}
	}
	if c.Placement != nil && c.Placement.Note != "" && k.Note == "" {
		k.Note = c.Placement.Note
	}
	return k
}

// attachCorrectness puts each backend's check of model on its rows; a
// wrong backend's t/s cells are marked and never bold.
func attachCorrectness(model string, rows []Row, checks []Correctness) {
	for i := range rows {
		for _, k := range checks {
			if k.Model == model && strings.EqualFold(normBackend(k.Backend), normBackend(rows[i].Backend)) {
				k := k
				rows[i].Correct = &k
			}
		}
		if rows[i].wrong() {
			for j := range rows[i].Cells {
				rows[i].Cells[j].Note = correct.VerdictWrong
			}
		}
	}
}

// wrong reports whether the row's backend failed its reference check.
func (r Row) wrong() bool { return r.Correct != nil && r.Correct.Verdict == correct.VerdictWrong }

// hasCorrectness reports whether any row of t has a reference check.
func hasCorrectness(t Table) bool {
	for _, r := range t.Rows {
		if r.Correct != nil {
			return true
		}
	}
	return false
}

// correctCells are a row's "KLD vs CPU" and "same top %" cells; a wrong
// verdict is marked bad (bold in markdown, red in HTML) in place of a best.
func correctCells(r Row) []gridCell {
	k := r.Correct
	switch {
	case k == nil:
		return plain("", "")
	case k.Verdict == correct.VerdictReference:
		return plain("reference", "")
	case k.MeanKLD == nil:
		note := k.Verdict
		if k.Status == bench.StatusFallback && k.Note != "" {
			note, _, _ = strings.Cut(k.Note, " (")
		}
		return plain(note, "")
	}
	kld := gridCell{Text: fmt.Sprintf("%.6f", *k.MeanKLD)}
	if k.Verdict == correct.VerdictWrong {
		kld = gridCell{Text: "wrong " + kld.Text, Wrong: true}
	}
	same := ""
	if k.SameTop != nil {
		same = fmt.Sprintf("%.2f", *k.SameTop)
	}
	return []gridCell{kld, {Text: same}}
}

// compareCorrectness judges the reference checks of two runs: a backend
// that was ok and is now wrong (or no longer produces figures) is a
// regression, like a slower build; the reverse an improvement.
func compareCorrectness(base, next bench.Run) []Delta {
	side := func(run bench.Run, c bench.CaseResult) *Side {
		k := correctnessRow(c)
		note := k.Verdict
		if k.MeanKLD != nil {
			note = fmt.Sprintf("KLD %.6f", *k.MeanKLD)
			if k.SameTop != nil {
				note += fmt.Sprintf(", same top %.2f %%", *k.SameTop)
			}
			note += ": " + k.Verdict
		}
		return &Side{Run: run.ID, Case: c.ID, Status: c.Status, Note: note}
	}
	checks := func(run bench.Run) map[string]bench.CaseResult {
		m := map[string]bench.CaseResult{}
		for _, c := range run.Cases {
			if c.Tool == bench.ToolPerplexity && c.Backend != "cpu" {
				m[c.ID] = c
			}
		}
		return m
	}
	good := func(c bench.CaseResult) bool {
		return c.Status == bench.StatusOK && c.Correct != nil && c.Correct.Verdict == correct.VerdictOK
	}
	bm, nm := checks(base), checks(next)
	var out []Delta
	for _, c := range base.Cases {
		b, ok := bm[c.ID]
		if !ok {
			continue
		}
		key := CaseKey{Model: b.Model, Backend: normBackend(b.Backend), Check: "KLD vs CPU"}
		n, ok := nm[c.ID]
		if !ok {
			out = append(out, Delta{Key: key, Base: side(base, b), Verdict: Missing})
			continue
		}
		d := Delta{Key: key, Base: side(base, b), New: side(next, n)}
		switch bg, ng := good(b), good(n); {
		case bg && !ng:
			d.Verdict, d.Significant = Regression, true
		case !bg && ng:
			d.Verdict, d.Significant = Improvement, true
		case !bg && !ng:
			d.Verdict = Failing
		default:
			d.Verdict = Unchanged
		}
		out = append(out, d)
	}
	for _, c := range next.Cases {
		if n, ok := nm[c.ID]; ok {
			if _, inBase := bm[c.ID]; !inBase {
				out = append(out, Delta{Key: CaseKey{Model: n.Model, Backend: normBackend(n.Backend), Check: "KLD vs CPU"}, New: side(next, n), Verdict: Added})
			}
		}
	}
	return out
}

// fallbackNote is a table cell's note for a case that ran off its backend
// ("no GPU: did not run on HIP") or failed its reference check ("wrong").
func fallbackNote(c bench.CaseResult) string {
	if c.Status == bench.StatusWrong {
		return correct.VerdictWrong
	}
	if c.Placement != nil && c.Placement.Note != "" {
		n, _, _ := strings.Cut(c.Placement.Note, " (")
		return n
	}
	return string(c.Status)
}

// correctnessTable writes the reference checks: every backend's KL
// divergence from the CPU backend, 99th percentile, same top token and
// perplexity over the shipped text, and the verdict.
func (r Report) correctnessTable(w io.Writer) {
	if len(r.Correctness) == 0 {
		return
	}
	_, _ = fmt.Fprintf(w, "\n## Correctness: KL divergence from the CPU backend\n\n")
	var rows [][]string
	opt := func(p *float64, f string) string {
		if p == nil {
			return ""
		}
		return fmt.Sprintf(f, *p)
	}
	for _, k := range r.Correctness {
		v := k.Verdict
		if v == correct.VerdictWrong {
			v = "**wrong**"
		}
		rows = append(rows, []string{k.Model, BackendLabel(k.Backend), opt(k.MeanKLD, "%.6f"), opt(k.KLD99, "%.6f"),
			opt(k.SameTop, "%.2f"), opt(k.PPL, "%.2f"), k.Device, v, k.Note})
	}
	table(w, []string{"Model", "Backend", "KLD vs CPU", "99% KLD", "same top %", "PPL", "Device", "Verdict", "Note"},
		[]bool{false, false, true, true, true, true, false, false, false}, rows)
}
