package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// longSuite is slowSuite whose slow case runs for about a minute even on a
// quiet machine (pp1024/tg64 on the tiny model takes about a second there),
// for tests that kill haloforge while that case runs.
func longSuite(t *testing.T, name string) string {
	t.Helper()
	f := slowSuite(t, name)
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("tests: [pp1024/tg64], repetitions: 2"), []byte("tests: [tg4096], repetitions: 30"), 1)
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// waitRunning waits until the only run under home has a running case container.
func waitRunning(t *testing.T, dc *client.Client, home string, out *bytes.Buffer) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
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
		a := haloforge(bin, home, "bench", "--plain", "--suite", longSuite(t, suiteName), "--container-prefix", "hf-runner-test-")
		a.Stdout, a.Stderr = &out, &out
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		id := ""
		for deadline := time.Now().Add(10 * time.Minute); id == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			list, err := dc.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("label", runner.LabelHome+"="+home).Add("label", runner.LabelCase).Add("status", "running")})
			// The slow case, not the first one nor the short llama-bench
			// --help container that fits the argv before a case.
			if err == nil && len(list.Items) == 1 && strings.HasSuffix(list.Items[0].Labels[runner.LabelCase], "/slow") {
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

// startAfterFirstCase starts a bench of slowSuite in home and returns once
// its first case is recorded.
func startAfterFirstCase(t *testing.T, bin, home, name string, out *bytes.Buffer) (*exec.Cmd, string) {
	t.Helper()
	a := haloforge(bin, home, "bench", "--plain", "--suite", slowSuite(t, name), "--container-prefix", "hf-runner-test-")
	a.Stdout, a.Stderr = out, out
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ents, _ := os.ReadDir(filepath.Join(home, "runs"))
		if len(ents) == 1 && len(caseFiles(t, bench.RunDir(home, ents[0].Name()))) == 1 {
			return a, ents[0].Name()
		}
	}
	_ = a.Process.Kill()
	t.Fatalf("first case never recorded:\n%s", out.String())
	return nil, ""
}

// TestDBDeletedMidRunRebuilt: results.db removed while a run goes; the
// run says so and names db rebuild, which puts the run back from disk.
func TestDBDeletedMidRunRebuilt(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	bin := buildBinary(t)
	home := testHome(t)
	var out bytes.Buffer
	a, id := startAfterFirstCase(t, bin, home, "dbgone", &out)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(bench.DBPath(home) + suffix)
	}
	err := a.Wait()
	t.Logf("run: %v\n%s", err, out.String())
	if err == nil || !strings.Contains(out.String(), "was removed while the run was going") || !strings.Contains(out.String(), "haloforge db rebuild") {
		t.Errorf("the run did not report its lost database: %v", err)
	}
	rb, err := haloforge(bin, home, "db", "rebuild").CombinedOutput()
	t.Logf("db rebuild: %v\n%s", err, rb)
	if err != nil || !strings.Contains(string(rb), "rebuilt 1 run(s), 3 case(s)") {
		t.Fatalf("db rebuild: %v", err)
	}
	db, err := store.Open(bench.DBPath(home))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	run, err := db.Run(context.Background(), id)
	if err != nil || len(run.Cases) != 3 || run.Finished.IsZero() {
		t.Fatalf("rebuilt run %s: %d cases, finished %v, %v", id, len(run.Cases), run.Finished, err)
	}
	// Idempotent.
	if rb, err := haloforge(bin, home, "db", "rebuild").CombinedOutput(); err != nil || !strings.Contains(string(rb), "rebuilt 1 run(s), 3 case(s)") {
		t.Errorf("second rebuild: %v %s", err, rb)
	}
}

