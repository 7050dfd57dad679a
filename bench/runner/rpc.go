package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/suite"
)

// RPC cases: llama-bench on the main host with --rpc pointing at ggml RPC
// servers that the runner starts, one container each, on worker hosts
// through their Docker Engine endpoints. Worker containers carry the run
// and case labels plus LabelRole, so a resumed run (or the next case) removes
// leftovers of a runner that was killed.

// Labels on RPC worker containers besides LabelRun and LabelCase.
const (
	LabelRole = "io.haloforge.role" // "rpc-worker"
	LabelHost = "io.haloforge.host" // the suite's host name
	// LabelNetwork marks a network haloforge created for an RPC case.
	LabelNetwork = "io.haloforge.network"
)

// RPCReadyTimeout bounds how long a worker may take to listen.
var RPCReadyTimeout = 2 * time.Minute

// HostConnector connects to a worker host's Docker Engine.
type HostConnector func(ctx context.Context, name string, h suite.Host) (WorkerDocker, error)

func defaultConnector(ctx context.Context, name string, h suite.Host) (WorkerDocker, error) {
	return ConnectHost(ctx, name, h)
}

// rpcWorker is one started RPC server.
type rpcWorker struct {
	spec   suite.RPCWorker
	docker WorkerDocker
	name   string // container name
	id     string
	node   bench.TopologyNode
}

func (w *rpcWorker) describe() string {
	return fmt.Sprintf("rpc worker %s (%s)", w.spec.Host, w.spec.Endpoint.Docker)
}

// rpcSession holds what an RPC case started, for cleanup.
type rpcSession struct {
	r        *Runner
	runID    string
	c        suite.Case
	workers  []*rpcWorker
	conns    map[string]WorkerDocker
	networks []func(context.Context) // networks created, to remove
}

func (r *Runner) connector() HostConnector {
	if r.ConnectHost != nil {
		return r.ConnectHost
	}
	return defaultConnector
}

func (s *rpcSession) conn(ctx context.Context, w suite.RPCWorker) (WorkerDocker, error) {
	if d, ok := s.conns[w.Host]; ok {
		return d, nil
	}
	d, err := s.r.connector()(ctx, w.Host, w.Endpoint)
	if err != nil {
		return nil, err
	}
	s.conns[w.Host] = d
	return d, nil
}

// runRPCCase starts the case's workers, runs llama-bench against them and
// stops them, whatever happens (failure, time limit, interrupt).
func (r *Runner) runRPCCase(ctx context.Context, d *RunDir, runID string, c suite.Case) (bench.CaseResult, error) {
	s := &rpcSession{r: r, runID: runID, c: c, conns: map[string]WorkerDocker{}}
	topo := &bench.Topology{Network: c.RPC.Network, Main: bench.TopologyNode{Host: "main", Backend: c.Backend, Image: c.Image}}
	defer s.stop(ctx, d)

	failed := func(err error) (bench.CaseResult, error) {
		if ctx.Err() != nil {
			return bench.CaseResult{}, ctx.Err()
		}
		res := baseResult(c)
		res.Status = bench.StatusError
		res.Error = err.Error()
		res.Started = r.now().UTC()
		res.Finished = res.Started
		s.collect(ctx, d, topo)
		res.Topology = topo
		res.StdoutLog, res.StderrLog = "", ""
		return res, nil
	}
	if c.RPC.Network != "" {
		if nd, ok := r.Docker.(WorkerDocker); ok {
			if err := s.ensureNetwork(ctx, nd, "main host"); err != nil {
				return failed(err)
			}
		}
	}
	var addrs []string
	for i, ws := range c.RPC.Workers {
		w, err := s.start(ctx, i, ws)
		if w != nil {
			s.workers = append(s.workers, w)
		}
		if err != nil {
			return failed(err)
		}
	}
	for _, w := range s.workers {
		if err := s.waitReady(ctx, w); err != nil {
			return failed(err)
		}
		addrs = append(addrs, w.node.Address)
	}

	rc := c
	rc.Argv = withRPC(c.Argv, strings.Join(addrs, ","))
	network := c.RPC.Network
	if network == "" {
		network = "host"
	}
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	abort := s.watch(watchCtx)
	res, err := r.runCaseWith(ctx, d, runID, rc, caseExtras{network: network, abort: abort})
	stopWatch()
	if err != nil {
		return res, err
	}
	// A worker that died during the case explains a failed llama-bench.
	if res.Status != bench.StatusOK && res.Status != bench.StatusHang && !strings.HasPrefix(res.Error, "rpc worker ") {
		if werr := s.deadWorker(ctx); werr != nil {
			res.Error = fmt.Sprintf("%v; llama-bench: %s", werr, res.Error)
			res.Status = bench.StatusCrash
		}
	}
	if len(res.Llama) > 0 && res.Llama[0].GPUInfo != "" {
		topo.Main.GPUs = []string{res.Llama[0].GPUInfo}
	}
	topo.Main.Devices, topo.Main.GroupAdd = res.Devices, res.GroupAdd
	s.collect(ctx, d, topo)
	res.Topology = topo
	return res, nil
}

