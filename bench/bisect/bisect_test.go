package bisect

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/recipes"
)

func commits(n int) []Commit {
	cs := make([]Commit, n)
	for i := range cs {
		cs[i] = Commit{Hash: fmt.Sprintf("%040d", i), Subject: fmt.Sprintf("c%d", i)}
	}
	return cs
}

func TestSearch(t *testing.T) {
	r := commits(9) // 0 good pin .. 8 bad pin
	h := func(i int) string { return r[i].Hash }
	tests := []struct {
		name       string
		v          map[int]Verdict
		next       int
		firstBad   int
		candidates []int
		err        string
	}{
		{name: "start at the middle", next: 4, firstBad: -1},
		{name: "middle good", v: map[int]Verdict{4: Good}, next: 6, firstBad: -1},
		{name: "middle bad", v: map[int]Verdict{4: Bad}, next: 2, firstBad: -1},
		{name: "middle skipped: nearest open", v: map[int]Verdict{4: Skip}, next: 3, firstBad: -1},
		{name: "unclear counts as skipped", v: map[int]Verdict{4: Unclear, 3: Skip}, next: 5, firstBad: -1},
		{name: "found", v: map[int]Verdict{4: Good, 6: Bad, 5: Good}, next: -1, firstBad: 6},
		{name: "found next to the bad pin", v: map[int]Verdict{4: Good, 6: Good, 7: Good}, next: -1, firstBad: 8},
		{name: "found next to the good pin", v: map[int]Verdict{4: Bad, 2: Bad, 1: Bad}, next: -1, firstBad: 1},
		{name: "skips hide the culprit", v: map[int]Verdict{4: Good, 5: Skip, 6: Unclear, 7: Bad}, next: -1, firstBad: -1, candidates: []int{5, 6, 7}},
		{name: "all skipped", v: map[int]Verdict{1: Skip, 2: Skip, 3: Skip, 4: Skip, 5: Skip, 6: Skip, 7: Skip}, next: -1, firstBad: -1, candidates: []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{name: "good after bad", v: map[int]Verdict{3: Bad, 5: Good}, err: "more than one regression"},
		{name: "verdicts on the pins are ignored", v: map[int]Verdict{0: Bad, 8: Good}, next: 4, firstBad: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := map[string]Verdict{}
			for i, x := range tc.v {
				v[h(i)] = x
			}
			o, err := Search(r, v)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Next != tc.next || o.FirstBad != tc.firstBad || !reflect.DeepEqual(o.Candidates, tc.candidates) {
				t.Fatalf("got next %d first bad %d candidates %v, want %d %d %v", o.Next, o.FirstBad, o.Candidates, tc.next, tc.firstBad, tc.candidates)
			}
			if o.Done() != (tc.next < 0) {
				t.Fatalf("Done() = %v with next %d", o.Done(), o.Next)
			}
		})
	}
	if _, err := Search(r[:1], nil); err == nil {
		t.Fatal("a one-commit range was accepted")
	}
}

