package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/models"
	"github.com/haloforge/haloforge/bench/session"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/recipes"
)

func init() { addCommand(newBenchCmd()) }

type benchOpts struct {
	suite           string
	full            bool
	timeout         time.Duration
	resume          string
	list            bool
	plain           bool
	noBuild         bool
	target          string
	containerPrefix string
	db              string
	runID           string
	allowModelDirs  []string
	gpuProbe        string
	gpuRecovery     string
	images          []string
	plan            planFlags
}

func newBenchCmd() *cobra.Command {
	var o benchOpts
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run a benchmark suite in containers and print the results table",
		Long: `Run a benchmark suite: every case is one tool invocation (llama-bench,
mamf-finder, rocm_bandwidth_test) in a fresh container of its backend's image,
with only the devices that backend needs (HIP: /dev/kfd and /dev/dri; Vulkan:
/dev/dri; CPU: none) and that exist on this host, the host's video and render
group ids, seccomp unconfined, ipc host, never privileged, and the model
cache mounted read-only at /models.

Built-in suites:
  seed   the Strix Halo reference tables: mamf-finder bf16 (quick sweep, --full
         for the full one), rocm_bandwidth_test, llama-bench CPU/HIP/
         HIP+rocWMMA/Vulkan x FA off/on x pp512/tg128 and pp8192/tg8192 for
         Llama-2-7B Q4_0, Qwen3-30B-A3B UD-Q4_K_XL (+ -b 256) and Llama 4 Scout
  smoke  CPU and Vulkan (Mesa lavapipe) llama-bench on a tiny model, for machines
         without an AMD GPU; its image (haloforge/runtime-smoke:sid) is built from
         Debian sid packages on first use (see haloforge image --help)
  smoke-stack  smoke's llama-bench cases in the images the pipeline builds
         (haloforge build --profile smoke --export): haloforge/llama-cpu and
         haloforge/llama-vulkan (lavapipe); make loop runs both steps

Images: a suite names the alias haloforge/<image>:<target> of an image the
stack builds (haloforge/llama-vulkan:gfx1151); bench runs the exact build
haloforge/<image>:<target>-<key> that the plan of this lock, recipes, target,
the suite's profile and --source overrides names: the image haloforge build
with the same flags loads into Docker (--lock, --recipes, --source as for
haloforge plan; the lock defaults to stack.lock here or in a parent
directory, else one derived from the recipes). If that exact image is
missing, bench stops and prints the haloforge build and dagger call lines
that make it. --image BACKEND=REF runs REF for a backend instead. Other
references (haloforge/runtime-smoke:sid, your own) run as named. The run
records, per image, the reference run, the alias it came from, its image id,
digest and labels (lock digest, component versions).

Each case has a time limit (the suite's, the case's, or --timeout). A case
over its limit is killed and recorded as a hang ("GPU Hang", or "Timeout"
for a CPU case) with its logs, and the suite goes on; a tool exiting
non-zero is recorded as a crash with its exit code.

GPU faults: while each case runs haloforge reads the kernel log (/dev/kmsg,
which needs root or CAP_SYSLOG; $HALOFORGE_KMSG names a file to read
instead) and keeps the amdgpu, DRM and OOM-killer lines with the case,
classified as gpu-hang (ring timeout, MES not answering), gpu-reset,
gpu-page-fault or oom-kill; tables show "GPU Reset", "GPU Page Fault",
"GPU Hang" or "OOM Kill". After a GPU case that hung or faulted, the GPU
is probed before the next GPU case (--gpu-probe CMD, else rocminfo or
vulkaninfo in the image). When it does not answer, --gpu-recovery CMD runs
and the GPU is probed again; if it still does not answer (or no recovery
command was given) the remaining GPU cases are recorded as not run, with
the reason, CPU cases go on, and the message names the resume command. Results are written case by case, atomically, under
$(haloforge home)/runs/<run-id>/ (cases/*.json, logs/*.log) and into the
results database. If the run is interrupted (Ctrl-C, kill -9, power), rerun
with --resume: finished cases are kept, the rest run.

Suite files (YAML) look like this:

  name: my-suite
  defaults: {timeout: 10m, repetitions: 3}
  backends:
    vulkan: {image: haloforge/llama-vulkan:gfx1151, args: [-ub, "1024"]}
    hip:    {image: haloforge/llama-hip:gfx1151, hsa_override_gfx_version: "11.5.1"}
  models:
    llama2-7b-q4_0:
      repo: TheBloke/Llama-2-7B-GGUF
      files: [{name: llama-2-7b.Q4_0.gguf, sha256: unknown}]
    mine: {path: /data/models/my.gguf}
    tiny: {tiny: {type: q4_0}}
  cases:
    - tool: llama-bench
      models: [llama2-7b-q4_0]
      backends: [vulkan, hip]
      fa: [0, 1]
      tests: [pp512/tg128, pp8192/tg8192]
      timeout: 1h
    - {tool: llama-bench, variant: b256, models: [mine], backends: [vulkan], tests: [pp512/tg128], args: [-b, "256"]}

A path: model is mounted read-only only when it is a GGUF file (after
resolving links) under your home directory, haloforge's home, /data, /srv,
/mnt, /media, /opt, /models or /var/lib/haloforge; add directories with
--allow-model-dir DIR or HALOFORGE_MODEL_DIRS=DIR1:DIR2. It may carry its
digest: {path: /data/models/my.gguf, sha256: <64 hex digits>}.
Suite names (they name run directories and containers) use letters,
digits, '.', '_' and '-', starting with a letter or digit.

Downloads: a model being downloaded by another haloforge is waited for; a
download that receives nothing for $HALOFORGE_DOWNLOAD_STALL (default 2m)
stops and resumes on the next run (only when the server proves the file
unchanged); with sha256 unknown the hub's published digest is checked.
$HF_TOKEN is sent for gated repositories and never stored or logged.

RPC suites (llama.cpp's RPC backend, a model spread over several boxes): name
worker hosts by their Docker Engine endpoint, like Docker contexts, and give
a llama-bench case rpc workers. For each case haloforge starts ggml's RPC
server in a container on every worker host (the worker backend's image,
devices and groups as for single-box cases, host networking, default port
50052), runs llama-bench here with --rpc to them, records the topology
(hosts, backends, GPUs from each server's banner, addresses) with the
result, and removes the workers afterwards, also on failure, time limit or
Ctrl-C. A worker that dies fails only its case. No extra flags are needed:

  hosts:
    box2: {docker: "tcp://10.0.0.2:2376", tls: {ca: /etc/hf/ca.pem, cert: /etc/hf/cert.pem, key: /etc/hf/key.pem}}
    box3: {docker: "ssh://bench@box3", address: 10.0.0.3}
  cases:
    - tool: llama-bench
      models: [scout]
      backends: [vulkan]          # this box
      tests: [pp512/tg128]
      rpc:
        workers: [{host: box2, backend: vulkan}, {host: box3, backend: hip, port: 50053}]

ssh:// runs "docker system dial-stdio" on the host over ssh (key or agent
login; HALOFORGE_SSH overrides the ssh command). Worker images must exist on
their hosts. ggml's RPC protocol is unauthenticated: trusted networks only.
A full example is docs/suites/rpc.yaml.

Exit status: 0 when every case produced numbers, 2 when some case hung,
crashed or failed (its row says why), 1 on errors that stop the run.`,
		Example: `  haloforge bench --suite smoke              # the smoke suite, builds its image if missing
  haloforge bench                            # the seed suite
  haloforge bench --suite ./my-suite.yaml --timeout 20m
  haloforge bench --suite seed --full        # mamf-finder's full sweep (~35 h)
  haloforge bench --suite smoke --list       # print the cases and exit
  haloforge bench --suite docs/suites/rpc.yaml --list   # an RPC suite's cases and workers
  haloforge bench --suite smoke-stack --source llama.cpp=./llama.cpp   # the images haloforge build --profile smoke --source llama.cpp=./llama.cpp --export made
  haloforge bench --suite seed --image vulkan=haloforge/llama-vulkan:gfx1151-0123456789ab
  haloforge bench --resume                   # continue the latest unfinished run
  haloforge bench --resume 20261126-130405-smoke`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				// pflag needs --resume=ID for an optional value; accept --resume ID too.
				if o.resume != "latest" {
					return fmt.Errorf("unexpected argument %q: the suite is given with --suite, a run to resume with --resume RUN", args[0])
				}
				o.resume = args[0]
			}
			if cmd.Flags().Changed("timeout") && o.timeout <= 0 {
				return fmt.Errorf("--timeout %s: give a positive time limit such as 10m", o.timeout)
			}
			if o.resume != "" {
				for _, f := range []string{"suite", "timeout", "full", "image", "lock", "recipes", "source"} {
					if cmd.Flags().Changed(f) {
						return fmt.Errorf("--%s cannot change a resumed run: it continues with its own saved plan (drop --%s)", f, f)
					}
				}
			}
			return runBench(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.suite, "suite", "seed", "built-in suite name ("+strings.Join(suite.Embedded(), ", ")+") or a suite file path")
	f.BoolVar(&o.full, "full", false, "run mamf-finder's full sweep instead of the quick one")
	f.DurationVar(&o.timeout, "timeout", 0, "time limit for every case, overriding the suite (e.g. 10m)")
	f.StringVar(&o.resume, "resume", "", "continue an interrupted run: its id, or no value for the latest unfinished run")
	f.Lookup("resume").NoOptDefVal = "latest"
	f.BoolVar(&o.list, "list", false, "print the suite's cases (image, argv, time limit) and exit")
	f.BoolVar(&o.plain, "plain", false, "plain progress lines even on a terminal")
	f.BoolVar(&o.noBuild, "no-build", false, "do not build the smoke runtime image when it is missing")
	f.StringVar(&o.target, "target", "gfx1151", "GPU target recorded with the run")
	f.StringVar(&o.runID, "run-id", "", "name the run (default: UTC start time, suite, host and a random tag, e.g. 20261126-130405-smoke-strix1-3fa9c2d0)")
	f.StringVar(&o.db, "db", "", "results database: a SQLite file or a shared PostgreSQL DSN postgres://USER:PASS@HOST:PORT/DB (default: $HALOFORGE_DB, else HOME/results.db)")
	f.StringSliceVar(&o.allowModelDirs, "allow-model-dir", nil, "also mount path: models from this host directory (repeatable; default allow-list: your home, haloforge's home, "+strings.Join(models.DefaultModelDirs, ", ")+" and $HALOFORGE_MODEL_DIRS)")
	f.StringVar(&o.gpuProbe, "gpu-probe", "", "host command (sh -c) that exits 0 when the GPU answers, run before a GPU case that follows a fault (default: rocminfo or vulkaninfo in the case's image)")
	f.StringVar(&o.gpuRecovery, "gpu-recovery", "", "host command (sh -c) run when the GPU does not answer after a fault, e.g. a driver reload; without it the remaining GPU cases are not run")
	f.StringArrayVar(&o.images, "image", nil, "BACKEND=REF: run image REF for the suite's backend BACKEND instead of its suite image (repeatable)")
	o.plan.addRecipeFlags(cmd)
	o.plan.addSourceFlag(cmd)
	f.StringVar(&o.containerPrefix, "container-prefix", "haloforge-", "prefix of case container names")
	_ = f.MarkHidden("container-prefix")
	return cmd
}

