package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/haloforge/haloforge/bench"
)

// CompareOptions tune a comparison.
type CompareOptions struct {
	// Threshold is the relative change (0.05 = 5 %) below which a change is
	// never a regression or improvement, however significant.
	Threshold float64
	// Alpha is the significance level of Welch's t-test (default 0.05).
	Alpha float64
}

// CaseKey identifies a llama-bench test across runs. Build means the
// llama.cpp build variant (the case's backend: cpu, hip, hip-rocwmma,
// vulkan), not the llama.cpp commit: comparing commits is the point.
type CaseKey struct {
	Model     string `json:"model"`
	Backend   string `json:"backend"`
	FlashAttn int    `json:"flash_attn"`
	NBatch    int    `json:"n_batch"`
	NUbatch   int    `json:"n_ubatch"`
	NPrompt   int    `json:"n_prompt"`
	NGen      int    `json:"n_gen"`
	NDepth    int    `json:"n_depth"`
	// Check names a correctness check ("KLD vs CPU") instead of a test.
	Check string `json:"check,omitempty"`
	// Variant is the suite case's variant: cases that differ only in it
	// are compared apart.
	Variant string `json:"variant,omitempty"`
}

// Test is the llama-bench label of the key (pp512, tg128 @ d4096, ...).
func (k CaseKey) Test() string {
	if k.Check != "" {
		return k.Check
	}
	return testSpec{p: k.NPrompt, n: k.NGen, d: k.NDepth}.label()
}

var testLabelRE = regexp.MustCompile(`^(?:pp(\d+)\+tg(\d+)|pp(\d+)|tg(\d+))(?: @ d(\d+))?$`)

// ParseTest reads a llama-bench test label (pp512, tg128, pp512+tg128,
// pp512 @ d4096) back into n_prompt, n_gen and n_depth.
func ParseTest(label string) (nPrompt, nGen, nDepth int, ok bool) {
	m := testLabelRE.FindStringSubmatch(strings.TrimSpace(label))
	if m == nil {
		return 0, 0, 0, false
	}
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	switch {
	case m[1] != "":
		nPrompt, nGen = n(m[1]), n(m[2])
	case m[3] != "":
		nPrompt = n(m[3])
	default:
		nGen = n(m[4])
	}
	return nPrompt, nGen, n(m[5]), true
}

// Label is the row label the report uses, with -b/-ub when not default.
func (k CaseKey) Label() string {
	l := RowLabel(k.Backend, k.FlashAttn) + batchSuffix(k.NBatch, k.NUbatch)
	if k.Variant != "" {
		l += " [" + k.Variant + "]"
	}
	return l
}

// batchSuffix is a row label's " b256" (the seed post's "Vulkan b256"),
// " b256 ub128", naming the batch sizes that are not llama-bench's defaults
// (-b 2048, -ub 512; 0 is unknown), or "".
func batchSuffix(nBatch, nUbatch int) string {
	s := ""
	if nBatch != 0 && nBatch != 2048 {
		s += fmt.Sprintf(" b%d", nBatch)
	}
	if nUbatch != 0 && nUbatch != 512 {
		s += fmt.Sprintf(" ub%d", nUbatch)
	}
	return s
}

// extraKeys are further llama-bench key properties (compare-llama-bench.py's
// list, plus newer fields). They must agree where both sides printed them; a
// field only one llama-bench version prints is ignored.
var extraKeys = []string{
	"type_k", "type_v", "n_gpu_layers", "n_cpu_moe", "split_mode", "main_gpu", "no_kv_offload",
	"embeddings", "tensor_split", "tensor_buft_overrides", "use_mmap", "use_direct_io", "load_mode",
	"cpu_mask", "cpu_strict", "poll", "n_threads", "devices", "no_op_offload", "no_host",
	"fit_target", "fit_min_ctx", "model_filename",
}

// CompareFields are the llama-bench fields besides the typed ones that
// Compare reads from each record's Fields: a store loading runs for a
// comparison needs to decode only these (store.Results.RunFields).
func CompareFields() []string { return slices.Clone(extraKeys) }

