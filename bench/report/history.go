package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/haloforge/haloforge/bench"
)

// VersionLabelPrefixes are the image labels history watches for component
// version changes (besides llama-bench's own build commit and number).
var VersionLabelPrefixes = []string{"io.haloforge.", "org.opencontainers.image.version", "org.opencontainers.image.revision"}

// HistoryPoint is one run's measurement of a series.
type HistoryPoint struct {
	Run      string            `json:"run"`
	Started  time.Time         `json:"started"`
	Case     string            `json:"case"`
	Status   bench.Status      `json:"status"`
	Note     string            `json:"note,omitempty"`
	Stat     *Stat             `json:"stat,omitempty"`
	Versions map[string]string `json:"versions,omitempty"` // llama.cpp build, image labels, kernel, firmware
	Changes  []string          `json:"changes,omitempty"`  // what changed since the previous point
}

// Series is one case (model, backend, flags, test) across runs.
type Series struct {
	Key    CaseKey        `json:"key"`
	Points []HistoryPoint `json:"points"`
}

// History is every series found in the runs given, oldest run first.
type History struct {
	Series []Series `json:"series"`
}

func caseVersions(run bench.Run, c bench.CaseResult, build string) map[string]string {
	v := map[string]string{}
	if build != "" {
		v["llama.cpp build"] = build
	}
	img, ok := run.Images[c.Image]
	if !ok && c.Image == "" && len(run.Images) == 1 {
		for _, i := range run.Images {
			img, ok = i, true
		}
	}
	if ok {
		for k, val := range img.Labels {
			for _, p := range VersionLabelPrefixes {
				if strings.HasPrefix(k, p) {
					v[k] = val
				}
			}
		}
	}
	if run.Host.Kernel != "" {
		v["kernel"] = run.Host.Kernel
	}
	if run.Host.Firmware != "" {
		v["linux-firmware"] = run.Host.Firmware
	}
	return v
}

// BuildHistory collects series from runs (in the order given, oldest
// first), keeping tests whose label equals test when test is not empty, and
// marks each point where a component version changed from the previous one.
func BuildHistory(runs []bench.Run, test string) History {
	idx := map[CaseKey]int{}
	var h History
	sorted := append([]bench.Run(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Started.Before(sorted[j].Started) })
	for _, run := range sorted {
		caseByID := map[string]bench.CaseResult{}
		for _, c := range run.Cases {
			caseByID[c.ID] = c
		}
		for _, e := range entries(run) {
			if test != "" && e.key.Test() != test {
				continue
			}
			c := caseByID[e.side.Case]
			p := HistoryPoint{Run: run.ID, Started: run.Started, Case: e.side.Case, Status: e.side.Status,
				Note: e.side.Note, Stat: e.side.Stat, Versions: caseVersions(run, c, e.side.Build)}
			i, ok := idx[e.key]
			if !ok {
				i = len(h.Series)
				idx[e.key] = i
				h.Series = append(h.Series, Series{Key: e.key})
			}
			s := &h.Series[i]
			if n := len(s.Points); n > 0 {
				p.Changes = versionChanges(s.Points[n-1].Versions, p.Versions)
			}
			s.Points = append(s.Points, p)
		}
	}
	return h
}

func versionChanges(prev, cur map[string]string) []string {
	keys := map[string]bool{}
	for k := range prev {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		a, b := prev[k], cur[k]
		if a == b {
			continue
		}
		if a == "" {
			a = "(none)"
		}
		if b == "" {
			b = "(none)"
		}
		out = append(out, fmt.Sprintf("%s %s → %s", k, a, b))
	}
	sort.Strings(out)
	return out
}

// Markdown writes one table per series; a run where a component version
// changed is marked with ▶ and the change is spelled out.
func (h History) Markdown(out io.Writer) error {
	w := bufio.NewWriter(out)
	if len(h.Series) == 0 {
		_, _ = fmt.Fprintln(w, "No matching cases stored.")
		return w.Flush()
	}
	for i, s := range h.Series {
		if i > 0 {
			_, _ = fmt.Fprintln(w)
		}
		_, _ = fmt.Fprintf(w, "## %s · %s · %s\n\n", s.Key.Model, s.Key.Label(), s.Key.Test())
		var rows [][]string
		for j, p := range s.Points {
			t := p.Note
			if p.Stat != nil {
				t = FormatStat(*p.Stat)
			}
			mark, change := "", ""
			if len(p.Changes) > 0 {
				mark = "▶ "
				change = strings.Join(p.Changes, "; ")
			}
			delta := ""
			if j > 0 && p.Stat != nil && s.Points[j-1].Stat != nil && s.Points[j-1].Stat.Mean > 0 {
				delta = fmt.Sprintf("%+.1f %%", (p.Stat.Mean-s.Points[j-1].Stat.Mean)/s.Points[j-1].Stat.Mean*100)
			}
			rows = append(rows, []string{mark + p.Run, p.Started.UTC().Format("2006-01-02 15:04"), t, delta,
				p.Versions["llama.cpp build"], change})
		}
		table(w, []string{"Run", "Started (UTC)", s.Key.Test() + " (t/s)", "Δ", "llama.cpp build", "Changed"},
			[]bool{false, false, true, true, false, false}, rows)
	}
	return w.Flush()
}