// isTerminal reports whether f is a terminal with a size (a pty without one,
// as under script(1) in CI, cannot draw a bar: plain lines then).
func isTerminal(f *os.File) bool {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	return err == nil && ws.Col > 0
}

func runBench(cmd *cobra.Command, o benchOpts) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	so, err := o.session(cmd)
	if err != nil {
		return err
	}
	_, err = session.Run(ctx, so, benchWiring())
	return benchExit(err)
}

// imageOverrides parses --image BACKEND=REF flags.
func imageOverrides(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range flags {
		b, ref, ok := strings.Cut(f, "=")
		if !ok || b == "" || ref == "" {
			return nil, fmt.Errorf("--image %q is not BACKEND=REF: write e.g. --image vulkan=haloforge/llama-vulkan:gfx1151-0123456789ab", f)
		}
		if prev, dup := out[b]; dup && prev != ref {
			return nil, fmt.Errorf("--image %s given twice (%s and %s): keep one", b, prev, ref)
		}
		out[b] = ref
	}
	return out, nil
}

// stack is the plan suite image aliases resolve through: the plan
// haloforge build makes of bench's --lock, --recipes, --target and
// --source with the suite's profile.
func (o benchOpts) stack(profile string) (*session.StackImages, error) {
	pf := o.plan
	pf.target, pf.profile = o.target, profile
	req, err := pf.request()
	if err != nil {
		return nil, err
	}
	p, in, err := recipes.PlanFor(req, io.Discard)
	if err != nil {
		return nil, err
	}
	info := planStackInfo(p, profile)
	return &session.StackImages{Plan: p, Lock: in.Lock, LockFile: in.LockFile, Profile: profile, Info: &info,
		Commands: func(images []string) (string, string) { return recipes.BuildCommands(req, images, "") }}, nil
}

// session turns the flags into the session's options.
func (o benchOpts) session(cmd *cobra.Command) (session.Options, error) {
	imgs, err := imageOverrides(o.images)
	if err != nil {
		return session.Options{}, err
	}
	return session.Options{
		Images: imgs, Stack: o.stack,
		Home: bench.Home(), Suite: o.suite, Full: o.full, Timeout: o.timeout, Resume: o.resume,
		List: o.list, Bar: !o.plain && isTerminal(os.Stdout), NoBuild: o.noBuild, Target: o.target,
		ContainerPrefix: o.containerPrefix, DB: o.db, RunID: o.runID, AllowModelDirs: o.allowModelDirs,
		GPUProbe: o.gpuProbe, GPURecovery: o.gpuRecovery,
		Out: cmd.OutOrStdout(), Err: cmd.ErrOrStderr(),
	}, nil
}

// benchExit maps a run with failed cases to exit status 2.
func benchExit(err error) error {
	var failed *session.CasesFailedError
	if errors.As(err, &failed) {
		return &exitError{code: 2, err: err}
	}
	return err
}

var runIDRE = session.RunIDPattern
