// Package runner runs a suite's cases in containers through the Docker
// Engine API: one container per case with only the devices its backend needs
// (HIP: /dev/kfd and /dev/dri; Vulkan: /dev/dri; CPU: none) and that exist on
// the host, the host's own video and render group ids, seccomp unconfined,
// ipc host, never privileged, and the model cache mounted read-only. It
// enforces per-case time limits (a case over its limit is killed and
// recorded as a hang), saves every case's stdout and stderr, writes each
// result atomically as it finishes, and resumes an interrupted run without
// rerunning, losing or duplicating a completed case.
package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/correct"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/bench/mamf"
	"github.com/haloforge/haloforge/bench/rbt"
	"github.com/haloforge/haloforge/bench/suite"
)

// Labels put on every case container.
const (
	LabelRun  = "io.haloforge.run"
	LabelCase = "io.haloforge.case"
)

// Recorder stores runs and cases as they finish (the results store). Writes
// must be idempotent upserts: a resumed run writes its header again.
type Recorder interface {
	PutRun(ctx context.Context, run bench.Run) error
	PutCase(ctx context.Context, runID string, c bench.CaseResult) error
}

// MemorySampler samples VRAM, GTT and RAM during one case and returns the
// peaks over the values before the case. Fields it cannot read stay nil.
type MemorySampler interface {
	Start(ctx context.Context) error
	Stop() bench.MemoryPeaks
}

// Prober checks that the GPU still answers (after a hang) before the next
// GPU case. It returns a note for the log, and an error when the GPU is gone.
type Prober interface {
	Probe(ctx context.Context, c suite.Case) (note string, err error)
}

// Parser turns a finished case's output into results on r. It must fail on
// truncated or garbled output rather than invent numbers.
type Parser func(c suite.Case, stdout, stderr []byte, r *bench.CaseResult) error

// Runner executes cases. Docker and Home are required; the rest is optional.
type Runner struct {
	Docker Docker
	Home   string
	// Binds are extra bind mounts for every case container ("src:dst:ro"),
	// normally the model cache at suite.ModelMount.
	Binds []string
	// NamePrefix prefixes container names (default "haloforge-").
	NamePrefix string
	Host       Host
	Recorder   Recorder
	NewSampler func() MemorySampler
	Prober     Prober
	Parse      Parser
	Progress   Progress
	Now        func() time.Time
	// ConnectHost connects to RPC worker hosts (default ConnectHost).
	ConnectHost HostConnector
	// Files are written into a new run's directory before its first case,
	// e.g. stack.lock for reproduce.
	Files map[string][]byte
	// Lock, when set, is the lock of the run Resume continues, already
	// taken by the caller (LockRun); else Resume takes it.
	Lock *RunLock
	// KernelLog, when set, is read while each case runs: the lines about
	// the GPU and the OOM killer are kept with the case and classified.
	KernelLog KernelLog
	// GPUProbe, when set, is a host command (sh -c) that exits 0 when the
	// GPU answers; it replaces DeviceProber's query in the case's image.
	GPUProbe string
	// GPURecovery, when set, is a host command (sh -c) run when the GPU
	// does not answer after a fault; the GPU is probed again after it.
	// Without it, or when the GPU still does not answer, the remaining
	// GPU cases are not run (recorded as skipped, with the reason).
	GPURecovery string

	kernelNoted bool
}

// KernelLog follows the kernel log (kernlog.Log).
type KernelLog interface {
	Watch() (KernelWatch, error)
}

