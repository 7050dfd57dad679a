package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/runner"
	"github.com/haloforge/haloforge/bench/store"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
)

// buildBinary builds the haloforge CLI for tests that exec it.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "haloforge")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// testHome is a fresh HALOFORGE_HOME with the tiny model in its cache.
func testHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	src := dockertest.TinyModel(t)
	dst := filepath.Join(bench.ModelDir(home), "tiny", "tiny-q4_0.gguf")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return home
}

func haloforge(bin, home string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HALOFORGE_HOME="+home)
	return cmd
}

func caseFiles(t *testing.T, runDir string) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(runDir, "cases", "*.json"))
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func onlyRun(t *testing.T, home string) string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(home, "runs"))
	if err != nil || len(ents) != 1 {
		t.Fatalf("want one run under %s: %v %v", home, ents, err)
	}
	return ents[0].Name()
}

// TestKill9Resume kills a real haloforge bench process with SIGKILL while a
// case is in flight, then resumes: the finished case is neither rerun nor
// lost, the in-flight one is rerun, nothing is duplicated on disk or in the
// results database, and the orphaned container is removed.
func TestKill9Resume(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	bin := buildBinary(t)
	home := testHome(t)
	suiteFile := filepath.Join(t.TempDir(), "resume.yaml")
	y := `name: resume
defaults: {timeout: 15m, repetitions: 1}
backends:
  cpu: {image: ` + runtime.SmokeRef + `}
models:
  tiny: {tiny: {type: q4_0}}
cases:
  - {tool: llama-bench, variant: first, models: [tiny], backends: [cpu], tests: [tg4]}
  - {tool: llama-bench, variant: slow, models: [tiny], backends: [cpu], tests: [pp1024/tg64], repetitions: 2}
  - {tool: llama-bench, variant: last, models: [tiny], backends: [cpu], tests: [tg4]}
`
	if err := os.WriteFile(suiteFile, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	var out1 bytes.Buffer
	cmd := haloforge(bin, home, "bench", "--suite", suiteFile, "--container-prefix", "hf-runner-test-")
	cmd.Stdout, cmd.Stderr = &out1, &out1
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until case 0 is recorded and case 1's container is running.
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Minute)
	var runID string
	for {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("case 1 never started:\n%s", out1.String())
		}
		time.Sleep(100 * time.Millisecond)
		ents, _ := os.ReadDir(filepath.Join(home, "runs"))
		if len(ents) != 1 {
			continue
		}
		runID = ents[0].Name()
		if len(caseFiles(t, bench.RunDir(home, runID))) != 1 {
			continue
		}
		list, err := dc.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("label", runner.LabelRun+"="+runID).Add("status", "running")})
		if err == nil && len(list.Items) == 1 && list.Items[0].Labels[runner.LabelCase] == "llama/tiny/cpu/fa0/pp1024-tg64/slow" {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	runDir := bench.RunDir(home, runID)
	before := caseFiles(t, runDir)
	if len(before) != 1 {
		t.Fatalf("after kill -9: %d case files, want 1", len(before))
	}
	t.Logf("killed with 1/3 cases done, case 1 in flight:\n%s", out1.String())

	out2, err := haloforge(bin, home, "bench", "--resume", "--plain", "--container-prefix", "hf-runner-test-").CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out2)
	}
	t.Logf("resume:\n%s", out2)
	if !strings.Contains(string(out2), "3 cases, 1 already done, resuming") {
		t.Errorf("resume did not report the finished case")
	}
	if strings.Contains(string(out2), "first ...") {
		t.Errorf("the finished case was rerun")
	}
	after := caseFiles(t, runDir)
	if len(after) != 3 {
		t.Fatalf("%d case files after resume, want 3", len(after))
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("finished case %s was rewritten", name)
		}
	}
	for name, b := range after {
		var c bench.CaseResult
		if err := json.Unmarshal(b, &c); err != nil || c.Status != bench.StatusOK {
			t.Errorf("%s: %s %v", name, c.Status, err)
		}
	}
	var run bench.Run
	b, _ := os.ReadFile(filepath.Join(runDir, "run.json"))
	if err := json.Unmarshal(b, &run); err != nil || run.Finished.IsZero() {
		t.Errorf("run not finished: %v", err)
	}
	db, err := store.Open(bench.DBPath(home))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	stored, err := db.Run(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range stored.Cases {
		if seen[c.ID] {
			t.Errorf("case %s stored twice", c.ID)
		}
		seen[c.ID] = true
	}
	if len(stored.Cases) != 3 {
		t.Errorf("store has %d cases, want 3", len(stored.Cases))
	}
	list, _ := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", runner.LabelRun+"="+runID)})
	if len(list.Items) != 0 {
		t.Errorf("%d containers of the run left", len(list.Items))
	}
	// Resuming a finished run is refused.
	if out, err := haloforge(bin, home, "bench", "--resume", runID).CombinedOutput(); err == nil || !strings.Contains(string(out), "nothing to resume") {
		t.Errorf("resume of a finished run: %v %s", err, out)
	}
}

