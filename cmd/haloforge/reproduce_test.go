package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
	"github.com/haloforge/haloforge/recipes"
)

// miniSmoke is a one-case suite on the smoke profile's image: enough to
// prove reproduce end to end in seconds.
const miniSmoke = `name: mini-smoke
profile: smoke
defaults: {timeout: 15m, repetitions: 2}
backends:
  cpu: {image: haloforge/runtime-smoke:sid}
models:
  tiny-q4_0: {tiny: {type: q4_0}}
cases:
  - {tool: llama-bench, models: [tiny-q4_0], backends: [cpu], fa: [0], tests: [pp16/tg4]}
`

func readRun(t *testing.T, home, id string) bench.Run {
	t.Helper()
	var r bench.Run
	b, err := os.ReadFile(filepath.Join(bench.RunDir(home, id), "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReproduceSmokeRun benches a real run, reproduces it through the real
// binary and daemon, and checks the reproduction made the same plan and ran
// the same cases; a tampered lock stops it.
func TestReproduceSmokeRun(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	bin := buildBinary(t)
	home := testHome(t)
	suitePath := filepath.Join(t.TempDir(), "mini.yaml")
	if err := os.WriteFile(suitePath, []byte(miniSmoke), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := haloforge(bin, home, "bench", "--suite", suitePath, "--plain").CombinedOutput(); err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	origID := onlyRun(t, home)
	orig := readRun(t, home, origID)
	if orig.Stack == nil || orig.Stack.Profile != "smoke" || !strings.HasPrefix(orig.Stack.PlanDigest, "sha256:") || orig.LockDigest == "" {
		t.Fatalf("run recorded no stack provenance: %+v lock %q", orig.Stack, orig.LockDigest)
	}
	if _, err := os.Stat(filepath.Join(bench.RunDir(home, origID), stackFile)); err != nil {
		t.Fatalf("run directory lacks its lock: %v", err)
	}

	// Reproduce from a directory whose stack.lock has moved on (llama.cpp
	// pinned elsewhere): the reproduction must record the run's own lock,
	// not the one in effect where it is started.
	repoLock, err := recipes.LoadLock("../../stack.lock")
	if err != nil {
		t.Fatal(err)
	}
	llama, ok := repoLock.Component("llama.cpp")
	if !ok {
		t.Fatal("stack.lock has no llama.cpp")
	}
	moved := bytes.ReplaceAll(repoLock.Marshal(), []byte(llama.Commit), []byte(strings.Repeat("0", 40)))
	elsewhere := t.TempDir()
	if err := os.WriteFile(filepath.Join(elsewhere, stackFile), moved, 0o644); err != nil {
		t.Fatal(err)
	}
	repro := haloforge(bin, home, "reproduce", origID, "--plain", "--threshold", "1000%")
	repro.Dir = elsewhere
	out, err := repro.CombinedOutput()
	if err != nil {
		t.Fatalf("reproduce: %v\n%s", err, out)
	}
	t.Logf("haloforge reproduce %s:\n%s", origID, out)
	for _, want := range []string{"plan   same as the run: " + orig.Stack.PlanDigest, "rerunning the 1 case(s) of " + origID, "reproduced as"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("reproduce output lacks %q", want)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(home, "runs"))
	if len(ents) != 2 {
		t.Fatalf("want the original and one reproduction, got %d runs", len(ents))
	}
	var newID string
	for _, e := range ents {
		if e.Name() != origID {
			newID = e.Name()
		}
	}
	next := readRun(t, home, newID)
	if next.ReproOf != origID || next.Stack == nil || next.Stack.PlanDigest != orig.Stack.PlanDigest || next.LockDigest != orig.LockDigest {
		t.Errorf("reproduction header: repro_of %q stack %+v lock %q", next.ReproOf, next.Stack, next.LockDigest)
	}
	a, _ := os.ReadFile(filepath.Join(bench.RunDir(home, origID), "plan.json"))
	b, _ := os.ReadFile(filepath.Join(bench.RunDir(home, newID), "plan.json"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the reproduction's cases differ from the original's:\n%s\n---\n%s", a, b)
	}
	for id, c := range map[string][]byte{origID: a} {
		if !bytes.Contains(c, []byte("pp16-tg4")) {
			t.Errorf("%s: unexpected cases %s", id, c)
		}
	}

	// A run directory whose lock was edited is refused, not silently rebuilt.
	lockPath := filepath.Join(bench.RunDir(home, origID), stackFile)
	data, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "commit: d17a809ef0af09b16625e991a76f6fe80d9c332e", "commit: 0000000000000000000000000000000000000000", 1)
	if edited == string(data) {
		t.Fatal("test no longer edits the lock: update the pinned llama.cpp commit here")
	}
	if err := os.WriteFile(lockPath, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = haloforge(bin, home, "reproduce", origID, "--plain").CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("the run directory was modified")) {
		t.Fatalf("tampered lock: err %v\n%s", err, out)
	}
	t.Logf("tampered lock: %s", bytes.TrimSpace(out))
}