// KernelWatch returns the kernel log's lines since it started.
type KernelWatch interface {
	Lines() ([]string, error)
	Close()
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Start creates a new run of cases and executes it. run carries the suite
// name, target, host facts and images; its ID and Started are set here.
func (r *Runner) Start(ctx context.Context, run bench.Run, raw []byte, cases []suite.Case) (*bench.Run, error) {
	run.Started = r.now().UTC()
	if run.ID == "" {
		host := run.Host.Hostname
		if host == "" {
			host, _ = os.Hostname()
		}
		run.ID = FleetRunID(run.Started, run.Suite, host)
	}
	d, err := CreateRun(r.Home, &run, raw, cases)
	if err != nil {
		return nil, err
	}
	defer d.Unlock()
	for _, name := range slices.Sorted(maps.Keys(r.Files)) {
		if err := WriteFileAtomic(filepath.Join(d.Path, name), r.Files[name]); err != nil {
			return nil, err
		}
	}
	return r.execute(ctx, d, &run, cases)
}

// Resume continues an unfinished run: completed cases are kept, the rest
// (including one that was in flight when the runner died) run now.
func (r *Runner) Resume(ctx context.Context, id string) (*bench.Run, error) {
	d, run, cases, err := OpenRun(r.Home, id)
	if err != nil {
		return nil, err
	}
	if !run.Finished.IsZero() {
		return nil, fmt.Errorf("run %s already finished at %s: nothing to resume", id, run.Finished.Format(time.RFC3339))
	}
	// Never take over a run another process is still running: its case
	// container is live, and both would run the remaining cases.
	if r.Lock == nil || r.Lock.Run != id {
		lock, err := LockRun(d.Path, id)
		if err != nil {
			return nil, err
		}
		defer lock.Unlock()
	}
	// A killed runner leaves its case container running: remove it.
	if err := r.removeLeftovers(ctx, run.ID); err != nil {
		return nil, err
	}
	// ... and RPC workers on the worker hosts.
	r.removeRPCLeftovers(ctx, run.ID, cases)
	return r.execute(ctx, d, &run, cases)
}

func (r *Runner) removeLeftovers(ctx context.Context, runID string) error {
	list, err := r.Docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelRun+"="+runID)})
	if err != nil {
		return fmt.Errorf("list containers of run %s: %w", runID, err)
	}
	for _, c := range list.Items {
		if _, err := r.Docker.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			return fmt.Errorf("remove leftover container %s of run %s: %w", c.ID, runID, err)
		}
	}
	return nil
}

func (r *Runner) progress() Progress {
	if r.Progress == nil {
		return nopProgress{}
	}
	return r.Progress
}

// execute runs the cases not yet done. An error that stops the run (the
// results store unreachable, the disk full) says that finished cases are
// kept and names the command that continues the run.
func (r *Runner) execute(ctx context.Context, d *RunDir, run *bench.Run, cases []suite.Case) (_ *bench.Run, err error) {
	defer func() {
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w\nrun %s stopped: every finished case is saved in %s; fix the cause above (database reachable, disk space), then continue with haloforge bench --resume %s", err, run.ID, d.Path, run.ID)
		}
	}()
	done, err := d.Results()
	if err != nil {
		return nil, err
	}
	if r.Recorder != nil {
		if err := r.Recorder.PutRun(ctx, *run); err != nil {
			return nil, fmt.Errorf("results store: %w", err)
		}
		for _, i := range slices.Sorted(maps.Keys(done)) {
			if err := r.Recorder.PutCase(ctx, run.ID, done[i]); err != nil {
				return nil, fmt.Errorf("results store: %w", err)
			}
		}
	}
	p := r.progress()
	completed := 0
	for _, c := range cases {
		if res, ok := done[c.Index]; ok && res.Status != bench.StatusSkipped {
			completed++
		}
	}
	p.Begin(run.ID, len(cases), completed)
	defer p.End()

	gpuSuspect := false // a GPU case hung: probe before the next GPU case
	var gpuDead error
	for _, c := range cases {
		if res, ok := done[c.Index]; ok && res.Status != bench.StatusSkipped {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.CaseStart(c)
		var res bench.CaseResult
		switch {
		case c.GPU && gpuDead != nil:
			res = r.skipped(c, fmt.Sprintf("not run: %v", gpuDead))
		default:
			if c.GPU && gpuSuspect {
				gpuSuspect = false
				note, err := r.probe(ctx, c)
				if note != "" {
					p.Note(note)
				}
				if err != nil && r.GPURecovery != "" {
					p.Note(fmt.Sprintf("GPU did not answer (%v): running the recovery command %q", err, r.GPURecovery))
					p.Note(r.recover(ctx))
					note, err = r.probe(ctx, c)
					if note != "" {
						p.Note(note)
					}
				}
				if err != nil {
					fix := "reboot the host (or give a --gpu-recovery command)"
					if r.GPURecovery != "" {
						fix = "the recovery command did not bring it back: reboot the host"
					}
					gpuDead = fmt.Errorf("GPU did not answer after a fault (%w): the remaining GPU cases are not run; %s, then haloforge bench --resume %s", err, fix, run.ID)
					p.Note(gpuDead.Error())
					res = r.skipped(c, fmt.Sprintf("not run: %v", gpuDead))
					break
				}
			}
			if c.RPC != nil {
				res, err = r.runRPCCase(ctx, d, run.ID, c)
			} else {
				res, err = r.runCase(ctx, d, run.ID, c)
			}
			if err != nil {
				return nil, err
			}
		}
		if c.GPU && (res.Status == bench.StatusHang || gpuFault(res.Faults)) {
			gpuSuspect = true
		}
		if err := d.WriteCase(c, res); err != nil {
			return nil, fmt.Errorf("recording case %s: %w", c.ID, err)
		}
		if r.Recorder != nil {
			if err := r.Recorder.PutCase(ctx, run.ID, res); err != nil {
				return nil, fmt.Errorf("results store: %w", err)
			}
		}
		done[c.Index] = res
		p.CaseDone(c, res)
	}
	run.Finished = r.now().UTC()
	if err := d.WriteHeader(*run); err != nil {
		return nil, err
	}
	run.Cases = Ordered(done)
	if r.Recorder != nil {
		if err := r.Recorder.PutRun(ctx, *run); err != nil {
			return nil, fmt.Errorf("results store: %w", err)
		}
	}
	return run, nil
}

