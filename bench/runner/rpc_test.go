package runner

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/store"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
)

// rpcImage is the image RPC tests run workers and llama-bench in: the smoke
// image (which ships ggml's RPC server), or HALOFORGE_RPC_IMAGE.
func rpcImage(t *testing.T, dc *client.Client) string {
	t.Helper()
	ref := runtime.SmokeRef
	if r := os.Getenv("HALOFORGE_RPC_IMAGE"); r != "" {
		ref = r
	}
	dockertest.Image(t, dc, ref)
	img, err := dc.ImageInspect(context.Background(), ref)
	if err != nil || img.Config == nil || !strings.Contains(img.Config.Labels[runtime.LabelPackages], "llama.cpp-tools-extra") {
		msg := "image " + ref + " has no ggml RPC server (llama.cpp-tools-extra): rebuild it with haloforge image smoke"
		if dockertest.Required() {
			t.Fatal("HALOFORGE_REQUIRE_DOCKER=1 but " + msg)
		}
		t.Skip(msg + " (set HALOFORGE_REQUIRE_DOCKER=1 to make this a failure)")
	}
	return ref
}

// fakeSSH writes an "ssh" that runs the remote command on this machine, so
// ssh:// endpoints go through the real "docker system dial-stdio" path
// without an ssh server. It checks the arguments ConnectHost passes.
func fakeSSH(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ssh")
	script := `#!/bin/sh
# fake ssh: -o BatchMode=yes [-l USER] [-p PORT] -- HOST COMMAND...
[ "$1" = "-o" ] && [ "$2" = "BatchMode=yes" ] || { echo "fake ssh: bad args $*" >&2; exit 255; }
while [ "$1" != "--" ]; do shift; done
shift 2
exec "$@"
`
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

type killingProgress struct {
	recordingProgress
	t      *testing.T
	dc     *client.Client
	caseID string
	mu     sync.Mutex
	killed string
	done   chan struct{}
}

// CaseStart kills the second worker of caseID once llama-bench has run
// for a second.
func (p *killingProgress) CaseStart(c suite.Case) {
	if c.ID != p.caseID {
		return
	}
	go func() {
		defer close(p.done)
		ctx := context.Background()
		deadline := time.Now().Add(10 * time.Minute)
		for time.Now().Before(deadline) {
			list, err := p.dc.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("label", LabelCase+"="+c.ID)})
			if err == nil {
				var worker string
				mainRunning := false
				for _, it := range list.Items {
					switch {
					case it.Labels[LabelRole] == "rpc-worker" && it.Labels[LabelHost] == "w2":
						worker = it.ID
					case it.Labels[LabelRole] == "":
						mainRunning = true
					}
				}
				if worker != "" && mainRunning {
					time.Sleep(time.Second)
					if _, err := p.dc.ContainerKill(ctx, worker, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
						p.t.Errorf("docker kill worker: %v", err)
					}
					p.mu.Lock()
					p.killed = worker
					p.mu.Unlock()
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		p.t.Error("never saw the worker and llama-bench of " + c.ID + " running")
	}()
}

// TestRPCSuiteReal runs llama.cpp RPC cases for real: two worker containers
// running ggml's RPC server on the CPU, started through two "hosts" (this
// machine's dockerd reached through its unix socket, and through ssh://
// with "docker system dial-stdio"), and a main container running
// llama-bench --rpc against them over a user-defined network. The second
// case has a worker killed mid-case (docker kill): only that case fails,
// and the next one runs. Results and topology are read back from the
// results database.
func TestRPCSuiteReal(t *testing.T) {
	dc := dockertest.Client(t)
	img := rpcImage(t, dc)
	tiny := dockertest.TinyModel(t)
	endpoint := dc.DaemonHost()
	// w2 is reached over ssh:// (a fake ssh running the real docker system
	// dial-stdio here) when the docker CLI is installed.
	sshEP := "ssh://hf@box2.invalid:2222"
	if _, err := exec.LookPath("docker"); err != nil {
		t.Logf("no docker CLI (%v): w2 uses %s instead of ssh://", err, endpoint)
		sshEP = endpoint
	}
	t.Setenv("HALOFORGE_SSH", fakeSSH(t))
	network := "hf-rpc-test-" + strings.ReplaceAll(time.Now().Format("150405.000"), ".", "")
	y := `
name: rpc-itest
# one thread everywhere: ggml's CPU threads spin, and CI boxes are small and shared
defaults: {timeout: 15m, repetitions: 1, threads: 1}
hosts:
  w1: {docker: "` + endpoint + `"}
  w2: {docker: "` + sshEP + `"}
backends:
  cpu: {image: ` + img + `}
  vulkan: {image: ` + img + `}
models:
  tiny: {path: ` + tiny + `}
cases:
  - tool: llama-bench
    models: [tiny]
    backends: [cpu]
    tests: [pp16/tg4]
    rpc:
      network: ` + network + `
      workers: [{host: w1, backend: cpu}, {host: w2, backend: cpu}]
  - tool: llama-bench
    variant: killed
    models: [tiny]
    backends: [cpu]
    tests: [tg8192]
    repetitions: 5
    rpc:
      network: ` + network + `
      workers: [{host: w1, backend: cpu}, {host: w2, backend: cpu}]
  - tool: llama-bench
    variant: after
    models: [tiny]
    backends: [cpu]
    tests: [tg8]
    rpc:
      network: ` + network + `
      workers: [{host: w1, backend: vulkan, port: 50100}, {host: w2, backend: cpu}]
  - tool: llama-bench
    variant: nostart
    models: [tiny]
    backends: [cpu]
    tests: [tg8]
    rpc:
      network: ` + network + `
      workers: [{host: w1, backend: cpu}, {host: w2, backend: cpu, command: [sh, -c, "echo no device here >&2; exit 3"]}]
`
	s, err := suite.Parse("rpc-itest.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.Expand(suite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	ctx := context.Background()
	binds, _, err := testCache(home, s).Prepare(ctx, s, cases)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(home, "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	prog := &killingProgress{t: t, dc: dc, caseID: cases[1].ID, done: make(chan struct{})}
	r := &Runner{Docker: dc, Home: home, Binds: binds, NamePrefix: "hf-rpc-test-", Progress: prog, Recorder: db}
	start := time.Now()
	run, err := r.Start(ctx, bench.Run{Suite: s.Name}, s.Raw, cases)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("4 RPC cases in %s", time.Since(start).Round(time.Millisecond))
	<-prog.done
	if len(run.Cases) != 4 {
		t.Fatalf("%d cases", len(run.Cases))
	}
	dir := bench.RunDir(home, run.ID)

	ok := run.Cases[0]
	if ok.Status != bench.StatusOK || len(ok.Llama) != 2 {
		t.Fatalf("rpc case: %s %q, %d records (logs in %s)", ok.Status, ok.Error, len(ok.Llama), dir)
	}
	for _, l := range ok.Llama {
		t.Logf("%s %s: %.1f ± %.1f t/s (backends %s, gpu_info %q)", ok.ID, l.Label(), l.AvgTS, l.StddevTS, l.Backends, l.GPUInfo)
		if l.AvgTS <= 0 || !strings.Contains(l.Backends, "RPC") {
			t.Errorf("%s: %v t/s, backends %q", l.Label(), l.AvgTS, l.Backends)
		}
	}
	if i := slices.Index(ok.Args, "--rpc"); i < 1 || ok.Args[i+2] != "-m" {
		t.Errorf("args lack --rpc before -m: %v", ok.Args)
	}
	topo := ok.Topology
	if topo == nil || len(topo.Workers) != 2 || topo.Network != network {
		t.Fatalf("topology %+v", topo)
	}
	tj, _ := json.MarshalIndent(topo, "", "  ")
	t.Logf("topology:\n%s", tj)
	for i, w := range topo.Workers {
		wantHost := []string{"w1", "w2"}[i]
		if w.Host != wantHost || w.Backend != "cpu" || w.Image != img || !strings.HasPrefix(w.ImageID, "sha256:") || w.ExitCode != nil {
			t.Errorf("worker %d: %+v", i, w)
		}
		if !strings.HasSuffix(w.Address, ":50052") || !strings.Contains(ok.Llama[0].GPUInfo, w.Address) {
			t.Errorf("worker %d address %q not in llama-bench gpu_info %q", i, w.Address, ok.Llama[0].GPUInfo)
		}
		if len(w.GPUs) == 0 || !strings.HasPrefix(w.GPUs[0], "CPU: ") || !strings.HasPrefix(w.Server, "v") {
			t.Errorf("worker %d devices %q server %q not read from its banner", i, w.GPUs, w.Server)
		}
		b, err := os.ReadFile(filepath.Join(dir, w.Log))
		if err != nil || !strings.Contains(string(b), "Starting RPC server") || !strings.Contains(string(b), "Accepted client connection") {
			t.Errorf("worker %d log %s: %v %q", i, w.Log, err, b)
		}
	}
	if topo.Workers[0].Endpoint != endpoint || topo.Workers[1].Endpoint != sshEP {
		t.Errorf("endpoints %q %q", topo.Workers[0].Endpoint, topo.Workers[1].Endpoint)
	}
	if hostGIDs, _ := (Host{}).GroupIDs(); strings.Join(topo.Workers[0].GroupAdd, ",") != strings.Join(hostGIDs, ",") {
		t.Errorf("worker groups %v, host's %v", topo.Workers[0].GroupAdd, hostGIDs)
	}

	killed := run.Cases[1]
	t.Logf("killed case: %s after %s, llama-bench exit %d: %s", killed.Status, killed.Finished.Sub(killed.Started).Round(time.Millisecond), killed.ExitCode, killed.Error)
	if killed.Status != bench.StatusCrash || !strings.Contains(killed.Error, "rpc worker w2 ("+sshEP+") exited with code 137 during the case") {
		t.Errorf("killed case: %s %q", killed.Status, killed.Error)
	}
	if kt := killed.Topology; kt == nil || len(kt.Workers) != 2 || kt.Workers[1].ExitCode == nil || *kt.Workers[1].ExitCode != 137 || kt.Workers[0].ExitCode != nil {
		t.Errorf("killed case topology: %+v", kt)
	}
	if d := killed.Finished.Sub(killed.Started); d > time.Minute {
		t.Errorf("killed case took %s: llama-bench was not stopped when its worker died", d)
	}

	after := run.Cases[2]
	t.Logf("after: %s %v", after.Status, after.Error)
	for _, l := range after.Llama {
		t.Logf("after %s: %.1f t/s (backends %s)", l.Label(), l.AvgTS, l.Backends)
	}
	if after.Status != bench.StatusOK || len(after.Llama) != 1 || after.Llama[0].AvgTS <= 0 {
		t.Errorf("suite did not go on after the killed worker: %s %q", after.Status, after.Error)
	}
	if a := after.Topology; a == nil || !strings.HasSuffix(a.Workers[0].Address, ":50100") {
		t.Errorf("after: worker port not used: %+v", a)
	} else {
		// A Vulkan worker: its devices as for a single-box Vulkan case (/dev/dri
		// where the host has it), and the device its server offered (Mesa
		// lavapipe here, a Radeon on Strix Halo).
		vk := a.Workers[0]
		t.Logf("after: vulkan worker offered %q, devices %v, notes %q", vk.GPUs, vk.Devices, vk.Notes)
		if len(vk.GPUs) != 1 || !strings.HasPrefix(vk.GPUs[0], "Vulkan0: ") {
			t.Errorf("vulkan worker devices %q", vk.GPUs)
		}
		if !slices.Contains(vk.Devices, "/dev/dri") && !slices.ContainsFunc(vk.Notes, func(n string) bool { return strings.Contains(n, "/dev/dri absent on host") }) {
			t.Errorf("vulkan worker: no /dev/dri and no note: %+v", vk)
		}
	}

	nostart := run.Cases[3]
	t.Logf("nostart: %s %s", nostart.Status, nostart.Error)
	if nostart.Status != bench.StatusError || !strings.Contains(nostart.Error, "rpc worker w2 ("+sshEP+`) exited with code 3 before listening (its last log line: "no device here")`) {
		t.Errorf("worker that never listened: %s %q", nostart.Status, nostart.Error)
	}
	if nt := nostart.Topology; nt == nil || len(nt.Workers) != 2 || nt.Workers[1].ExitCode == nil || *nt.Workers[1].ExitCode != 3 {
		t.Errorf("nostart topology: %+v", nt)
	}

	// Stored: the database has the same topology.
	stored, err := db.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Cases) != 4 {
		t.Fatalf("stored %d cases", len(stored.Cases))
	}
	for i, c := range stored.Cases {
		got, _ := json.Marshal(c.Topology)
		want, _ := json.Marshal(run.Cases[i].Topology)
		if string(got) != string(want) || c.Status != run.Cases[i].Status {
			t.Errorf("stored case %s: %s %s, ran %s %s", c.ID, c.Status, got, run.Cases[i].Status, want)
		}
	}

	// Nothing left behind: no worker or main container, no network.
	list, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelRun+"="+run.ID)})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("containers left: %d %v", len(list.Items), err)
	}
	if _, err := dc.NetworkInspect(ctx, network, client.NetworkInspectOptions{}); err == nil {
		t.Errorf("network %s left behind", network)
		_, _ = dc.NetworkRemove(ctx, network, client.NetworkRemoveOptions{})
	}
}