// TestSearchConverges bisects every possible culprit, with the build of
// every third commit failing, and checks the search names the culprit or a
// candidate set holding it, within the log2 bound plus the skips.
func TestSearchConverges(t *testing.T) {
	const n = 40
	r := commits(n)
	for culprit := 1; culprit < n; culprit++ {
		v := map[string]Verdict{}
		steps := 0
		for {
			o, err := Search(r, v)
			if err != nil {
				t.Fatalf("culprit %d: %v", culprit, err)
			}
			if o.Done() {
				if o.FirstBad >= 0 && o.FirstBad != culprit {
					t.Fatalf("culprit %d: found %d", culprit, o.FirstBad)
				}
				if o.FirstBad < 0 && !contains(o.Candidates, culprit) {
					t.Fatalf("culprit %d: candidates %v", culprit, o.Candidates)
				}
				if o.FirstBad < 0 && (culprit-1)%3 != 0 && culprit%3 != 0 {
					t.Fatalf("culprit %d builds but was not named: %v", culprit, o.Candidates)
				}
				break
			}
			steps++
			if steps > n {
				t.Fatalf("culprit %d: no end after %d steps", culprit, steps)
			}
			i := o.Next
			switch {
			case i%3 == 0:
				v[r[i].Hash] = Skip
			case i < culprit:
				v[r[i].Hash] = Good
			default:
				v[r[i].Hash] = Bad
			}
		}
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestClassify(t *testing.T) {
	s := Stats{Threshold: 0.05, Alpha: 0.05}
	good := []float64{100, 101, 99, 100.5, 99.5}
	bad := []float64{88, 89, 87, 88.5, 87.5}
	tests := []struct {
		name string
		step []float64
		want Verdict
	}{
		{"like good", []float64{100.2, 99.8, 100.9, 99.1, 100}, Good},
		{"like bad", []float64{88.2, 87.8, 88.9, 87.1, 88}, Bad},
		{"worse than bad is bad", []float64{70, 71, 69}, Bad},
		{"halfway is unclear", []float64{94, 94.5, 93.5, 94.2}, Unclear},
		{"differs from both, near bad", []float64{89.6, 89.9, 89.7, 89.8}, Bad},
		{"differs from both, near good", []float64{98.4, 98.6, 98.5, 98.3}, Good},
		{"too few repetitions to tell", []float64{95, 83}, Unclear},
		{"no numbers", nil, Skip},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Classify(good, bad, tc.step); got != tc.want {
				t.Fatalf("Classify = %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := s.Confirm(good, bad); err != nil {
		t.Fatalf("a 12 %% slowdown was not confirmed: %v", err)
	}
	if _, err := s.Confirm(good, []float64{99, 100, 101, 98}); err == nil || !strings.Contains(err.Error(), "not a regression") {
		t.Fatalf("no change confirmed as a regression: %v", err)
	}
	if _, err := s.Confirm(good, []float64{70, 99, 120, 71}); err == nil || !strings.Contains(err.Error(), "inconclusive") {
		t.Fatalf("a noisy end confirmed: %v", err)
	}
}

func TestRepetitions(t *testing.T) {
	r := Repetitions{Min: 3, Max: 12}
	var got []int
	for n, ok := 1, true; ok; n, ok = r.Next(n) {
		got = append(got, n)
	}
	if want := []int{1, 3, 6, 12}; !reflect.DeepEqual(got, want) {
		t.Fatalf("repetitions %v, want %v", got, want)
	}
	if _, ok := r.Next(12); ok {
		t.Fatal("more repetitions past Max")
	}
}

func loadLock(t *testing.T) *recipes.Lock {
	t.Helper()
	l, err := recipes.LoadLock("../../stack.lock")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDiffAndOrder(t *testing.T) {
	good := loadLock(t)
	bad := loadLock(t)
	moves, other := Diff(good, bad)
	if len(moves) != 0 || len(other) != 0 {
		t.Fatalf("a lock differs from itself: %v %v", moves, other)
	}
	var err error
	for _, name := range []string{"llama.cpp", "therock", "rocwmma"} {
		c, _ := bad.Component(name)
		c.Commit = strings.Repeat("f", 40)
		if bad, err = WithPin(bad, c); err != nil {
			t.Fatal(err)
		}
	}
	bad.Tools[0].Version = "v9.9.9"
	moves, other = Diff(good, bad)
	var names []string
	for _, m := range moves {
		names = append(names, m.Component)
		if m.Bad.Commit != strings.Repeat("f", 40) || m.Good.Commit == m.Bad.Commit {
			t.Fatalf("move %+v", m)
		}
	}
	if want := []string{"llama.cpp", "rocwmma", "therock"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("moved %v, want %v", names, want)
	}
	if len(other) != 1 || !strings.Contains(other[0], "tool dagger v0.20.0 -> v9.9.9") {
		t.Fatalf("other differences %q", other)
	}
	if gl, _ := good.Component("llama.cpp"); gl.Commit == strings.Repeat("f", 40) {
		t.Fatal("WithPin changed the lock it copied")
	}
	ordered := Order(moves, map[string]int{"therock": 40, "llama.cpp": 1, "rocwmma": 3})
	names = names[:0]
	for _, m := range ordered {
		names = append(names, fmt.Sprintf("%s:%d", m.Component, m.Cost))
	}
	if want := []string{"llama.cpp:1", "rocwmma:3", "therock:40"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("order %v, want %v", names, want)
	}
	ordered = Order(moves, map[string]int{"therock": 2})
	if ordered[0].Component != "therock" || ordered[1].Component != "llama.cpp" {
		t.Fatalf("unknown costs are not last: %+v", ordered)
	}
	if _, err := WithPin(good, recipes.LockedComponent{Name: "nope"}); err == nil {
		t.Fatal("WithPin accepted a component the lock lacks")
	}
}

func TestLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b1", "bisect.jsonl")
	h := Header{ID: "b1", GoodRun: "r1", BadRun: "r2", Case: "llama/tiny/cpu/fa0/pp64-tg16", Threshold: 0.05, Args: []string{"--good", "r1"}}
	l, err := Create(path, h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path, h); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("a second Create over a log: %v", err)
	}
	rg := Range{Component: "llama.cpp", Commits: commits(4)}
	steps := []Step{
		{Phase: PhaseEnd, Key: "good", Run: "m1", Reps: 3, Samples: []float64{100, 101, 99}, Verdict: Good},
		{Phase: PhaseCommit, Key: rg.Commits[1].Hash, Image: "h/llama-cpu:x", BuildSec: 61.5},
		{Phase: PhaseCommit, Key: rg.Commits[1].Hash, Run: "m2", Reps: 3, Samples: []float64{94, 95, 93}, Verdict: Unclear},
		{Phase: PhaseCommit, Key: rg.Commits[1].Hash, Run: "m3", Reps: 6, Samples: []float64{88, 89, 87, 88, 89, 87}, Verdict: Bad},
		{Phase: PhaseCommit, Key: rg.Commits[2].Hash, BuildError: "step build failed"},
	}
	if err := l.SetRange(rg); err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if err := l.AddStep(s); err != nil {
			t.Fatal(err)
		}
	}
	// a crash mid-write leaves a torn last line: it is dropped
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString(`{"step":{"phase":"commit","key":"`)
	_ = f.Close()
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	h.Version = LogVersion
	if !reflect.DeepEqual(got.Header, h) || !reflect.DeepEqual(got.Range, &rg) || len(got.Steps) != len(steps) {
		t.Fatalf("loaded %+v", got)
	}
	for i := range steps {
		steps[i].Time = got.Steps[i].Time
		if !reflect.DeepEqual(got.Steps[i], steps[i]) {
			t.Fatalf("step %d: %+v, want %+v", i, got.Steps[i], steps[i])
		}
	}
	if b, ok := got.Build(PhaseCommit, rg.Commits[1].Hash); !ok || b.Image != "h/llama-cpu:x" {
		t.Fatalf("build %+v %v", b, ok)
	}
	if m := got.Measurements(PhaseCommit, rg.Commits[1].Hash); len(m) != 2 || m[1].Reps != 6 {
		t.Fatalf("measurements %+v", m)
	}
	want := map[string]Verdict{rg.Commits[1].Hash: Bad, rg.Commits[2].Hash: Skip}
	if v := got.Verdicts(PhaseCommit); !reflect.DeepEqual(v, want) {
		t.Fatalf("verdicts %v, want %v", v, want)
	}
	// the torn line was dropped: the next record starts a fresh line
	if err := got.Finish(Result{Component: "llama.cpp", FirstBad: &rg.Commits[1], Message: "first bad"}); err != nil {
		t.Fatal(err)
	}
	again, err := Load(path)
	if err != nil || again.Result == nil || again.Result.FirstBad.Hash != rg.Commits[1].Hash || len(again.Steps) != len(steps) {
		t.Fatalf("after the torn line: %v %+v", err, again)
	}
	var buf bytes.Buffer
	got.WriteTable(&buf)
	for _, s := range []string{"88.00 ± 0.89", "| 6 | bad |", "skip (build failed)", "1m2s", rg.Commits[1].Short() + " c1"} {
		if !strings.Contains(buf.String(), s) {
			t.Fatalf("table lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"empty":     "",
		"no header": `{"step":{"phase":"end","key":"good"}}` + "\n",
		"version":   `{"header":{"version":99,"id":"x"}}` + "\n",
		"garbage":   `{"header":{"version":1,"id":"x"}}` + "\nnot json\n" + `{"step":{"phase":"end","key":"good"}}` + "\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err %v does not name the file", name, err)
		}
	}
}
