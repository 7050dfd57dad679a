package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/bisect"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/bench/report"
	"github.com/haloforge/haloforge/recipes"
)

func TestBisectFlags(t *testing.T) {
	t.Setenv("HALOFORGE_HOME", t.TempDir())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bisect"}, "needs --good RUN and --bad RUN"},
		{[]string{"bisect", "--good", "a", "--bad", "b", "--reps", "1"}, "bad --reps 1"},
		{[]string{"bisect", "--good", "a", "--bad", "b", "--reps", "6", "--max-reps", "3"}, "bad --max-reps 3"},
		{[]string{"bisect", "--good", "a", "--bad", "b", "--alpha", "2"}, "bad --alpha 2"},
		{[]string{"bisect", "--good", "a", "--bad", "b", "--threshold", "x"}, "bad --threshold"},
		{[]string{"bisect", "--good", "a", "--bad", "b", "--source", "llama.cpp=" + t.TempDir()}, "not a git repository"},
	} {
		_, err := runCLI(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestWithReps(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"llama-bench", "-m", "x", "-r", "2", "-o", "jsonl"}, []string{"llama-bench", "-m", "x", "-r", "7", "-o", "jsonl"}},
		{[]string{"llama-bench", "--repetitions", "2"}, []string{"llama-bench", "--repetitions", "7"}},
		{[]string{"llama-bench", "--repetitions=2"}, []string{"llama-bench", "--repetitions=7"}},
		{[]string{"llama-bench", "-m", "x"}, []string{"llama-bench", "-m", "x", "-r", "7"}},
	} {
		in := append([]string(nil), tc.in...)
		if got := withReps(tc.in, 7); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("withReps(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !reflect.DeepEqual(in, tc.in) {
			t.Errorf("withReps changed its argument: %v", tc.in)
		}
	}
}

func llamaRun(id string, cases map[string][]float64) bench.Run {
	r := bench.Run{ID: id}
	for cid, samples := range cases {
		m, sd := bisect.MeanStd(samples)
		r.Cases = append(r.Cases, bench.CaseResult{ID: cid, Tool: bench.ToolLlamaBench, Backend: "cpu", Model: "tiny-q4_0", Status: bench.StatusOK,
			Llama: []llamabench.Record{{ModelFile: "tiny.gguf", NPrompt: map[string]int{"a": 64, "b": 128}[cid], AvgTS: m, StddevTS: sd, SamplesTS: samples, Backends: "CPU", NBatch: 2048, NUbatch: 512}}})
	}
	return r
}

func TestPickDelta(t *testing.T) {
	good := llamaRun("g", map[string][]float64{"a": {100, 101, 99}, "b": {50, 51, 49}})
	bad := llamaRun("b", map[string][]float64{"a": {90, 91, 89}, "b": {40, 41, 39}})
	c := report.Compare(good, bad, report.CompareOptions{Threshold: 0.05})
	d, err := pickDelta(c, "", "")
	if err != nil || d.New.Case != "b" {
		t.Fatalf("largest regression: %+v %v", d.New, err)
	}
	if d, err = pickDelta(c, "a", "pp64"); err != nil || d.New.Case != "a" {
		t.Fatalf("--case a: %+v %v", d.New, err)
	}
	if _, err = pickDelta(c, "a", "tg128"); err == nil || !strings.Contains(err.Error(), "no llama-bench result of a tg128") {
		t.Fatalf("unknown test: %v", err)
	}
	same := report.Compare(good, good, report.CompareOptions{Threshold: 0.05})
	if _, err = pickDelta(same, "a", ""); err == nil || !strings.Contains(err.Error(), "no regression of a") || !strings.Contains(err.Error(), "unchanged") {
		t.Fatalf("no regression: %v", err)
	}
}