// Side is one run's measurement of a case.
type Side struct {
	Run    string       `json:"run"`
	Case   string       `json:"case"`
	Status bench.Status `json:"status"`
	Note   string       `json:"note,omitempty"`
	Stat   *Stat        `json:"stat,omitempty"`
	Build  string       `json:"build,omitempty"`
	// extra holds normValue of each extraKeys field the record printed,
	// indexed like extraKeys; absent fields are noExtra.
	extra []string
}

// Verdict is the outcome for one case.
type Verdict string

// Verdicts.
const (
	Regression  Verdict = "regression"   // slower beyond the threshold and significant, or now failing
	Improvement Verdict = "improvement"  // faster beyond the threshold and significant, or now passing
	Noise       Verdict = "inconclusive" // beyond the threshold but within the spread (not significant)
	Unchanged   Verdict = "unchanged"    // within the threshold
	Failing     Verdict = "failing"      // failed in both runs
	Missing     Verdict = "missing"      // in BASE only
	Added       Verdict = "new"          // in NEW only
)

// Delta is one matched case.
type Delta struct {
	Key         CaseKey  `json:"key"`
	Base        *Side    `json:"base,omitempty"`
	New         *Side    `json:"new,omitempty"`
	ChangePct   *float64 `json:"change_pct,omitempty"`
	Method      string   `json:"method,omitempty"` // welch, spread, none
	PValue      *float64 `json:"p_value,omitempty"`
	Significant bool     `json:"significant"`
	Verdict     Verdict  `json:"verdict"`
}

// Comparison is the result of comparing two runs.
type Comparison struct {
	Base      string  `json:"base"`
	New       string  `json:"new"`
	Threshold float64 `json:"threshold"`
	Alpha     float64 `json:"alpha"`
	Deltas    []Delta `json:"deltas"`
}

// Regressions returns the deltas judged regressions.
func (c Comparison) Regressions() []Delta { return c.only(Regression) }

// Improvements returns the deltas judged improvements.
func (c Comparison) Improvements() []Delta { return c.only(Improvement) }

func (c Comparison) only(v Verdict) []Delta {
	var out []Delta
	for _, d := range c.Deltas {
		if d.Verdict == v {
			out = append(out, d)
		}
	}
	return out
}

type entry struct {
	key  CaseKey
	side Side
	used bool
}

func normValue(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "1"
		}
		return "0"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		switch x {
		case "true":
			return "1"
		case "false":
			return "0"
		}
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func entries(run bench.Run) []*entry {
	var out []*entry
	for _, c := range run.Cases {
		if c.Tool != bench.ToolLlamaBench && len(c.Llama) == 0 {
			continue
		}
		if c.Status != bench.StatusOK || len(c.Llama) == 0 {
			cfg := argsConfig(c.Args)
			for _, s := range cfg.specs {
				out = append(out, &entry{
					key: CaseKey{Model: modelName(c), Backend: normBackend(backendOf(c, nil)), FlashAttn: cfg.fa,
						NBatch: cfg.nBatch, NUbatch: cfg.nUb, NPrompt: s.p, NGen: s.n, NDepth: s.d, Variant: c.Variant},
					side: Side{Run: run.ID, Case: c.ID, Status: c.Status, Note: statusNote(c)},
				})
			}
			continue
		}
		for i := range c.Llama {
			r := c.Llama[i]
			e := &entry{
				key: CaseKey{Model: recModel(c, &r), Backend: normBackend(backendOf(c, &r)), FlashAttn: r.FlashAttn,
					NBatch: r.NBatch, NUbatch: r.NUbatch, NPrompt: r.NPrompt, NGen: r.NGen, NDepth: r.NDepth, Variant: c.Variant},
				side: Side{Run: run.ID, Case: c.ID, Status: bench.StatusOK,
					Stat: &Stat{Mean: r.AvgTS, Std: r.StddevTS, Samples: r.SamplesTS}},
			}
			if r.BuildCommit != "" {
				e.side.Build = r.BuildCommit + " (" + strconv.Itoa(r.BuildNumber) + ")"
			}
			if len(r.Fields) > 0 {
				e.side.extra = make([]string, len(extraKeys))
				for i, k := range extraKeys {
					if v, ok := r.Fields[k]; ok {
						e.side.extra[i] = normValue(v)
					} else {
						e.side.extra[i] = noExtra
					}
				}
			}
			out = append(out, e)
		}
	}
	return out
}

