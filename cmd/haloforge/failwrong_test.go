package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
)

// realCheckRun lays out a run directory (run.json and cases/) under home from
// the cases of a real run in bench/report/testdata: correct-cmp-a has a
// Vulkan check that came out ok against the CPU reference, correct-cmp-b the
// same check on a model of another seed, which came out wrong.
func realCheckRun(t *testing.T, home, id, testdata string) {
	t.Helper()
	dir := filepath.Join(home, "runs", id)
	if err := os.MkdirAll(filepath.Join(dir, "cases"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "bench", "report", "testdata", testdata, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s (%v)", testdata, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cases", filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hdr, _ := json.Marshal(bench.Run{ID: id, Suite: "smoke", Target: "gfx1151",
		Started: time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC), Finished: time.Date(2026, 11, 30, 1, 5, 0, 0, time.UTC)})
	if err := os.WriteFile(filepath.Join(dir, "run.json"), hdr, 0o644); err != nil {
		t.Fatal(err)
	}
}

// report --fail-wrong: exit 3 naming the wrong check after writing the
// report; a run whose checks are ok (or have none) passes.
func TestReportFailWrong(t *testing.T) {
	home := t.TempDir()
	realCheckRun(t, home, "good", "correct-cmp-a")
	realCheckRun(t, home, "bad", "correct-cmp-b")
	mustCLI(t, "db", "rebuild", "--home", home)

	if out, err := runResultsCLI(t, "report", "good", "--home", home, "--fail-wrong"); err != nil {
		t.Fatalf("ok checks: %v\n%s", err, out)
	}
	out, err := runResultsCLI(t, "report", "bad", "--home", home, "--fail-wrong")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitRegression {
		t.Fatalf("a wrong check: %v, want exit %d", err, exitRegression)
	}
	if !strings.Contains(err.Error(), "1 reference check(s) wrong") || !strings.Contains(err.Error(), "vulkan") {
		t.Errorf("error does not name the wrong check: %v", err)
	}
	if !strings.Contains(out, "wrong") {
		t.Errorf("the report was not written before failing:\n%s", out)
	}
	// Without the flag the report alone does not fail.
	if _, err := runResultsCLI(t, "report", "bad", "--home", home); err != nil {
		t.Errorf("report without --fail-wrong: %v", err)
	}
}