// gpuFault reports whether the kernel logged a GPU fault for a case.
func gpuFault(faults []string) bool {
	for _, f := range faults {
		if strings.HasPrefix(f, "gpu-") {
			return true
		}
	}
	return false
}

func (r *Runner) probe(ctx context.Context, c suite.Case) (string, error) {
	if r.Prober != nil {
		return r.Prober.Probe(ctx, c)
	}
	if r.GPUProbe != "" {
		return HostProber{Command: r.GPUProbe}.Probe(ctx, c)
	}
	return DeviceProber{Runner: r}.Probe(ctx, c)
}

func baseResult(c suite.Case) bench.CaseResult {
	return bench.CaseResult{
		ID: c.ID, Tool: c.Tool, Backend: c.Backend, Model: c.Model, Variant: c.Variant, Image: c.Image,
		Args: c.Argv, Env: c.Env, TimeoutSec: c.Timeout.Seconds(),
	}
}

func (r *Runner) skipped(c suite.Case, why string) bench.CaseResult {
	res := baseResult(c)
	res.Status = bench.StatusSkipped
	res.Error = why
	res.Started = r.now().UTC()
	res.Finished = res.Started
	return res
}

// caseExtras change how runCaseWith runs a case's container.
type caseExtras struct {
	// network is the container's network mode (default "none").
	network string
	// abort, when it delivers, kills the case container and fails the case
	// with the error (an RPC worker died).
	abort <-chan error
	// binds are extra bind mounts for this case (a reference check's
	// directory, correct.go).
	binds []string
}