// normBackend maps llama-bench's backends names and haloforge's backend ids
// onto one label, so an import without --backend still matches.
func normBackend(b string) string { return BackendLabel(b) }

// noExtra marks an extraKeys field a record did not print (normValue never
// returns it).
const noExtra = "\x00"

// extrasAgree: every field both records printed has the same value.
func extrasAgree(a, b []string) bool {
	if a == nil || b == nil {
		return true
	}
	for i, va := range a {
		if vb := b[i]; va != noExtra && vb != noExtra && va != vb {
			return false
		}
	}
	return true
}

// Compare matches NEW's llama-bench tests to BASE's by key and judges each.
//
// Significance: with at least two samples on each side, Welch's unequal-
// variance t-test on samples_ts (two-sided, p < Alpha). Without samples (md,
// csv or sql imports), the change is significant when the intervals
// mean ± stddev of the two runs do not overlap; with no spread at all
// (single repetitions) every change counts as significant, so the threshold
// alone decides. A change is a regression only when it is both significant
// and beyond the threshold; beyond the threshold but not significant it is
// reported as inconclusive. A case that ran in BASE and failed (hang, crash) in NEW
// is a regression.
func Compare(base, next bench.Run, o CompareOptions) Comparison {
	if o.Alpha <= 0 {
		o.Alpha = 0.05
	}
	cmp := Comparison{Base: base.ID, New: next.ID, Threshold: o.Threshold, Alpha: o.Alpha}
	be, ne := entries(base), entries(next)
	idx := map[CaseKey][]*entry{}
	for _, e := range ne {
		idx[e.key] = append(idx[e.key], e)
	}
	for _, b := range be {
		var match *entry
		for _, n := range idx[b.key] {
			if !n.used && extrasAgree(b.side.extra, n.side.extra) {
				match = n
				break
			}
		}
		bs := b.side
		if match == nil {
			cmp.Deltas = append(cmp.Deltas, Delta{Key: b.key, Base: &bs, Verdict: Missing})
			continue
		}
		match.used = true
		ns := match.side
		cmp.Deltas = append(cmp.Deltas, judge(b.key, &bs, &ns, o))
	}
	for _, n := range ne {
		if !n.used {
			ns := n.side
			cmp.Deltas = append(cmp.Deltas, Delta{Key: n.key, New: &ns, Verdict: Added})
		}
	}
	cmp.Deltas = append(cmp.Deltas, compareCorrectness(base, next)...) // correct.go
	return cmp
}

func judge(k CaseKey, b, n *Side, o CompareOptions) Delta {
	d := Delta{Key: k, Base: b, New: n}
	switch {
	case b.Stat == nil && n.Stat == nil:
		d.Verdict = Failing
		return d
	case b.Stat != nil && n.Stat == nil:
		d.Verdict, d.Significant = Regression, true
		return d
	case b.Stat == nil && n.Stat != nil:
		d.Verdict, d.Significant = Improvement, true
		return d
	}
	bm, nm := b.Stat.Mean, n.Stat.Mean
	if bm <= 0 {
		d.Verdict = Noise
		return d
	}
	ch := (nm - bm) / bm * 100
	d.ChangePct = &ch
	if len(b.Stat.Samples) >= 2 && len(n.Stat.Samples) >= 2 {
		p := welchP(b.Stat.Samples, n.Stat.Samples)
		d.Method, d.PValue, d.Significant = "welch", &p, p < o.Alpha
	} else {
		d.Method = "spread"
		if b.Stat.Std == 0 && n.Stat.Std == 0 {
			d.Method = "none"
			d.Significant = nm != bm
		} else {
			d.Significant = math.Abs(nm-bm) > b.Stat.Std+n.Stat.Std
		}
	}
	beyond := math.Abs(ch) >= o.Threshold*100
	switch {
	case !beyond:
		d.Verdict = Unchanged
	case !d.Significant:
		d.Verdict = Noise
	case ch < 0:
		d.Verdict = Regression
	default:
		d.Verdict = Improvement
	}
	return d
}

