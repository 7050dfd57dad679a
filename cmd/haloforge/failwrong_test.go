package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/internal/testfix"
)

// realCheckRun stores the cases of a real run from bench/report/testdata as
// run id: correct-cmp-a has a Vulkan check that came out ok against the CPU
// reference, correct-cmp-b the same check on a model of another seed, which
// came out wrong.
func realCheckRun(t *testing.T, home, id, testdata string) {
	t.Helper()
	hdr, _ := json.Marshal(bench.Run{ID: id, Suite: "smoke", Target: "gfx1151",
		Started: time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC), Finished: time.Date(2026, 11, 30, 1, 5, 0, 0, time.UTC)})
	testfix.RealRunDir(t, home, id, testdata, string(hdr))
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