// withRPC puts --rpc ADDRS before the model argument: llama-bench
// registers the RPC devices while parsing --rpc, and -dev RPC0/... after it
// must find them.
func withRPC(argv []string, addrs string) []string {
	i := slices.Index(argv, "-m")
	if i < 0 {
		i = len(argv)
	}
	out := slices.Clone(argv[:i])
	out = append(out, "--rpc", addrs)
	return append(out, argv[i:]...)
}

// start probes the worker host's devices and groups, then creates and
// starts the worker's container.
func (s *rpcSession) start(ctx context.Context, i int, ws suite.RPCWorker) (*rpcWorker, error) {
	w := &rpcWorker{spec: ws}
	w.node = bench.TopologyNode{Host: ws.Host, Endpoint: ws.Endpoint.Docker, Backend: ws.Backend, Image: ws.Image}
	dk, err := s.conn(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("rpc worker %s: %w", ws.Host, err)
	}
	w.docker = dk
	img, err := dk.ImageInspect(ctx, ws.Image)
	if err != nil {
		return nil, fmt.Errorf("%s: image %s: %w (the image must exist on that host: build it there, or docker save | docker -H %s load)", w.describe(), ws.Image, err, ws.Endpoint.Docker)
	}
	w.node.ImageID = img.ID
	devs, gids, notes, err := probeHost(ctx, dk, ws.Image, ws.Devices)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.describe(), err)
	}
	w.node.Devices, w.node.GroupAdd, w.node.Notes = devs, gids, notes
	w.node.Notes = vulkanNote(ws.Backend, devs, w.node.Notes)
	if s.c.RPC.Network != "" {
		if err := s.ensureNetwork(ctx, dk, ws.Host); err != nil {
			return nil, err
		}
	}
	w.name = fmt.Sprintf("%s%s-%03d-rpc%d-%s", s.r.namePrefix(), s.runID, s.c.Index, i, ws.Host)
	w.node.Container = w.name
	w.node.Address = ws.Address(s.c.RPC.Network, w.name)
	network := s.c.RPC.Network
	if network == "" {
		network = "host"
	}
	hc := deviceHostConfig(devs, gids)
	hc.NetworkMode = container.NetworkMode(network)
	_, _ = dk.ContainerRemove(ctx, w.name, client.ContainerRemoveOptions{Force: true})
	created, err := dk.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: w.name,
		Config: &container.Config{
			Image:      ws.Image,
			Entrypoint: ws.Argv[:1],
			Cmd:        ws.Argv[1:],
			Env:        envList(ws.Env),
			Labels:     map[string]string{LabelRun: s.runID, LabelCase: s.c.ID, LabelRole: "rpc-worker", LabelHost: ws.Host},
		},
		HostConfig: hc,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: create container from image %s: %w (the image must exist on that host: build or load it there)", w.describe(), ws.Image, err)
	}
	w.id = created.ID
	if _, err := dk.ContainerStart(ctx, w.id, client.ContainerStartOptions{}); err != nil {
		return w, fmt.Errorf("%s: start container: %w", w.describe(), err)
	}
	return w, nil
}