func meanVar(x []float64) (m, v float64) {
	for _, a := range x {
		m += a
	}
	m /= float64(len(x))
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	return m, v / float64(len(x)-1)
}

// welchP is the two-sided p-value of Welch's t-test (len(a), len(b) >= 2).
func welchP(a, b []float64) float64 {
	ma, va := meanVar(a)
	mb, vb := meanVar(b)
	na, nb := float64(len(a)), float64(len(b))
	se2 := va/na + vb/nb
	if se2 == 0 {
		if ma == mb {
			return 1
		}
		return 0
	}
	t := (mb - ma) / math.Sqrt(se2)
	df := se2 * se2 / ((va/na)*(va/na)/(na-1) + (vb/nb)*(vb/nb)/(nb-1))
	if math.IsNaN(df) || df <= 0 {
		df = math.Min(na, nb) - 1
	}
	st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	return 2 * st.Survival(math.Abs(t))
}

func (s *Side) text() string {
	if s == nil {
		return "—"
	}
	if s.Stat == nil {
		return s.Note
	}
	return FormatStat(*s.Stat)
}

// Markdown writes the comparison: regressions, improvements, then all.
func (c Comparison) Markdown(out io.Writer) error {
	w := bufio.NewWriter(out)
	_, _ = fmt.Fprintf(w, "# haloforge compare: %s → %s\n\n", c.Base, c.New)
	_, _ = fmt.Fprintf(w, "Threshold %.1f %%, significance: Welch's t-test on samples_ts at p < %.2f (mean ± stddev overlap without samples).\n",
		c.Threshold*100, c.Alpha)
	sorted := append([]Delta(nil), c.Deltas...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].Key, sorted[j].Key
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return false
	})
	section := func(title string, ds []Delta) {
		_, _ = fmt.Fprintf(w, "\n## %s (%d)\n\n", title, len(ds))
		if len(ds) == 0 {
			_, _ = fmt.Fprintln(w, "None.")
			return
		}
		var rows [][]string
		for _, d := range ds {
			ch, p := "", ""
			if d.ChangePct != nil {
				ch = fmt.Sprintf("%+.1f %%", *d.ChangePct)
			}
			switch {
			case d.PValue != nil:
				p = fmt.Sprintf("welch p=%.3f", *d.PValue)
			case d.Method != "":
				p = d.Method
			}
			rows = append(rows, []string{d.Key.Model, d.Key.Label(), d.Key.Test(), d.Base.text(), d.New.text(), ch, p, string(d.Verdict)})
		}
		table(w, []string{"Model", "Run", "Test", "Base (t/s)", "New (t/s)", "Change", "Significance", "Verdict"},
			[]bool{false, false, false, true, true, true, false, false}, rows)
	}
	c2 := Comparison{Deltas: sorted}
	section("Regressions", c2.Regressions())
	section("Improvements", c2.Improvements())
	if inc := c2.only(Noise); len(inc) > 0 {
		section("Inconclusive: beyond the threshold but within run-to-run spread", inc)
	}
	section("All cases", sorted)
	return w.Flush()
}

// JudgeSamples judges one case measured twice, as t/s samples (one per
// repetition), exactly as Compare judges a matched case; an empty side is a
// case that produced no numbers.
func JudgeSamples(base, next []float64, o CompareOptions) Delta {
	if o.Alpha <= 0 {
		o.Alpha = 0.05
	}
	side := func(x []float64) *Side {
		if len(x) == 0 {
			return &Side{}
		}
		m, std := x[0], 0.0
		if len(x) >= 2 {
			var v float64
			m, v = meanVar(x)
			std = math.Sqrt(v)
		}
		return &Side{Stat: &Stat{Mean: m, Std: std, Samples: slices.Clone(x)}}
	}
	return judge(CaseKey{}, side(base), side(next), o)
}