// containerSpec builds the container for a case.
func (r *Runner) containerSpec(runID string, c suite.Case) (client.ContainerCreateOptions, []string, []string, error) {
	devs, notes := r.Host.Devices(c.Devices)
	gids, err := r.Host.GroupIDs()
	if err != nil {
		return client.ContainerCreateOptions{}, nil, nil, err
	}
	notes = vulkanNote(c.Backend, devs, notes)
	opts := client.ContainerCreateOptions{
		Name: fmt.Sprintf("%s%s-%03d", r.namePrefix(), runID, c.Index),
		Config: &container.Config{
			Image:      c.Image,
			Entrypoint: c.Argv[:1],
			Cmd:        c.Argv[1:],
			Env:        envList(c.Env),
			Labels:     map[string]string{LabelRun: runID, LabelCase: c.ID, LabelHome: absPath(r.Home)},
		},
		HostConfig: deviceHostConfig(devs, gids),
	}
	opts.HostConfig.Binds = r.Binds
	opts.HostConfig.NetworkMode = "none"
	return opts, devs, notes, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// namePrefix is the prefix of every container the runner names, case and
// RPC worker containers alike.
func (r *Runner) namePrefix() string {
	if r.NamePrefix == "" {
		return "haloforge-"
	}
	return r.NamePrefix
}

// envList is a container's environment: env as K=V, sorted by key.
func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// vulkanNote appends to notes why a Vulkan container without /dev/dri can
// only use a CPU implementation.
func vulkanNote(backend string, devs, notes []string) []string {
	if backend == "vulkan" && !slices.Contains(devs, "/dev/dri") {
		notes = append(notes, "no /dev/dri: Vulkan can only use a CPU implementation (Mesa lavapipe), which needs no device")
	}
	return notes
}

// runCase runs one case in a fresh container. It returns an error only when
// the run must stop (context cancelled, run directory unwritable); every
// failure of the case itself is a result.
func (r *Runner) runCase(ctx context.Context, d *RunDir, runID string, c suite.Case) (bench.CaseResult, error) {
	var x caseExtras
	if res, err := r.prepareCase(ctx, d, &c, &x); res != nil || err != nil { // correct.go
		if err != nil {
			return bench.CaseResult{}, err
		}
		return *res, nil
	}
	res, err := r.runCaseWith(ctx, d, runID, c, x)
	if err != nil || !outputCutShort(c, res) {
		return res, err
	}
	// The tool exited 0 but the end of its output, where llama-perplexity
	// prints its statistics, is missing: the daemon copies a container's
	// output into its log with a bounded wait at exit ("Logger didn't exit
	// in time: logs may be truncated", moby/moby#11471), which a loaded
	// machine can exceed. Run it once more; a tool that really prints no
	// statistics fails the same way again.
	first := res.Error
	again, err := r.runCaseWith(ctx, d, runID, c, x)
	if err != nil {
		return res, err
	}
	again.Notes = append(again.Notes, "ran twice: the first attempt exited 0 but its output was cut short ("+first+")")
	return again, nil
}

// outputCutShort is a llama-perplexity case that exited 0 with output
// that lacks its statistics.
func outputCutShort(c suite.Case, res bench.CaseResult) bool {
	return c.Tool == bench.ToolPerplexity && res.ExitCode == 0 && res.Status == bench.StatusError &&
		strings.Contains(res.Error, correct.ErrNoStatistics.Error())
}

func (r *Runner) runCaseWith(ctx context.Context, d *RunDir, runID string, c suite.Case, x caseExtras) (bench.CaseResult, error) {
	res := baseResult(c)
	res.StdoutLog, res.StderrLog = LogPaths(c)
	fail := func(status bench.Status, format string, a ...any) (bench.CaseResult, error) {
		res.Status = status
		res.Error = fmt.Sprintf(format, a...)
		if res.Started.IsZero() {
			res.Started = r.now().UTC()
		}
		res.Finished = r.now().UTC()
		return res, nil
	}
	if len(c.Argv) == 0 {
		return fail(bench.StatusError, "case has no command")
	}
	opts, devs, notes, err := r.containerSpec(runID, c)
	if err != nil {
		return fail(bench.StatusError, "%v", err)
	}
	res.Devices, res.Notes = devs, notes
	res.GroupAdd = opts.HostConfig.GroupAdd
	if x.network != "" {
		opts.HostConfig.NetworkMode = container.NetworkMode(x.network)
	}
	if len(x.binds) > 0 {
		opts.HostConfig.Binds = append(slices.Clone(opts.HostConfig.Binds), x.binds...)
	}

	// Remove a container of the same name left by an earlier attempt.
	_, _ = r.Docker.ContainerRemove(ctx, opts.Name, client.ContainerRemoveOptions{Force: true})
	created, err := r.Docker.ContainerCreate(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return fail(bench.StatusError, "create container from image %s: %v (build or pull the image, see haloforge image --help)", c.Image, err)
	}
	id := created.ID
	defer func() {
		rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = r.Docker.ContainerRemove(rmCtx, id, client.ContainerRemoveOptions{Force: true})
	}()

	waitCtx, stopWait := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWait()
	wait := r.Docker.ContainerWait(waitCtx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})

	var sampler MemorySampler
	if r.NewSampler != nil {
		sampler = r.NewSampler()
		if err := sampler.Start(ctx); err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("memory sampler did not start: %v", err))
			sampler = nil
		}
	}
	kw := r.watchKernel(&res)
	if kw != nil {
		defer kw.Close()
	}
	res.Started = r.now().UTC()
	if _, err := r.Docker.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		if sampler != nil {
			sampler.Stop()
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return fail(bench.StatusError, "start container: %v", err)
	}
	timer := time.NewTimer(c.Timeout)
	defer timer.Stop()
	hung := false
	exit := -1
	var waitErr, aborted error
	select {
	case aborted = <-x.abort:
	case w := <-wait.Result:
		exit = int(w.StatusCode)
		if w.Error != nil && w.Error.Message != "" {
			waitErr = errors.New(w.Error.Message)
		}
	case waitErr = <-wait.Error:
	case <-timer.C:
		hung = true
	case <-ctx.Done():
		killCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		_, _ = r.Docker.ContainerKill(killCtx, id, client.ContainerKillOptions{Signal: "SIGKILL"})
		cancel()
		if sampler != nil {
			sampler.Stop()
		}
		return res, ctx.Err()
	}
	if hung || aborted != nil {
		if _, err := r.Docker.ContainerKill(context.WithoutCancel(ctx), id, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("kill after time limit: %v", err))
		}
		select {
		case w := <-wait.Result:
			exit = int(w.StatusCode)
		case werr := <-wait.Error:
			res.Notes = append(res.Notes, fmt.Sprintf("waiting after SIGKILL: %v", werr))
		case <-time.After(time.Minute):
			res.Notes = append(res.Notes, "container did not exit within 1 min of SIGKILL")
		}
	}
	res.Finished = r.now().UTC()
	res.WallSec = res.Finished.Sub(res.Started).Seconds()
	if sampler != nil {
		res.Memory = sampler.Stop()
	}
	res.ExitCode = exit

	stdout, stderr, logErr := r.saveLogs(context.WithoutCancel(ctx), d, id, res.StdoutLog, res.StderrLog)
	if logErr != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("logs: %v", logErr))
	}
	if ins, err := r.Docker.ContainerInspect(context.WithoutCancel(ctx), id, client.ContainerInspectOptions{}); err == nil && ins.Container.State != nil && ins.Container.State.OOMKilled {
		res.Notes = append(res.Notes, "killed by the kernel OOM killer")
	}
	if kw != nil {
		r.readKernel(kw, &res)
	}
	switch {
	case aborted != nil:
		res.Status = bench.StatusCrash
		res.Error = aborted.Error()
	case hung:
		res.Status = bench.StatusHang
		res.Error = fmt.Sprintf("exceeded its time limit of %s: container killed (see %s)", c.Timeout, res.StderrLog)
	case waitErr != nil:
		res.Status = bench.StatusError
		res.Error = fmt.Sprintf("waiting for container: %v", waitErr)
	case exit != 0:
		res.Status = bench.StatusCrash
		res.Error = fmt.Sprintf("exited with code %d: %s", exit, lastLine(stderr))
	default:
		parse := r.Parse
		if parse == nil {
			parse = ParseOutput
		}
		if err := parse(c, stdout, stderr, &res); err != nil {
			res.Status = bench.StatusError
			res.Error = fmt.Sprintf("output not understood: %v (see %s)", err, res.StdoutLog)
		} else {
			res.Status = bench.StatusOK
			judgeCase(c, stderr, &res) // correct.go: fallback and wrong verdicts
		}
	}
	return res, nil
}

