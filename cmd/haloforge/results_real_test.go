package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// realDir holds llama-bench outputs of the real llama-bench in the smoke
// image (Debian sid llama.cpp-tools; commands in its commands.tsv).
var realDir = filepath.Join("..", "..", "bench", "ingest", "testdata", "real")

func real(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(realDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return p
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runResultsCLI(t, args...)
	if err != nil {
		t.Fatalf("haloforge %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// haloforgeBin builds the command once, for tests that need separate
// processes (parallel imports, a read-only mount).
func haloforgeBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "haloforge-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "haloforge")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// Defect 1: imports in the same second get distinct ids; none is lost.
func TestImportsInOneSecondAllStored(t *testing.T) {
	home := t.TempDir()
	files := []string{"two-models.json", "two-models.jsonl", "two-models.csv", "two-models.md", "two-models.sql", "lists.json"}
	ids := map[string]bool{}
	re := regexp.MustCompile(`as run (\S+) `)
	for _, f := range files {
		out := mustCLI(t, "import", "--home", home, real(t, f))
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no run id in %q", out)
		}
		ids[m[1]] = true
	}
	if len(ids) != len(files) {
		t.Fatalf("%d distinct ids for %d imports: %v", len(ids), len(files), ids)
	}
	out := mustCLI(t, "history", "--home", home, "--format", "json")
	var runs []map[string]any
	if err := json.Unmarshal([]byte(out), &runs); err != nil || len(runs) != len(files) {
		t.Fatalf("history lists %d runs (%v), want %d", len(runs), err, len(files))
	}
}

// Defect 2 (and 11's one name per model): an output of two models, in
// every -o format, shows both models' rows in md, json, csv and html, each
// under its own model, named alike whatever the format.
func TestTwoModelsEveryFormat(t *testing.T) {
	for _, f := range []string{"json", "jsonl", "csv", "md", "sql"} {
		t.Run(f, func(t *testing.T) {
			home := t.TempDir()
			mustCLI(t, "import", "--home", home, "--run", "two", real(t, "two-models."+f))
			md := mustCLI(t, "report", "--home", home, "two")
			for _, want := range []string{"## llama ?B F16", "## llama ?B Q4_0"} {
				if strings.Count(md, want+"\n") != 1 {
					t.Errorf("markdown has %q %d times:\n%s", want, strings.Count(md, want+"\n"), md)
				}
			}
			if strings.Contains(md, "#2") {
				t.Errorf("a row is numbered instead of named:\n%s", md)
			}
			var rep struct {
				Models []struct {
					Model  string
					Tables []struct{ Rows []struct{ Label string } }
				}
			}
			if err := json.Unmarshal([]byte(mustCLI(t, "report", "--home", home, "two", "--format", "json")), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Models) != 2 || len(rep.Models[0].Tables) != 1 || len(rep.Models[1].Tables) != 1 ||
				len(rep.Models[0].Tables[0].Rows) != 1 || len(rep.Models[1].Tables[0].Rows) != 1 {
				t.Errorf("json models: %+v", rep.Models)
			}
			csv := mustCLI(t, "report", "--home", home, "two", "--format", "csv")
			for _, m := range []string{",llama ?B F16,", ",llama ?B Q4_0,"} {
				if strings.Count(csv, m) != 2 {
					t.Errorf("csv has %d rows of %s:\n%s", strings.Count(csv, m), m, csv)
				}
			}
			html := mustCLI(t, "report", "--home", home, "two", "--format", "html")
			for _, m := range []string{"<h2>llama ?B F16</h2>", "<h2>llama ?B Q4_0</h2>"} {
				if !strings.Contains(html, m) {
					t.Errorf("html lacks %s", m)
				}
			}
		})
	}
}

// slowModel copies a real two-model json output with the second model's
// samples 20 % slower.
func slowModel(t *testing.T, src, model string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r["model_type"] != model {
			continue
		}
		s := r["samples_ts"].([]any)
		for i := range s {
			s[i] = s[i].(float64) * 0.8
		}
		r["avg_ts"] = r["avg_ts"].(float64) * 0.8
		r["stddev_ts"] = r["stddev_ts"].(float64) * 0.8
	}
	out, _ := json.Marshal(rows)
	p := filepath.Join(t.TempDir(), "slow.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Defect 2: compare blames the model that regressed.
func TestCompareBlamesTheRightModel(t *testing.T) {
	home := t.TempDir()
	src := real(t, "two-models.json")
	mustCLI(t, "import", "--home", home, "--run", "base", src)
	mustCLI(t, "import", "--home", home, "--run", "new", slowModel(t, src, "llama ?B Q4_0"))
	out, err := runResultsCLI(t, "compare", "--home", home, "base", "new", "--format", "json", "--threshold", "5%")
	var ex *exitError
	if err != nil && (!errors.As(err, &ex) || ex.code != exitRegression) {
		t.Fatalf("compare: %v\n%s", err, out)
	}
	var c struct {
		Deltas []struct {
			Key       struct{ Model string }
			ChangePct *float64 `json:"change_pct"`
			Verdict   string
		}
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Deltas) != 4 {
		t.Fatalf("%d deltas, want 4 (2 models x pp32, tg8):\n%s", len(c.Deltas), out)
	}
	for _, d := range c.Deltas {
		if d.ChangePct == nil {
			t.Fatalf("unmatched delta %+v", d)
		}
		slowed := *d.ChangePct < -19 && *d.ChangePct > -21
		switch d.Key.Model {
		case "llama ?B Q4_0":
			if !slowed {
				t.Errorf("Q4_0 change %.1f %%, want -20 %%", *d.ChangePct)
			}
		case "llama ?B F16":
			if *d.ChangePct != 0 || d.Verdict != "unchanged" {
				t.Errorf("F16 blamed: %.1f %% %s", *d.ChangePct, d.Verdict)
			}
		default:
			t.Errorf("delta under model %q", d.Key.Model)
		}
	}
}

// Defect 3: files with identical settings imported into one run stay
// apart, each with its own numbers, labelled by what differs.
func TestSameSettingsStayApart(t *testing.T) {
	home := t.TempDir()
	files := []string{real(t, "same-a.json"), real(t, "same-b.json"), real(t, "same-c.md")}
	mustCLI(t, append([]string{"import", "--home", home, "--run", "same"}, files...)...)
	md := mustCLI(t, "report", "--home", home, "same")
	if strings.Contains(md, "#2") || strings.Contains(md, "#3") {
		t.Errorf("rows numbered instead of labelled:\n%s", md)
	}
	var rep struct {
		Models []struct {
			Tables []struct {
				Rows []struct {
					Label string
					Cells []struct{ Stat *struct{ Mean float64 } }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "report", "--home", home, "same", "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Models) != 1 || len(rep.Models[0].Tables) != 1 {
		t.Fatalf("models/tables: %+v", rep.Models)
	}
	rows := rep.Models[0].Tables[0].Rows
	if len(rows) != 3 {
		t.Fatalf("%d rows, want one per file:\n%s", len(rows), md)
	}
	labels := map[string]bool{}
	for _, r := range rows {
		labels[r.Label] = true
		for _, c := range r.Cells {
			if c.Stat == nil || c.Stat.Mean <= 0 {
				t.Errorf("row %s lacks a number", r.Label)
			}
		}
	}
	if len(labels) != 3 {
		t.Errorf("labels not distinct: %v", labels)
	}
	// Every file's own pp32 mean is shown.
	for _, f := range files[:2] {
		var recs []map[string]any
		if err := json.Unmarshal([]byte(mustRead(t, f)), &recs); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%.2f ± %.2f", recs[0]["avg_ts"], recs[0]["stddev_ts"])
		if !strings.Contains(md, want) {
			t.Errorf("%s's %s missing:\n%s", f, want, md)
		}
	}
}

// Defect 4: SQL from llama-bench builds before 2025-08-02 (table "test").
func TestImportPreRenameSQL(t *testing.T) {
	home := t.TempDir()
	out := mustCLI(t, "import", "--home", home, "--run", "old", filepath.Join("..", "..", "bench", "ingest", "testdata", "pre-20250802-test-table.sql"))
	if !strings.Contains(out, "1 llama-bench output(s) with 2 test(s)") {
		t.Errorf("import said %q", out)
	}
	md := mustCLI(t, "report", "--home", home, "old")
	for _, want := range []string{"348.91 ± 0.43", "48.70 ± 0.02"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %s:\n%s", want, md)
		}
	}
}

// Defect 5: report, history and compare read a home on a read-only mount.
func TestReadOnlyHome(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	home := t.TempDir()
	mustCLI(t, "import", "--home", home, "--run", "a", real(t, "two-models.json"))
	mustCLI(t, "import", "--home", home, "--run", "b", real(t, "two-models.jsonl"))
	bin := haloforgeBin(t)
	probe := exec.Command("unshare", "-m", "sh", "-c", "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && ! touch \"$1/x\" 2>/dev/null", "sh", home)
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("cannot make a read-only mount here: %v %s", err, out)
	}
	for _, args := range [][]string{{"report", "latest"}, {"history"}, {"history", "--test", "pp32"}, {"compare", "a", "b"}, {"report", "a", "--html"}} {
		script := "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && shift && exec \"$@\""
		cmd := exec.Command("unshare", append([]string{"-m", "sh", "-c", script, "sh", home, bin}, append(args, "--home", home)...)...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != exitRegression) {
			t.Errorf("%v on a read-only home: %v\n%s", args, err, out)
		}
	}
}

// Defect 6: parallel imports into a fresh home all succeed.
func TestParallelImportsFreshHome(t *testing.T) {
	bin := haloforgeBin(t)
	for round := 0; round < 3; round++ {
		home := t.TempDir()
		var wg sync.WaitGroup
		errs := make([]string, 4)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				out, err := exec.Command(bin, "import", "--home", home, real(t, "same-a.json")).CombinedOutput()
				if err != nil {
					errs[i] = fmt.Sprintf("%v: %s", err, out)
				}
			}(i)
		}
		wg.Wait()
		for i, e := range errs {
			if e != "" {
				t.Fatalf("round %d import %d: %s", round, i, e)
			}
		}
	}
}

// Defect 7: --replace replaces the run's cases.
func TestImportReplaceReplaces(t *testing.T) {
	home := t.TempDir()
	mustCLI(t, "import", "--home", home, "--run", "r", real(t, "two-models.json"))
	mustCLI(t, "import", "--home", home, "--run", "r", "--replace", real(t, "same-a.json"))
	csv := mustCLI(t, "report", "--home", home, "r", "--format", "csv")
	if strings.Contains(csv, "two-models") || !strings.Contains(csv, "same-a.json") {
		t.Errorf("the replaced run's cases are still shown:\n%s", csv)
	}
}

const h100Mamf = "../../bench/mamf/testdata/gpu0-bf16.txt"

// Defects 8, 10, 11, 12 on a real H100 mamf-finder log: CSV carries it,
// JSON's models is [], no % of gfx1151's peak, torch shown, the HTML
// header reads cleanly, import says what it stored.
func TestMamfOnlyRun(t *testing.T) {
	home := t.TempDir()
	out := mustCLI(t, "import", "--home", home, "--run", "h100", h100Mamf)
	if !strings.Contains(out, "1 mamf-finder result(s): max ") || strings.Contains(out, "0 llama-bench") {
		t.Errorf("import said %q", out)
	}
	csv := mustCLI(t, "report", "--home", home, "h100", "--format", "csv")
	if !strings.Contains(csv, "mamf-finder,NVIDIA H100 80GB HBM3,") || strings.Count(csv, "\n") != 4 {
		t.Errorf("csv:\n%s", csv)
	}
	js := mustCLI(t, "report", "--home", home, "h100", "--format", "json")
	if !strings.Contains(js, `"models": []`) || !strings.Contains(js, `"torch": "2.5.1+cu121"`) {
		t.Errorf("json:\n%s", js)
	}
	md := mustCLI(t, "report", "--home", home, "h100")
	if strings.Contains(md, "1329") || !strings.Contains(md, "measured on NVIDIA H100 80GB HBM3, not gfx1151") || !strings.Contains(md, "2.5.1+cu121") {
		t.Errorf("markdown:\n%s", md)
	}
	md = mustCLI(t, "report", "--home", home, "h100", "--target", "gfx9999")
	if strings.Contains(md, "% of 0.0") || strings.Contains(md, "% of 0 ") {
		t.Errorf("a %% of zero peak column:\n%s", md)
	}
	html := mustCLI(t, "report", "--home", home, "h100", "--html")
	if strings.Contains(html, ". ,") || strings.Contains(html, "UTC. ,") || !strings.Contains(html, "GPU NVIDIA H100 80GB HBM3.") {
		t.Errorf("html header: %s", regexp.MustCompile(`<p class="meta">[^\n]*\n?[^\n]*`).FindString(html))
	}
}

// Defect 9: latest is the run stored last, whatever its outputs' times.
func TestLatestIsLastImported(t *testing.T) {
	home := t.TempDir()
	mustCLI(t, "import", "--home", home, "--run", "md-first", real(t, "same-c.md"))     // no test times
	mustCLI(t, "import", "--home", home, "--run", "json-second", real(t, "lists.json")) // tests ran before the first import
	md := mustCLI(t, "report", "--home", home, "latest")
	if !strings.Contains(md, "# haloforge report: json-second") {
		t.Errorf("latest is not the last import:\n%.200s", md)
	}
}
