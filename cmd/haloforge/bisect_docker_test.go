package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench/bisect"
	"github.com/haloforge/haloforge/bench/report"
	"github.com/haloforge/haloforge/bench/session"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
	"github.com/haloforge/haloforge/recipes"
)

// TestBisectMeasuresForReal reruns a stored run's llama-bench case the way
// a bisection step does (the built image swapped in, the repetitions
// raised, a run of its own) on the real daemon with the smoke image, and
// checks bisect.Driver does not rerun a logged measurement when the step
// is resumed, and measures an unclear step again with more repetitions. The
// build half of a step needs a Dagger engine: make bisect-e2e.
func TestBisectMeasuresForReal(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	bin := buildBinary(t)
	home := testHome(t)
	suitePath := filepath.Join(t.TempDir(), "mini.yaml")
	if err := os.WriteFile(suitePath, []byte(miniSmoke), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := haloforge(bin, home, "bench", "--suite", suitePath, "--plain", "--run-id", "bad").CombinedOutput(); err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	t.Setenv("HALOFORGE_HOME", home)
	lock, err := recipes.LoadLock("../../stack.lock")
	if err != nil {
		t.Fatal(err)
	}
	set, err := recipes.Request{}.LoadSet()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	b, err := newBisector(cmd, bisectOpts{good: "bad", bad: "bad", threshold: "5%", alpha: 0.05, reps: 3, maxReps: 6, plain: true})
	if err != nil {
		t.Fatal(err)
	}
	db, err := openResults(context.Background(), resultsLocation("", home), false)
	if err != nil {
		t.Fatal(err)
	}
	b.badRun, err = db.Run(context.Background(), "bad")
	_ = db.Close()
	if err != nil || len(b.badRun.Cases) != 1 {
		t.Fatalf("stored run: %v %+v", err, b.badRun)
	}
	_, cases, err := session.Original(home, "bad")
	if err != nil || len(cases) != 1 {
		t.Fatalf("cases %v %v", cases, err)
	}
	b.kase, b.set, b.target, b.profile = cases[0], set, b.badRun.Target, "smoke"
	d, err := pickDelta(report.Compare(b.badRun, b.badRun, report.CompareOptions{Threshold: 0.05}), "", "")
	if err == nil {
		t.Fatalf("a run is a regression from itself: %+v", d)
	}
	b.key = report.Compare(b.badRun, b.badRun, report.CompareOptions{}).Deltas[0].Key
	if b.log, err = bisect.Create(filepath.Join(home, "bisect", "t", "log.jsonl"), bisect.Header{ID: "bisect-t"}); err != nil {
		t.Fatal(err)
	}
	b.dir = filepath.Dir(b.log.Path)
	ctx := context.Background()

	st, err := b.Measure(ctx, bisect.Point{Phase: bisect.PhaseEnd, Key: "good", Lock: lock}, runtime.SmokeRef, 3)
	if err != nil {
		t.Fatal(err)
	}
	if st.RunErr != "" || len(st.Samples) != 3 || st.Run == "" {
		t.Fatalf("measurement %+v\n%s", st, out.String())
	}
	for _, s := range st.Samples {
		if s <= 0 {
			t.Fatalf("samples %v", st.Samples)
		}
	}
	db, err = openResults(ctx, resultsLocation("", home), false)
	if err != nil {
		t.Fatal(err)
	}
	measured, err := db.Run(ctx, st.Run)
	_ = db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(measured.Cases) != 1 || !strings.Contains(strings.Join(measured.Cases[0].Args, " "), "-r 3") || measured.LockDigest != lock.Digest() {
		t.Fatalf("the step's run: %+v lock %s", measured.Cases, measured.LockDigest)
	}

	// a step whose build is logged is measured once, then only read back
	if err := b.log.AddStep(bisect.Step{Phase: bisect.PhaseCommit, Key: "c1", Image: runtime.SmokeRef, BuildSec: 1}); err != nil {
		t.Fatal(err)
	}
	good := func([]float64) bisect.Verdict { return bisect.Good }
	drv := &bisect.Driver{Exec: b, Log: b.log, Stats: b.stats, Reps: b.reps, Progress: &out}
	c1 := bisect.Point{Phase: bisect.PhaseCommit, Key: "c1", Lock: lock}
	s1, err := drv.Visit(ctx, c1, good)
	if err != nil || len(s1) != 3 {
		t.Fatalf("step: %v %v\n%s", s1, err, out.String())
	}
	runs, _ := os.ReadDir(filepath.Join(home, "runs"))
	resumed, err := bisect.Load(b.log.Path)
	if err != nil {
		t.Fatal(err)
	}
	b.log, drv.Log = resumed, resumed
	s2, err := drv.Visit(ctx, c1, good)
	if err != nil || !equalFloats(s1, s2) {
		t.Fatalf("resumed step: %v %v", s2, err)
	}
	if again, _ := os.ReadDir(filepath.Join(home, "runs")); len(again) != len(runs) {
		t.Fatalf("a logged measurement was rerun: %d runs, then %d", len(runs), len(again))
	}

	// unclear with 3 repetitions: measured again with 6 (--max-reps), then
	// still unclear: skipped
	if err := b.log.AddStep(bisect.Step{Phase: bisect.PhaseCommit, Key: "c2", Image: runtime.SmokeRef, BuildSec: 1}); err != nil {
		t.Fatal(err)
	}
	unclear := func([]float64) bisect.Verdict { return bisect.Unclear }
	s3, err := drv.Visit(ctx, bisect.Point{Phase: bisect.PhaseCommit, Key: "c2", Lock: lock}, unclear)
	if err != nil || len(s3) != 6 {
		t.Fatalf("unclear step: %v %v\n%s", s3, err, out.String())
	}
	ms := b.log.Measurements(bisect.PhaseCommit, "c2")
	if len(ms) != 2 || ms[0].Reps != 3 || ms[1].Reps != 6 || len(ms[0].Samples) != 3 {
		t.Fatalf("unclear step measurements: %+v", ms)
	}
	if v := b.log.Verdicts(bisect.PhaseCommit); v["c1"] != bisect.Good || v["c2"] != bisect.Unclear || !v["c2"].Skipped() {
		t.Fatalf("verdicts %v", v)
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