// TestRPCInterrupt cancels a run (SIGINT in the CLI) while an RPC case
// runs: the run stops with context.Canceled and its worker and llama-bench
// containers are removed.
func TestRPCInterrupt(t *testing.T) {
	dc := dockertest.Client(t)
	img := rpcImage(t, dc)
	tiny := dockertest.TinyModel(t)
	y := `
name: rpc-interrupt
defaults: {timeout: 15m, repetitions: 1}
hosts:
  local: {docker: "` + dc.DaemonHost() + `"}
backends:
  cpu: {image: ` + img + `}
models:
  tiny: {path: ` + tiny + `}
cases:
  - {tool: llama-bench, models: [tiny], backends: [cpu], tests: [tg2048], repetitions: 20, rpc: {workers: [{host: local, backend: cpu, port: 50180}]}}
`
	s, err := suite.Parse("rpc-interrupt.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.Expand(suite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	binds, _, err := testCache(home, s).Prepare(context.Background(), s, cases)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen bool
	go func() {
		for ctx.Err() == nil {
			list, err := dc.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("label", LabelRole+"=rpc-worker").Add("label", LabelCase+"="+cases[0].ID)})
			if err == nil && len(list.Items) == 1 {
				main, _ := dc.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("name", "hf-rpc-int-")})
				if len(main.Items) == 2 {
					seen = true
					time.Sleep(500 * time.Millisecond)
					cancel()
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	r := &Runner{Docker: dc, Home: home, Binds: binds, NamePrefix: "hf-rpc-int-"}
	run := bench.Run{Suite: s.Name}
	_, err = r.Start(ctx, run, s.Raw, cases)
	if !errors.Is(err, context.Canceled) || !seen {
		t.Fatalf("run returned %v (worker and llama-bench seen running: %v)", err, seen)
	}
	list, err := dc.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("name", "hf-rpc-int-")})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("containers left after interrupt: %d %v", len(list.Items), err)
	}
}

// TestRPCLeftovers: worker containers a killed runner left on a worker host
// are removed when the run is resumed (by their labels).
func TestRPCLeftovers(t *testing.T) {
	dc := dockertest.Client(t)
	img := rpcImage(t, dc)
	ctx := context.Background()
	runID := "hf-rpc-leftover-" + time.Now().Format("150405.000000")
	created, err := dc.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: "hf-rpc-leftover-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", ""),
		Config: &container.Config{Image: img, Entrypoint: []string{"sleep"}, Cmd: []string{"600"},
			Labels: map[string]string{LabelRun: runID, LabelRole: "rpc-worker", LabelHost: "w1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = dc.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{Force: true}) }()
	if _, err := dc.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []suite.Case{{ID: "x", RPC: &suite.RPC{Workers: []suite.RPCWorker{{Host: "w1", Endpoint: suite.Host{Docker: dc.DaemonHost()}}}}}}
	(&Runner{Docker: dc}).removeRPCLeftovers(ctx, runID, cases)
	if _, err := dc.ContainerInspect(ctx, created.ID, client.ContainerInspectOptions{}); err == nil {
		t.Error("leftover worker still there")
	}
}
