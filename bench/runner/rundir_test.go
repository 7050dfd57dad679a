package runner

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/suite"
)

func TestRunDirLifecycle(t *testing.T) {
	home := t.TempDir()
	cases := []suite.Case{{Index: 0, ID: "a/b"}, {Index: 1, ID: "c/d"}}
	now := time.Date(2026, 11, 26, 13, 4, 5, 0, time.UTC)
	run := bench.Run{ID: NewRunID(now, "smoke"), Suite: "smoke", Started: now}
	d, err := CreateRun(home, &run, []byte("name: smoke\n"), cases)
	if err != nil {
		t.Fatal(err)
	}
	if run.ID != "20261126-130405-smoke" {
		t.Errorf("id %s", run.ID)
	}
	// Same second: a distinct id.
	run2 := bench.Run{ID: run.ID, Suite: "smoke", Started: now.Add(time.Millisecond)}
	if _, err := CreateRun(home, &run2, nil, cases); err != nil || run2.ID != run.ID+"-2" {
		t.Fatalf("second run id %q, %v", run2.ID, err)
	}
	if id, err := LatestUnfinished(home); err != nil || id != run2.ID {
		t.Fatalf("latest unfinished %q %v", id, err)
	}
	// A torn temporary file from a killed writer is ignored and removed.
	tmp := filepath.Join(d.Path, casesDir, ".tmp-001-c_d.json-123")
	if err := os.WriteFile(tmp, []byte(`{"id":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteCase(cases[0], bench.CaseResult{ID: "a/b", Status: bench.StatusOK}); err != nil {
		t.Fatal(err)
	}
	got, err := d.Results()
	if err != nil || len(got) != 1 || got[0].ID != "a/b" {
		t.Fatalf("results %v %v", got, err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Error("temporary file not removed")
	}
	_, r2, plan, err := OpenRun(home, run.ID)
	if err != nil || r2.Suite != "smoke" || len(plan) != 2 || plan[1].ID != "c/d" {
		t.Fatalf("open: %+v %v %v", r2, plan, err)
	}
	run.Finished = now.Add(time.Minute)
	run2.Finished = now.Add(time.Minute)
	for _, r := range []bench.Run{run, run2} {
		dd := &RunDir{Path: bench.RunDir(home, r.ID)}
		if err := dd.WriteHeader(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LatestUnfinished(home); !errors.Is(err, ErrNoUnfinished) {
		t.Fatalf("got %v, want ErrNoUnfinished", err)
	}
	// A corrupt case file is an error naming the fix, never silently dropped.
	if err := os.WriteFile(filepath.Join(d.Path, casesDir, "001-c_d.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Results(); err == nil || !strings.Contains(err.Error(), "remove it to rerun") {
		t.Fatalf("corrupt file: %v", err)
	}
}

func TestHostGroupsAndDevices(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	group := "root:x:0:\nvideo:x:44:\nrender:x:991:user\nrender2:x:5:\n"
	if err := os.WriteFile(filepath.Join(root, "etc", "group"), []byte(group), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "dev", "dri"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := Host{Root: root}
	gids, err := h.GroupIDs()
	if err != nil || !slices.Equal(gids, []string{"44", "991"}) {
		t.Fatalf("gids %v %v", gids, err)
	}
	have, notes := h.Devices([]string{"/dev/kfd", "/dev/dri"})
	if !slices.Equal(have, []string{"/dev/dri"}) || len(notes) != 1 || !strings.Contains(notes[0], "/dev/kfd absent") {
		t.Fatalf("devices %v notes %v", have, notes)
	}
	opts, devs, _, err := (&Runner{Host: h}).containerSpec("r1", suite.Case{Index: 3, Image: "img", Backend: "hip", Argv: []string{"llama-bench", "-p", "1"}, Devices: []string{"/dev/kfd", "/dev/dri"}, Env: map[string]string{"B": "2", "A": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	hc := opts.HostConfig
	switch {
	case hc.Privileged:
		t.Error("privileged")
	case !slices.Equal(hc.SecurityOpt, []string{"seccomp=unconfined"}):
		t.Errorf("security %v", hc.SecurityOpt)
	case string(hc.IpcMode) != "host":
		t.Errorf("ipc %v", hc.IpcMode)
	case !slices.Equal(hc.GroupAdd, []string{"44", "991"}):
		t.Errorf("groups %v", hc.GroupAdd)
	case len(hc.Devices) != 1 || hc.Devices[0].PathOnHost != "/dev/dri" || !slices.Equal(devs, []string{"/dev/dri"}):
		t.Errorf("devices %+v", hc.Devices)
	case !slices.Equal(opts.Config.Env, []string{"A=1", "B=2"}):
		t.Errorf("env %v", opts.Config.Env)
	case opts.Name != "haloforge-r1-003" || opts.Config.Labels[LabelRun] != "r1":
		t.Errorf("name %s labels %v", opts.Name, opts.Config.Labels)
	case !slices.Equal(opts.Config.Entrypoint, []string{"llama-bench"}) || !slices.Equal(opts.Config.Cmd, []string{"-p", "1"}):
		t.Errorf("argv %v %v", opts.Config.Entrypoint, opts.Config.Cmd)
	}
}