// deviceHostConfig is the host side of a case container: the device nodes,
// the host's video and render groups, seccomp unconfined, ipc host, never
// privileged (design.md sec. 3), as containerSpec sets for single-box cases.
func deviceHostConfig(devs, gids []string) *container.HostConfig {
	var mappings []container.DeviceMapping
	for _, d := range devs {
		mappings = append(mappings, container.DeviceMapping{PathOnHost: d, PathInContainer: d, CgroupPermissions: "rwm"})
	}
	return &container.HostConfig{
		IpcMode:     container.IPCModeHost,
		SecurityOpt: []string{"seccomp=unconfined"},
		GroupAdd:    gids,
		Privileged:  false,
		Resources:   container.Resources{Devices: mappings},
	}
}

// probeScript lists which wanted device nodes exist on the host and prints
// the host's /etc/group (both bind-mounted read-only).
const probeScript = `for d in "$@"; do if [ -e "/hf-host$d" ]; then echo "dev $d"; fi; done; echo "---"; cat /hf-host/etc/group`

// probeHost finds, on a worker host, which of the backend's device nodes
// exist and the host's video and render gids: the same facts Host gives
// for the main host, read by a short container on that host.
func probeHost(ctx context.Context, dk Docker, image string, want []string) (devs, gids, notes []string, err error) {
	argv := append([]string{"-c", probeScript, "probe"}, want...)
	created, err := dk.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: image, Entrypoint: []string{"sh"}, Cmd: argv, Labels: map[string]string{LabelRole: "rpc-probe"}},
		HostConfig: &container.HostConfig{
			NetworkMode: "none",
			Binds:       []string{"/dev:/hf-host/dev:ro", "/etc/group:/hf-host/etc/group:ro"},
		},
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("probe devices with image %s: %w (the image must exist on that host)", image, err)
	}
	defer func() {
		_, _ = dk.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
	}()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	wait := dk.ContainerWait(wctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := dk.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return nil, nil, nil, fmt.Errorf("probe devices: %w", err)
	}
	select {
	case res := <-wait.Result:
		if res.StatusCode != 0 {
			return nil, nil, nil, fmt.Errorf("probe devices: sh exited with %d", res.StatusCode)
		}
	case err := <-wait.Error:
		return nil, nil, nil, fmt.Errorf("probe devices: %w", err)
	}
	out, _, err := containerOutput(ctx, dk, created.ID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("probe devices: %w", err)
	}
	head, group, ok := strings.Cut(string(out), "---\n")
	if !ok {
		return nil, nil, nil, fmt.Errorf("probe devices: unexpected output %q", out)
	}
	have := map[string]bool{}
	for l := range strings.SplitSeq(head, "\n") {
		if d, ok := strings.CutPrefix(l, "dev "); ok {
			have[d] = true
		}
	}
	devs, notes = presentDevices(want, func(d string) bool { return have[d] })
	gids, err = parseGroupIDs(strings.NewReader(group))
	return devs, gids, notes, err
}

// parseGroupIDs reads an /etc/group file and returns the gids of the video
// and render groups.
func parseGroupIDs(r io.Reader) ([]string, error) {
	var gids []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ":")
		if len(parts) < 3 {
			continue
		}
		if (parts[0] == "video" || parts[0] == "render") && !slices.Contains(gids, parts[2]) {
			gids = append(gids, parts[2])
		}
	}
	return gids, sc.Err()
}

func containerOutput(ctx context.Context, dk Docker, id string) (stdout, stderr []byte, err error) {
	rc, err := dk.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = rc.Close() }()
	var o, e bytes.Buffer
	_, err = stdcopy.StdCopy(&o, &e, rc)
	return o.Bytes(), e.Bytes(), err
}

// ensureNetwork creates the case's user-defined network on a daemon when
// it is missing, and remembers to remove it after the case.
func (s *rpcSession) ensureNetwork(ctx context.Context, dk WorkerDocker, where string) error {
	name := s.c.RPC.Network
	if _, err := dk.NetworkInspect(ctx, name, client.NetworkInspectOptions{}); err == nil {
		return nil
	}
	created, err := dk.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: map[string]string{LabelNetwork: s.runID}})
	if err != nil {
		// Another daemon handle of the same engine may have made it just now.
		if _, ierr := dk.NetworkInspect(ctx, name, client.NetworkInspectOptions{}); ierr == nil {
			return nil
		}
		return fmt.Errorf("create Docker network %s on %s: %w", name, where, err)
	}
	s.networks = append(s.networks, func(ctx context.Context) {
		_, _ = dk.NetworkRemove(ctx, created.ID, client.NetworkRemoveOptions{})
	})
	return nil
}