// TestDiskFullNamesResume: the home's disk (a small tmpfs) fills up during
// a run; the run stops with a message naming --resume, which finishes it
// once space is freed, with no case lost or duplicated.
func TestDiskFullNamesResume(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	bin := buildBinary(t)
	src := testHome(t)
	home := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", home).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", home).Run() })
	if out, err := exec.Command("cp", "-a", src+"/.", home).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	var out bytes.Buffer
	a, id := startAfterFirstCase(t, bin, home, "diskfull", &out)
	filler := filepath.Join(home, "filler")
	_ = exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=64k").Run() // until ENOSPC
	err := a.Wait()
	t.Logf("run on a full disk: %v\n%s", err, out.String())
	if err == nil || !strings.Contains(out.String(), "haloforge bench --resume "+id) {
		t.Fatalf("the run on a full disk did not name the command that continues it")
	}
	_ = os.Remove(filler)
	res, err := haloforge(bin, home, "bench", "--resume", id, "--plain", "--container-prefix", "hf-runner-test-").CombinedOutput()
	t.Logf("resume: %v\n%s", err, res)
	if err != nil {
		t.Fatal(err)
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

// TestGPUFaultForensicsAndPolicy feeds amdgpu kernel log lines from an
// upstream bug report (a ring timeout, a failed ring reset, a MODE2 GPU
// reset: https://github.com/ROCm/legacy-rocm-build/issues/6273) through the
// kernel log reader (a file in place of /dev/kmsg) while a GPU case runs
// past its limit: the case records the lines and is shown as "GPU Reset";
// the GPU is probed before the next GPU case, and the policy follows: with
// a recovery command that brings it back the suite goes on, without one
// the remaining GPU cases are not run and the message names the resume.
func TestGPUFaultForensicsAndPolicy(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	bin := buildBinary(t)
	upstream, err := os.ReadFile(filepath.Join("..", "..", "bench", "kernlog", "testdata", "ring-timeout-reset.dmesg"))
	if err != nil {
		t.Fatal(err)
	}
	sf := filepath.Join(t.TempDir(), "fault.yaml")
	y := `name: fault
defaults: {repetitions: 1}
backends:
  vulkan: {image: ` + runtime.SmokeRef + `, device: software}
models:
  tiny: {tiny: {type: q4_0}}
cases:
  - {tool: llama-bench, variant: hang, models: [tiny], backends: [vulkan], tests: [pp4096/tg2048], repetitions: 20, timeout: 4s}
  - {tool: llama-bench, variant: next, models: [tiny], backends: [vulkan], tests: [tg4]}
`
	if err := os.WriteFile(sf, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(extra ...string) (string, string, error) {
		home := testHome(t)
		kmsg := filepath.Join(t.TempDir(), "kmsg")
		if err := os.WriteFile(kmsg, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		c := haloforge(bin, home, append([]string{"bench", "--plain", "--suite", sf, "--container-prefix", "hf-runner-test-"}, extra...)...)
		c.Env = append(c.Env, "HALOFORGE_KMSG="+kmsg)
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		// The kernel logs the fault while the first case runs.
		waitRunning(t, dc, home, &out)
		f, err := os.OpenFile(kmsg, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.Write(upstream)
		_ = f.Close()
		err = c.Wait()
		return out.String(), home, err
	}

	dir := t.TempDir()
	out, home, err := run("--gpu-probe", "test -e "+dir+"/ok", "--gpu-recovery", "touch "+dir+"/ok")
	t.Logf("with a recovery command: %v\n%s", err, out)
	for _, want := range []string{"GPU Reset", "running the recovery command", "answered"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	files := caseFiles(t, bench.RunDir(home, onlyRun(t, home)))
	var hang, next bench.CaseResult
	for name, b := range files {
		var c bench.CaseResult
		_ = json.Unmarshal(b, &c)
		if strings.Contains(name, "hang") {
			hang = c
		} else {
			next = c
		}
	}
	if hang.Status != bench.StatusHang || strings.Join(hang.Faults, ",") != "gpu-reset,gpu-hang" || len(hang.Kernel) != 8 || !strings.Contains(hang.Kernel[0], "ring gfx_0.0.0 timeout") {
		t.Errorf("hung case: %s faults %v kernel %q", hang.Status, hang.Faults, hang.Kernel)
	}
	if next.Status != bench.StatusOK {
		t.Errorf("after recovery the next GPU case is %s: %s", next.Status, next.Error)
	}

	out, _, err = run("--gpu-probe", "false")
	t.Logf("without a recovery command: %v\n%s", err, out)
	if err == nil || !strings.Contains(out, "GPU did not answer after a fault") || !strings.Contains(out, "haloforge bench --resume") || !strings.Contains(out, "skipped") {
		t.Errorf("the policy without recovery was not followed")
	}
}
