package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/runner"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
)

// slowSuite has a quick case, a slow one (a few seconds of llama-bench on
// the CPU) and a quick one.
func slowSuite(t *testing.T, name string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+".yaml")
	y := `name: ` + name + `
defaults: {timeout: 5m, repetitions: 1}
backends:
  cpu: {image: ` + runtime.SmokeRef + `}
models:
  tiny: {tiny: {type: q4_0}}
cases:
  - {tool: llama-bench, variant: first, models: [tiny], backends: [cpu], tests: [tg4]}
  - {tool: llama-bench, variant: slow, models: [tiny], backends: [cpu], tests: [pp1024/tg64], repetitions: 2}
  - {tool: llama-bench, variant: last, models: [tiny], backends: [cpu], tests: [tg4]}
`
	if err := os.WriteFile(f, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// waitRunning waits until the only run under home has a running case container.
func waitRunning(t *testing.T, dc *client.Client, home string, out *bytes.Buffer) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		ents, _ := os.ReadDir(filepath.Join(home, "runs"))
		if len(ents) != 1 {
			continue
		}
		id := ents[0].Name()
		list, err := dc.ContainerList(context.Background(), client.ContainerListOptions{Filters: make(client.Filters).Add("label", runner.LabelRun+"="+id).Add("status", "running")})
		if err == nil && len(list.Items) == 1 {
			return id
		}
	}
	t.Fatalf("no case container started:\n%s", out.String())
	return ""
}

// TestResumeRefusesLiveRun: while one haloforge bench process runs a suite,
// a second process's --resume of that run is refused and names the holder;
// the first run finishes with every case ok (its container was not taken
// away) and no case file is written twice.
func TestResumeRefusesLiveRun(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	bin := buildBinary(t)
	home := testHome(t)
	var out1 bytes.Buffer
	a := haloforge(bin, home, "bench", "--plain", "--suite", slowSuite(t, "live"), "--container-prefix", "hf-runner-test-")
	a.Stdout, a.Stderr = &out1, &out1
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	id := waitRunning(t, dc, home, &out1)

	out2, err := haloforge(bin, home, "bench", "--resume", "--plain", "--container-prefix", "hf-runner-test-").CombinedOutput()
	t.Logf("second process: %v\n%s", err, out2)
	if err == nil || !strings.Contains(string(out2), "is in progress") || !strings.Contains(string(out2), fmt.Sprintf("pid %d", a.Process.Pid)) {
		t.Errorf("--resume of a live run was not refused with the holder's pid %d: %v\n%s", a.Process.Pid, err, out2)
	}
	out3, err := haloforge(bin, home, "bench", "--resume", id, "--plain", "--container-prefix", "hf-runner-test-").CombinedOutput()
	if err == nil || !strings.Contains(string(out3), "is in progress") {
		t.Errorf("--resume %s of a live run was not refused: %v\n%s", id, err, out3)
	}
	if err := a.Wait(); err != nil {
		t.Fatalf("the first run failed after the second process tried to resume it: %v\n%s", err, out1.String())
	}
	files := caseFiles(t, bench.RunDir(home, id))
	if len(files) != 3 {
		t.Fatalf("%d case files, want 3", len(files))
	}
	for name, b := range files {
		var c bench.CaseResult
		if err := json.Unmarshal(b, &c); err != nil || c.Status != bench.StatusOK {
			t.Errorf("%s: %s %s %v", name, c.Status, c.Error, err)
		}
	}
}

// TestConcurrentRunsWarn: a second bench run in the same home while one is
// running says that both measure at the same time.
func TestConcurrentRunsWarn(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	bin := buildBinary(t)
	home := testHome(t)
	var out1 bytes.Buffer
	a := haloforge(bin, home, "bench", "--plain", "--suite", slowSuite(t, "first"), "--container-prefix", "hf-runner-test-")
	a.Stdout, a.Stderr = &out1, &out1
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Wait() }()
	id := waitRunning(t, dc, home, &out1)
	out2, err := haloforge(bin, home, "bench", "--plain", "--suite", "smoke", "--list").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out2)
	}
	// --list measures nothing: no warning.
	if strings.Contains(string(out2), "at the same time") {
		t.Errorf("--list warned: %s", out2)
	}
	b := haloforge(bin, home, "bench", "--plain", "--suite", slowSuite(t, "second"), "--container-prefix", "hf-runner-test-")
	out3, err := b.CombinedOutput()
	t.Logf("second run: %v\n%s", err, out3)
	if !strings.Contains(string(out3), "warning: run "+id+" is running in this home at the same time") {
		t.Errorf("no warning about the concurrent run %s", id)
	}
}

// TestOrphansReaped: a case container whose haloforge was killed with
// SIGKILL keeps running; haloforge doctor, and the next bench, stop and
// remove it and say so.
func TestOrphansReaped(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	bin := buildBinary(t)
	home := testHome(t)
	ctx := context.Background()
	killMidCase := func(suiteName string) string {
		var out bytes.Buffer
		a := haloforge(bin, home, "bench", "--plain", "--suite", slowSuite(t, suiteName), "--container-prefix", "hf-runner-test-")
		a.Stdout, a.Stderr = &out, &out
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		id := ""
		for deadline := time.Now().Add(3 * time.Minute); id == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			list, err := dc.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("label", runner.LabelHome+"="+home).Add("label", runner.LabelCase).Add("status", "running")})
			if err == nil && len(list.Items) == 1 && !strings.HasSuffix(list.Items[0].Labels[runner.LabelCase], "/first") {
				id = list.Items[0].ID
			}
		}
		if id == "" {
			_ = a.Process.Kill()
			t.Fatalf("no case container:\n%s", out.String())
		}
		_ = a.Process.Signal(syscall.SIGKILL)
		_ = a.Wait()
		time.Sleep(time.Second)
		ins, err := dc.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil || ins.Container.State == nil || !ins.Container.State.Running {
			t.Fatalf("the case container did not outlive its killed haloforge: %v", err)
		}
		return id
	}
	gone := func(id string) bool {
		_, err := dc.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		return err != nil
	}

	id := killMidCase("orphan1")
	out, _ := haloforge(bin, home, "doctor").CombinedOutput()
	t.Logf("doctor:\n%s", out)
	if !strings.Contains(string(out), "stopped and removed orphaned container hf-runner-test-") || !gone(id) {
		t.Errorf("doctor did not reap the orphan (gone: %v)", gone(id))
	}

	id = killMidCase("orphan2")
	c := haloforge(bin, home, "bench", "--plain", "--suite", "smoke", "--container-prefix", "hf-runner-test-")
	out, err := c.CombinedOutput()
	t.Logf("next bench: %v\n%s", err, out)
	if !strings.Contains(string(out), "stopped and removed orphaned container hf-runner-test-") || !gone(id) {
		t.Errorf("bench did not reap the orphan (gone: %v)", gone(id))
	}
}
