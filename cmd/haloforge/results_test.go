package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/testfix"
)

// runCLI runs the real command tree with args and returns stdout and the error.
func runResultsCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	resetFlags(root) // subcommands are built once in init: clear flags from earlier calls
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// scaledFixture writes a copy of a real llama-bench json output with every
// sample multiplied by f (means and spreads recomputed).
func scaledFixture(t *testing.T, name string, f float64) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testfix.Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var sum float64
		s := r["samples_ts"].([]any)
		for i := range s {
			s[i] = s[i].(float64) * f
			sum += s[i].(float64)
		}
		mean := sum / float64(len(s))
		var v float64
		for _, x := range s {
			v += (x.(float64) - mean) * (x.(float64) - mean)
		}
		r["avg_ts"], r["stddev_ts"] = mean, math.Sqrt(v/float64(len(s)-1))
		r["build_commit"] = "planted"
	}
	out, _ := json.Marshal(rows)
	p := filepath.Join(t.TempDir(), "scaled-"+name)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompareExitCodes(t *testing.T) {
	home := t.TempDir()
	// bench-fa1.json: real llama-bench output, -r 3, as the base.
	fa1 := filepath.Join(testfix.Dir(), "bench-fa1.json")
	steps := []struct {
		name string
		args []string
	}{
		{"base", []string{"import", "--home", home, "--run", "base", "--backend", "cpu", fa1}},
		{"regressed", []string{"import", "--home", home, "--run", "regressed", "--backend", "cpu", scaledFixture(t, "bench-fa1.json", 0.5)}},
		{"wobble", []string{"import", "--home", home, "--run", "wobble", "--backend", "cpu", scaledFixture(t, "bench-fa1.json", 0.99)}},
	}
	for _, s := range steps {
		if _, err := runResultsCLI(t, s.args...); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	out, err := runResultsCLI(t, "compare", "--home", home, "base", "regressed")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitRegression {
		t.Fatalf("halved throughput: err = %v, want exit %d\n%s", err, exitRegression, out)
	}
	if !strings.Contains(out, "## Regressions (") || !strings.Contains(out, "-50.0 %") {
		t.Errorf("compare output:\n%s", out)
	}
	out, err = runResultsCLI(t, "compare", "--home", home, "base", "wobble", "--threshold", "5%")
	if err != nil {
		t.Fatalf("1%% wobble: %v\n%s", err, out)
	}
	if !strings.Contains(out, "## Regressions (0)") {
		t.Errorf("wobble flagged:\n%s", out)
	}
	if _, err := runResultsCLI(t, "compare", "--home", home, "base", "nosuchrun"); err == nil || !strings.Contains(err.Error(), "NEW") {
		t.Errorf("unknown run: err = %v", err)
	}
	if _, err := runResultsCLI(t, "compare", "--home", home, "base", "wobble", "--threshold", "five"); err == nil {
		t.Error("bad threshold accepted")
	}
}

func TestImportGarbledStoresNothing(t *testing.T) {
	home := t.TempDir()
	good := filepath.Join(testfix.Dir(), "bench.json")
	data, _ := os.ReadFile(good)
	bad := filepath.Join(t.TempDir(), "cut.json")
	if err := os.WriteFile(bad, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runResultsCLI(t, "import", "--home", home, "--run", "x", good, bad)
	if err == nil || !strings.Contains(err.Error(), "cut.json") || !strings.Contains(err.Error(), "nothing was stored") {
		t.Fatalf("err = %v, want an error naming cut.json", err)
	}
	if _, err := os.Stat(filepath.Join(home, "results.db")); err == nil {
		out, _ := runResultsCLI(t, "history", "--home", home)
		if strings.Contains(out, "x ") {
			t.Fatalf("garbled import stored a run:\n%s", out)
		}
	}
	// Report on a home without a database says what to do.
	if _, err := runResultsCLI(t, "report", "--home", t.TempDir()); err == nil || !strings.Contains(err.Error(), "haloforge import") {
		t.Errorf("err = %v", err)
	}
}

func TestReportFormats(t *testing.T) {
	home := t.TempDir()
	f := filepath.Join(testfix.Dir(), "bench-quant.jsonl")
	if _, err := runResultsCLI(t, "import", "--home", home, "--run", "q", "--backend", "cpu", f); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ format, want string }{
		{"md", "| Run "},
		{"json", `"run_id": "q"`},
		{"csv", "run,tool,model,row"},
		{"html", "<!DOCTYPE html>"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			out, err := runResultsCLI(t, "report", "--home", home, "latest", "--format", tt.format)
			if err != nil || !strings.Contains(out, tt.want) {
				t.Fatalf("err=%v out=%.300s", err, out)
			}
		})
	}
	out, err := runResultsCLI(t, "history", "--home", home, "--backend", "cpu", "--test", "pp512")
	if err != nil || !strings.Contains(out, "pp512 (t/s)") {
		t.Fatalf("history: %v\n%s", err, out)
	}
}

// A refused second import under the same id leaves the first run's raw
// files and rows alone; --replace replaces; a path-like id is refused.
func TestImportSameIDKeepsFirst(t *testing.T) {
	home := t.TempDir()
	a := filepath.Join(testfix.Dir(), "bench.json")
	b := filepath.Join(t.TempDir(), "bench.json") // same base name, other numbers
	if err := os.WriteFile(b, []byte(strings.Replace(mustRead(t, a), "570.614333", "1.5", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runResultsCLI(t, "import", "--home", home, "--run", "r", a); err != nil {
		t.Fatal(err)
	}
	_, err := runResultsCLI(t, "import", "--home", home, "--run", "r", b)
	if err == nil || !strings.Contains(err.Error(), "already stored") {
		t.Fatalf("second import: err = %v", err)
	}
	raw := filepath.Join(home, "runs", "r", "imported", "1-bench.json")
	if mustRead(t, raw) != mustRead(t, a) {
		t.Fatal("refused import overwrote the stored run's raw file")
	}
	if _, err := runResultsCLI(t, "import", "--home", home, "--run", "r", "--replace", b); err != nil {
		t.Fatal(err)
	}
	out, err := runResultsCLI(t, "report", "--home", home, "r", "--format", "csv")
	if err != nil || !strings.Contains(out, ",1.5,") {
		t.Fatalf("replaced run: %v\n%s", err, out)
	}
	if _, err := runResultsCLI(t, "import", "--home", home, "--run", "../escape", a); err == nil {
		t.Fatal("path-like run id accepted")
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