var (
	rpcDeviceLine = regexp.MustCompile(`^\s*(\S+): (.*\(\d+ MiB, \d+ MiB free\))\s*$`)
	rpcVersion    = regexp.MustCompile(`Starting RPC server (v[0-9][^\s,]*)`)
)

// parseRPCBanner reads ggml's RPC server banner: "Starting RPC server
// v8.0.0", "Devices:" and lines like "  CPU: AMD EPYC (24105 MiB, 24105 MiB
// free)". started is true once the "Starting RPC server" line appeared.
func parseRPCBanner(log string) (version string, devices []string, started bool) {
	started = strings.Contains(log, "Starting RPC server")
	if m := rpcVersion.FindStringSubmatch(log); m != nil {
		version = m[1]
	}
	for l := range strings.SplitSeq(log, "\n") {
		if m := rpcDeviceLine.FindStringSubmatch(l); m != nil {
			devices = append(devices, m[1]+": "+m[2])
		}
	}
	return version, devices, started
}

// waitReady waits until the worker listens: its banner lists its devices
// and a TCP connection to it succeeds (where this process can reach it).
func (s *rpcSession) waitReady(ctx context.Context, w *rpcWorker) error {
	deadline := time.Now().Add(RPCReadyTimeout)
	var bannerAt time.Time
	for {
		ins, err := w.docker.ContainerInspect(ctx, w.id, client.ContainerInspectOptions{})
		if err != nil {
			return fmt.Errorf("%s: inspect: %w", w.describe(), err)
		}
		out, errb, _ := containerOutput(ctx, w.docker, w.id)
		st := ins.Container.State
		if st != nil && !st.Running {
			code := st.ExitCode
			w.node.ExitCode = &code
			return fmt.Errorf("%s exited with code %d before listening (its last log line: %q)", w.describe(), code, lastLine(append(append(out, '\n'), errb...)))
		}
		version, devs, started := parseRPCBanner(string(out) + "\n" + string(errb))
		w.node.Server, w.node.GPUs = version, devs
		if started && bannerAt.IsZero() {
			bannerAt = time.Now()
		}
		target := w.node.Address
		if s.c.RPC.Network != "" {
			target = ""
			if ins.Container.NetworkSettings != nil {
				if ep := ins.Container.NetworkSettings.Networks[s.c.RPC.Network]; ep != nil && ep.IPAddress.IsValid() {
					target = net.JoinHostPort(ep.IPAddress.String(), strconv.Itoa(w.spec.Port))
				}
			}
		}
		if target != "" {
			dctx, cancel := context.WithTimeout(ctx, time.Second)
			conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", target)
			cancel()
			if err == nil {
				_ = conn.Close()
				return nil
			}
		}
		// Banner printed but this process cannot reach the worker (a
		// firewall between this host and a worker's network): trust the
		// banner after a grace period.
		if !bannerAt.IsZero() && time.Since(bannerAt) > 5*time.Second {
			w.node.Notes = append(w.node.Notes, fmt.Sprintf("could not connect to %s from the runner; went ahead on the server's banner", target))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not listen on %s within %s: see its log", w.describe(), w.node.Address, RPCReadyTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// watch delivers an error when a worker stops during the case.
func (s *rpcSession) watch(ctx context.Context) <-chan error {
	ch := make(chan error, len(s.workers))
	for _, w := range s.workers {
		go func() {
			wr := w.docker.ContainerWait(ctx, w.id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
			select {
			case res := <-wr.Result:
				code := int(res.StatusCode)
				out, errb, _ := containerOutput(context.WithoutCancel(ctx), w.docker, w.id)
				ch <- fmt.Errorf("%s exited with code %d during the case (its last log line: %q)", w.describe(), code, lastLine(append(append(out, '\n'), errb...)))
			case err := <-wr.Error:
				if ctx.Err() == nil {
					ch <- fmt.Errorf("%s: lost track of its container during the case: %w", w.describe(), err)
				}
			case <-ctx.Done():
			}
		}()
	}
	return ch
}

// deadWorker returns an error naming the first worker that is not running.
func (s *rpcSession) deadWorker(ctx context.Context) error {
	for _, w := range s.workers {
		ins, err := w.docker.ContainerInspect(context.WithoutCancel(ctx), w.id, client.ContainerInspectOptions{})
		if err != nil {
			return fmt.Errorf("%s: gone during the case: %w", w.describe(), err)
		}
		if st := ins.Container.State; st != nil && !st.Running {
			code := st.ExitCode
			w.node.ExitCode = &code
			return fmt.Errorf("%s exited with code %d during the case", w.describe(), code)
		}
	}
	return nil
}

// collect saves every worker's log into the run directory and fills the
// topology's worker nodes.
func (s *rpcSession) collect(ctx context.Context, d *RunDir, topo *bench.Topology) {
	topo.Workers = topo.Workers[:0]
	for i, w := range s.workers {
		if w.id != "" {
			if ins, err := w.docker.ContainerInspect(context.WithoutCancel(ctx), w.id, client.ContainerInspectOptions{}); err == nil {
				if st := ins.Container.State; st != nil && !st.Running && w.node.ExitCode == nil {
					code := st.ExitCode
					w.node.ExitCode = &code
				}
			}
			out, errb, err := containerOutput(context.WithoutCancel(ctx), w.docker, w.id)
			if err == nil {
				if v, devs, _ := parseRPCBanner(string(out) + "\n" + string(errb)); len(devs) > 0 {
					w.node.Server, w.node.GPUs = v, devs
				}
				rel := filepath.Join(logsDir, fmt.Sprintf("%03d-%s.rpc%d-%s.log", s.c.Index, s.c.Slug(), i, w.spec.Host))
				var b bytes.Buffer
				b.Write(out)
				if len(errb) > 0 {
					b.WriteString("--- stderr ---\n")
					b.Write(errb)
				}
				if werr := WriteFileAtomic(filepath.Join(d.Path, rel), b.Bytes()); werr == nil {
					w.node.Log = rel
				}
			} else {
				w.node.Notes = append(w.node.Notes, fmt.Sprintf("logs: %v", err))
			}
		}
		topo.Workers = append(topo.Workers, w.node)
	}
}

// stop removes the workers and the networks the case created, on the
// workers' hosts, even when ctx was cancelled.
func (s *rpcSession) stop(ctx context.Context, _ *RunDir) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, w := range s.workers {
		if w.id != "" {
			_, _ = w.docker.ContainerRemove(sctx, w.id, client.ContainerRemoveOptions{Force: true})
		}
	}
	for _, rm := range s.networks {
		rm(sctx)
	}
	for _, c := range s.conns {
		if cl, ok := c.(io.Closer); ok {
			_ = cl.Close()
		}
	}
}

// removeRPCLeftovers removes, on every worker host of the run's RPC cases,
// worker containers a killed runner left behind. Hosts that cannot be
// reached are skipped: their containers are removed when the next case
// starts a worker of the same name.
func (r *Runner) removeRPCLeftovers(ctx context.Context, runID string, cases []suite.Case) {
	done := map[string]bool{}
	for _, c := range cases {
		if c.RPC == nil {
			continue
		}
		for _, w := range c.RPC.Workers {
			if done[w.Endpoint.Docker] {
				continue
			}
			done[w.Endpoint.Docker] = true
			dk, err := r.connector()(ctx, w.Host, w.Endpoint)
			if err != nil {
				continue
			}
			_ = RemoveLabelled(ctx, dk, runID)
			if cl, ok := dk.(io.Closer); ok {
				_ = cl.Close()
			}
		}
	}
}

// RemoveLabelled force-removes every container of run runID on a daemon
// (all of them when runID is ""), for cleaning up after a killed runner.
func RemoveLabelled(ctx context.Context, dk Docker, runID string) error {
	f := make(client.Filters).Add("label", LabelRole+"=rpc-worker")
	if runID != "" {
		f = f.Add("label", LabelRun+"="+runID)
	}
	list, err := dk.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range list.Items {
		if _, err := dk.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