// TestSmokeEndToEnd is the main job: haloforge bench --suite smoke through
// the real binary, real daemon and Debian sid's llama-bench, asserting every
// case is present with t/s > 0 and its logs saved.
func TestSmokeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the smoke suite takes a few minutes on 2 cores; skipped with -short")
	}
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	bin := buildBinary(t)
	home := testHome(t)
	// The suite's 5m limit is for a quiet box; a loaded 2-core CI machine
	// gets room so a slow lavapipe case is not recorded as a hang.
	cmd := haloforge(bin, home, "bench", "--suite", "smoke", "--timeout", "15m", "--container-prefix", "hf-runner-test-")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("smoke: %v\n%s", err, out.String())
	}
	t.Logf("smoke suite in %s:\n%s", time.Since(start).Round(time.Second), out.String())
	runID := onlyRun(t, home)
	runDir := bench.RunDir(home, runID)
	var run bench.Run
	b, _ := os.ReadFile(filepath.Join(runDir, "run.json"))
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	if run.Finished.IsZero() || run.Host.Hostname == "" || run.Images[runtime.SmokeRef].Labels[runtime.LabelLlamaBench] == "" {
		t.Errorf("run header incomplete: finished %v host %+v images %+v", run.Finished, run.Host, run.Images)
	}
	if run.Models["tiny-q4_0"].SHA256 == nil {
		t.Errorf("model provenance missing: %+v", run.Models)
	}
	want := []string{
		"llama/tiny-q4_0/cpu/fa0/pp64-tg16", "llama/tiny-q4_0/cpu/fa1/pp64-tg16",
		"llama/tiny-q4_0/vulkan/fa0/pp64-tg16", "llama/tiny-q4_0/vulkan/fa1/pp64-tg16",
	}
	// The reference check: the CPU saves the reference, Vulkan (lavapipe) is ok against it.
	kld := []string{"kld/tiny-q4_0/cpu/c128-n4", "kld/tiny-q4_0/vulkan/c128-n4"}
	files := caseFiles(t, runDir)
	if len(files) != len(want)+len(kld) {
		t.Fatalf("%d case files, want %d", len(files), len(want)+len(kld))
	}
	got := map[string]bench.CaseResult{}
	for _, b := range files {
		var c bench.CaseResult
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		got[c.ID] = c
	}
	for _, id := range kld {
		if c := got[id]; c.Status != bench.StatusOK || c.Correct == nil || (c.Backend == "vulkan" && c.Correct.Verdict != "ok") {
			t.Errorf("%s: %s %q %+v", id, c.Status, c.Error, c.Correct)
		}
	}
	for _, id := range want {
		c, ok := got[id]
		if !ok {
			t.Errorf("case %s missing", id)
			continue
		}
		if c.Status != bench.StatusOK || len(c.Llama) != 2 {
			t.Errorf("%s: %s %q, %d records", id, c.Status, c.Error, len(c.Llama))
		}
		for _, l := range c.Llama {
			if l.AvgTS <= 0 || len(l.SamplesTS) != 2 {
				t.Errorf("%s %s: %v t/s, %d samples", id, l.Label(), l.AvgTS, len(l.SamplesTS))
			}
		}
		for _, lg := range []string{c.StdoutLog, c.StderrLog} {
			if st, err := os.Stat(filepath.Join(runDir, lg)); err != nil || st.Size() == 0 {
				t.Errorf("%s: log %s missing or empty", id, lg)
			}
		}
		if strings.Contains(id, "vulkan") {
			if c.Env["GGML_VK_VISIBLE_DEVICES"] != "0" || !strings.Contains(c.Llama[0].GPUInfo, "llvmpipe") {
				t.Errorf("%s did not run on lavapipe: env %v gpu %q", id, c.Env, c.Llama[0].GPUInfo)
			}
		}
	}
	for _, s := range []string{"case", "t/s", "pp64", "tg16"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("results table lacks %q", s)
		}
	}
}