// saveLogs copies the container's demultiplexed stdout and stderr into the
// run's log files and returns their contents.
func (r *Runner) saveLogs(ctx context.Context, d *RunDir, id, outRel, errRel string) ([]byte, []byte, error) {
	out, errb, err := containerOutput(ctx, r.Docker, id)
	for _, f := range []struct {
		rel string
		b   []byte
	}{{outRel, out}, {errRel, errb}} {
		if werr := WriteFileAtomic(filepath.Join(d.Path, f.rel), f.b); werr != nil && err == nil {
			err = werr
		}
	}
	return out, errb, err
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			if len(l) > 300 {
				l = l[:300] + "..."
			}
			return l
		}
	}
	return "no output on stderr"
}

// ParseOutput is the default Parser: llama-bench output in any of its
// formats (stdout, and a second copy on stderr with -oe), mamf-finder and
// rocm_bandwidth_test stdout. Truncated or garbled output is an error.
func ParseOutput(c suite.Case, stdout, stderr []byte, r *bench.CaseResult) error {
	switch c.Tool {
	case bench.ToolLlamaBench:
		recs, err := llamabench.ParseOutputs(c.ID+" stdout", stdout, c.ID+" stderr", stderr)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return errors.New("llama-bench printed no results")
		}
		r.Llama = recs
	case bench.ToolMamf:
		res, err := mamf.ParseBytes(stdout, c.ID)
		if err != nil {
			return err
		}
		r.Mamf = res
	case bench.ToolPerplexity:
		return parsePerplexity(c, stdout, stderr, r)
	case bench.ToolRBT:
		res, err := rbt.ParseBytes(stdout, c.ID)
		if err != nil {
			return err
		}
		r.Bandwidth = res
	default:
		return fmt.Errorf("no parser for tool %q", c.Tool)
	}
	return nil
}