func TestAlignMovesThePin(t *testing.T) {
	set, err := recipes.Request{}.LoadSet()
	if err != nil {
		t.Fatal(err)
	}
	lock, err := recipes.LoadLock("../../stack.lock")
	if err != nil {
		t.Fatal(err)
	}
	tgt, _ := recipes.LookupTarget("gfx1151")
	sel := recipes.Selection{Profile: "smoke"}
	before, err := recipes.MakePlan(set, lock, tgt, sel, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := lock.Component("llama.cpp")
	c.Commit = strings.Repeat("a", 40)
	moved, err := bisect.WithPin(lock, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := recipes.MakePlan(set, moved, tgt, sel, nil); err == nil {
		t.Fatal("a moved lock planned with recipes that disagree")
	}
	align(set, moved)
	after, err := recipes.MakePlan(set, moved, tgt, sel, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Steps) != len(before.Steps) {
		t.Fatalf("steps %d -> %d", len(before.Steps), len(after.Steps))
	}
	for i := range after.Steps {
		if after.Steps[i].Component == "llama.cpp" && (after.Steps[i].Key == before.Steps[i].Key || after.Steps[i].Source.Commit != c.Commit) {
			t.Fatalf("step %s did not move: %+v", after.Steps[i].ID, after.Steps[i].Source)
		}
	}
	first, again := bisectID("g", "b", "c", "pp64", ""), bisectID("g", "b", "c", "pp64", "")
	if first != again || first == bisectID("g", "b", "c", "tg16", "") {
		t.Fatal("bisect ids are not stable per what is bisected")
	}
}

func TestCompareSuggestsBisect(t *testing.T) {
	good := llamaRun("g", map[string][]float64{"a": {100, 101, 99}, "b": {50, 51, 49}})
	bad := llamaRun("b", map[string][]float64{"a": {100, 101, 99}, "b": {40, 41, 39}})
	var out strings.Builder
	err := compareRuns(&out, good, bad, report.CompareOptions{Threshold: 0.05}, false, "")
	if err == nil || !strings.Contains(out.String(), "haloforge bisect --good g --bad b --case b --test pp128 --source COMPONENT=DIR") {
		t.Fatalf("err %v, output:\n%s", err, out.String())
	}
	out.Reset()
	if err := compareRuns(&out, good, good, report.CompareOptions{Threshold: 0.05}, false, ""); err != nil || strings.Contains(out.String(), "bisect") {
		t.Fatalf("no regression: err %v, output:\n%s", err, out.String())
	}
	out.Reset()
	_ = compareRuns(&out, good, bad, report.CompareOptions{Threshold: 0.05}, true, "")
	if strings.Contains(out.String(), "haloforge bisect") {
		t.Fatal("the suggestion broke the JSON output")
	}
}

// TestRebuildCostOrder moves llama.cpp and therock (ROCm, which most of
// the stack is built on) in the real recipes' whole-stack plan: llama.cpp
// rebuilds fewer, lighter steps, so it is tried first.
func TestRebuildCostOrder(t *testing.T) {
	set, err := recipes.Request{}.LoadSet()
	if err != nil {
		t.Fatal(err)
	}
	good, err := recipes.LoadLock("../../stack.lock")
	if err != nil {
		t.Fatal(err)
	}
	bad := good
	for _, name := range []string{"therock", "llama.cpp"} {
		c, _ := good.Component(name)
		c.Commit = strings.Repeat("b", 40)
		if bad, err = bisect.WithPin(bad, c); err != nil {
			t.Fatal(err)
		}
	}
	moves, other := bisect.Diff(good, bad)
	if len(moves) != 2 || len(other) != 0 {
		t.Fatalf("moves %+v other %v", moves, other)
	}
	b := &bisector{set: set, goodLock: good, target: "gfx1151"}
	cost := b.rebuildCost(moves)
	t.Logf("rebuild costs: %v", cost)
	if cost["llama.cpp"] <= 0 || cost["therock"] <= cost["llama.cpp"] {
		t.Fatalf("costs %v: therock must cost more than llama.cpp, both more than 0", cost)
	}
	if o := bisect.Order(moves, cost); o[0].Component != "llama.cpp" || o[1].Component != "therock" {
		t.Fatalf("order %+v", o)
	}
}
