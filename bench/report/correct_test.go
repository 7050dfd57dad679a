package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/bench"
)

// loadRun reads a real run's case results (cases/*.json as the runner wrote
// them) from testdata.
func loadRun(t *testing.T, id string) bench.Run {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", id, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata/%s: %v", id, err)
	}
	sort.Strings(files)
	run := bench.Run{ID: id, Suite: id}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c bench.CaseResult
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		run.Cases = append(run.Cases, c)
	}
	return run
}

// TestCorrectnessReport: real runs in the smoke image with planted faults.
// correct-cmp-a: Vulkan on lavapipe checked against the CPU reference (ok),
// a HIP check and a HIP llama-bench case on a host without /dev/kfd (no
// GPU); correct-cmp-b: the same Vulkan check on a model of another seed
// (wrong); correct-smoke: the smoke suite (its llama-bench rows carry the
// KLD column).
func TestCorrectnessReport(t *testing.T) {
	for _, tt := range []struct {
		run  string
		want []string
	}{
		{"correct-cmp-a", []string{"no GPU: did not run on HIP", "| ok ", "llvmpipe", "| reference |"}},
		{"correct-smoke", []string{"| KLD vs CPU | same top % |", "| reference |", "software device"}},
		{"correct-cmp-b", []string{"**wrong**", "mean KLD 0.1"}},
	} {
		t.Run(tt.run, func(t *testing.T) {
			rep := Build(loadRun(t, tt.run), DefaultTarget)
			var md bytes.Buffer
			if err := rep.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.run+".md", md.Bytes())
			for _, want := range tt.want {
				if !strings.Contains(md.String(), want) {
					t.Errorf("report lacks %q", want)
				}
			}
			var js bytes.Buffer
			if err := rep.JSON(&js); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`"correctness"`, `"mean_kld"`, `"same_top_pct"`} {
				if !strings.Contains(js.String(), want) {
					t.Errorf("JSON lacks %s", want)
				}
			}
			// CSV: one line per figure of each check, the verdict as the note.
			var cb bytes.Buffer
			if err := rep.CSV(&cb); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&cb).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			perCheck := map[string]map[string]string{} // case -> test -> value
			for _, rec := range recs[1:] {
				if rec[1] != string(bench.ToolPerplexity) {
					continue
				}
				if perCheck[rec[3]] == nil {
					perCheck[rec[3]] = map[string]string{}
				}
				perCheck[rec[3]][rec[8]] = rec[20]
				perCheck[rec[3]]["note"] = rec[10]
			}
			if len(perCheck) != len(rep.Correctness) {
				t.Errorf("CSV has %d checks, the report %d", len(perCheck), len(rep.Correctness))
			}
			for _, k := range rep.Correctness {
				got := perCheck[k.Case]
				if k.MeanKLD != nil && got["mean kld"] != strconv.FormatFloat(*k.MeanKLD, 'f', -1, 64) {
					t.Errorf("CSV %s mean kld %q, want %v", k.Case, got["mean kld"], *k.MeanKLD)
				}
				if !strings.HasPrefix(got["note"], k.Verdict) {
					t.Errorf("CSV %s note %q, want the verdict %q", k.Case, got["note"], k.Verdict)
				}
			}
		})
	}
}

// TestCompareCorrectness: the same case ok in one real run and wrong in the
// next (the model behind it changed) is a regression, like a slowdown.
func TestCompareCorrectness(t *testing.T) {
	a, b := loadRun(t, "correct-cmp-a"), loadRun(t, "correct-cmp-b")
	c := Compare(a, b, CompareOptions{Threshold: 0.05})
	var regs []string
	for _, d := range c.Regressions() {
		regs = append(regs, d.Key.Model+" "+d.Key.Label()+" "+d.Key.Test())
	}
	if len(regs) != 1 || regs[0] != "tiny Vulkan KLD vs CPU" {
		t.Fatalf("regressions %v, want the Vulkan KLD check", regs)
	}
	if back := Compare(b, a, CompareOptions{Threshold: 0.05}); len(back.Improvements()) == 0 {
		t.Error("wrong -> ok must be an improvement")
	}
	if same := Compare(a, a, CompareOptions{Threshold: 0.05}); len(same.Regressions()) != 0 {
		t.Errorf("a run against itself: %v", same.Regressions())
	}
}