// DeviceProber is the default GPU probe: with no GPU device node on the host
// there is nothing to probe (skipped, with a note); otherwise it runs a
// short device query (rocminfo for HIP, vulkaninfo for Vulkan) in the
// case's image under a one-minute limit.
type DeviceProber struct {
	Runner *Runner
}

var _ Prober = DeviceProber{}

// Probe checks the GPU still answers.
func (p DeviceProber) Probe(ctx context.Context, c suite.Case) (string, error) {
	devs, _ := p.Runner.Host.Devices(c.Devices)
	if len(devs) == 0 {
		return fmt.Sprintf("GPU probe skipped before %s: no GPU device node (%s) on this host", c.ID, strings.Join(c.Devices, ", ")), nil
	}
	pc := c
	pc.ID = c.ID + "/probe"
	pc.Index = 900 + c.Index
	pc.Timeout = time.Minute
	pc.Tool = "probe"
	if strings.HasPrefix(c.Backend, "hip") {
		pc.Argv = []string{"rocminfo"}
	} else {
		pc.Argv = []string{"vulkaninfo", "--summary"}
	}
	d := &RunDir{Path: os.TempDir()}
	tmp, err := os.MkdirTemp("", "haloforge-probe-")
	if err == nil {
		defer func() { _ = os.RemoveAll(tmp) }()
		d.Path = tmp
		_ = os.Mkdir(filepath.Join(tmp, logsDir), 0o755)
	}
	res, err := p.Runner.runCase(ctx, d, "probe", pc)
	if err != nil {
		return "", err
	}
	if res.Status == bench.StatusCrash && res.ExitCode == 127 {
		return fmt.Sprintf("GPU probe before %s: %s is not in image %s, probe skipped", c.ID, pc.Argv[0], c.Image), nil
	}
	if res.Status == bench.StatusHang || res.Status == bench.StatusCrash {
		return "", fmt.Errorf("%s: %s", strings.Join(pc.Argv, " "), res.Error)
	}
	return fmt.Sprintf("GPU probe before %s: %s answered", c.ID, pc.Argv[0]), nil
}
