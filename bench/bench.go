// Package bench owns the benchmark side of haloforge: the data model of a run
// (cases, results, memory peaks, host and image provenance) shared by the
// suite runner, the parsers, the results store and the reports.
//
// Subpackages: llamabench, mamf and rbt parse tool outputs; the runner,
// suites, memory sampler, store and reports build on the types here.
package bench

import (
	"time"

	"github.com/haloforge/haloforge/bench/correct"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/bench/mamf"
	"github.com/haloforge/haloforge/bench/rbt"
)

// Status is how a case ended.
type Status string

// Case outcomes. Only StatusOK carries numbers.
const (
	StatusOK      Status = "ok"      // finished, output parsed
	StatusHang    Status = "hang"    // exceeded its time limit and was killed ("GPU Hang" in tables)
	StatusCrash   Status = "crash"   // tool exited non-zero
	StatusError   Status = "error"   // could not start, or output could not be parsed
	StatusSkipped Status = "skipped" // not run (backend unavailable on this host)
	// StatusFallback: ran, but not on the backend it names (a HIP or Vulkan
	// case on the CPU or on a software device): its numbers are not that
	// backend's. Placement says where it ran.
	StatusFallback Status = "fallback"
	// StatusWrong: a reference check whose output differs from the CPU
	// reference beyond the suite's thresholds (see bench/correct).
	StatusWrong Status = "wrong"
)

// Tool names the benchmark program a case runs.
type Tool string

// Known tools.
const (
	ToolLlamaBench Tool = "llama-bench"
	ToolMamf       Tool = "mamf-finder"
	ToolRBT        Tool = "rocm_bandwidth_test"
	// ToolPerplexity is llama.cpp's llama-perplexity running the reference
	// check (KL divergence from the CPU backend, bench/correct).
	ToolPerplexity Tool = "llama-perplexity"
)

// Run is one execution of a suite on one host.
type Run struct {
	ID       string    `json:"id"`    // e.g. 20261126-130405-smoke
	Suite    string    `json:"suite"` // suite name
	Target   string    `json:"target"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	Host     HostFacts `json:"host"`
	// Images used by the run's cases, keyed by image reference.
	Images map[string]ImageInfo `json:"images,omitempty"`
	// Models used by the run's cases, keyed by the suite's model name.
	Models map[string]ModelInfo `json:"models,omitempty"`
	// LockDigest is the sha256 of the stack.lock the images were built from, if known.
	LockDigest string `json:"lock_digest,omitempty"`
	// Stack says which build plan the run's images belong to, so
	// `haloforge reproduce` can rebuild the same stack and check it is the
	// same plan. The exact lock is kept beside run.json as stack.lock.
	Stack *StackInfo `json:"stack,omitempty"`
	// ReproOf names the run this one reproduces (haloforge reproduce).
	ReproOf string       `json:"repro_of,omitempty"`
	Cases   []CaseResult `json:"cases"`
}

// StackInfo is the build-plan provenance of a run.
type StackInfo struct {
	// Profile is the recipes profile the suite's images come from ("smoke",
	// or "" for the whole stack).
	Profile string `json:"profile"`
	// PlanDigest is the sha256 of the plan (recipes, lock, target, profile)
	// as JSON: the same digest means the same steps, pins, flags and keys.
	PlanDigest string `json:"plan_digest"`
	// Steps are the plan's step ids with their cache keys, in build order.
	Steps []string `json:"steps,omitempty"`
	// Haloforge is the version of haloforge that ran the suite.
	Haloforge string `json:"haloforge,omitempty"`
}

// CaseResult is the outcome of one case of a suite.
type CaseResult struct {
	ID        string            `json:"id"` // stable within a suite, e.g. "llama/tiny-q4_0/vulkan/fa1/pp512-tg128"
	Tool      Tool              `json:"tool"`
	Backend   string            `json:"backend,omitempty"` // cpu, hip, hip-rocwmma, vulkan
	Model     string            `json:"model,omitempty"`   // model name from the suite
	Variant   string            `json:"variant,omitempty"` // the suite case's variant, if any
	Image     string            `json:"image,omitempty"`
	Args      []string          `json:"args,omitempty"` // the tool's argv inside the container
	Env       map[string]string `json:"env,omitempty"`
	Status    Status            `json:"status"`
	ExitCode  int               `json:"exit_code"`
	Error     string            `json:"error,omitempty"`
	Started   time.Time         `json:"started"`
	Finished  time.Time         `json:"finished"`
	Memory    MemoryPeaks       `json:"memory"`
	StdoutLog string            `json:"stdout_log,omitempty"` // path relative to the run directory
	StderrLog string            `json:"stderr_log,omitempty"`
	// WallSec is the container's run time (start to exit) in seconds.
	WallSec float64 `json:"wall_sec,omitempty"`
	// TimeoutSec is the case's time limit in seconds.
	TimeoutSec float64 `json:"timeout_sec,omitempty"`
	// Devices are the host device nodes passed to the container.
	Devices []string `json:"devices,omitempty"`
	// GroupAdd are the supplementary group ids (the host's video and render).
	GroupAdd []string `json:"group_add,omitempty"`
	// Notes are facts about how the case ran (absent devices, OOM kill, ...).
	Notes []string `json:"notes,omitempty"`
	// Kernel are the kernel log lines about the GPU, DRM and the OOM
	// killer logged while the case ran (bench/kernlog), and Faults what
	// they report: gpu-hang, gpu-reset, gpu-page-fault, oom-kill.
	Kernel []string `json:"kernel,omitempty"`
	Faults []string `json:"faults,omitempty"`
	// Topology is set for llama.cpp RPC cases spread over several hosts:
	// the main host and each worker's host, backend, devices and address.
	Topology *Topology `json:"topology,omitempty"`

	Llama     []llamabench.Record `json:"llama,omitempty"`
	Mamf      *mamf.Result        `json:"mamf,omitempty"`
	Bandwidth *rbt.Result         `json:"bandwidth,omitempty"`
	// Correct is a reference check's result (KL divergence from the CPU).
	Correct *correct.Result `json:"correctness,omitempty"`
	// Placement is where a GPU case ran, as the tool reports it.
	Placement *correct.Placement `json:"placement,omitempty"`
}

// MemoryPeaks are peak increases over the value sampled before the case
// started, in MiB. A nil field means "not available" (for example no sysfs
// node on this host) and is never shown as zero.
type MemoryPeaks struct {
	VRAMMiB *float64 `json:"vram_mib"`
	GTTMiB  *float64 `json:"gtt_mib"`
	RAMMiB  *float64 `json:"ram_mib"`
	// ProcVRAMMiB and ProcGTTMiB are the case process's own peak VRAM and
	// GTT from /proc/PID/fdinfo drm-memory-* (absolute, not deltas); nil
	// when the runner gave no PID or the kernel has no fdinfo accounting.
	ProcVRAMMiB *float64 `json:"proc_vram_mib,omitempty"`
	ProcGTTMiB  *float64 `json:"proc_gtt_mib,omitempty"`
}

// HostFacts is the provenance of the machine a run happened on, as gathered
// by doctor.
type HostFacts struct {
	Hostname      string            `json:"hostname,omitempty"`
	Kernel        string            `json:"kernel,omitempty"`
	Firmware      string            `json:"linux_firmware,omitempty"`
	CPU           string            `json:"cpu,omitempty"`
	GPUs          []string          `json:"gpus,omitempty"` // e.g. "gfx1151 (Radeon 8060S)"
	MemTotalMiB   int64             `json:"mem_total_mib,omitempty"`
	DockerVersion string            `json:"docker_version,omitempty"`
	KernelCmdline string            `json:"kernel_cmdline,omitempty"`
	Extra         map[string]string `json:"extra,omitempty"` // TTM/GTT limits, amd_iommu, Mesa, ...
}

// ModelInfo is the provenance of a model: where it came from and the
// sha256 of each file as verified before the run.
type ModelInfo struct {
	Source string   `json:"source"`          // "hf:owner/repo@rev", "tiny:q4_0" or "path:/abs/file.gguf"
	Files  []string `json:"files,omitempty"` // paths as the container sees them
	SHA256 []string `json:"sha256,omitempty"`
	Bytes  int64    `json:"bytes,omitempty"`
	// Revision is the commit the hub resolved the suite's revision to when
	// the files were downloaded (its X-Repo-Commit header), if it said.
	Revision string `json:"revision,omitempty"`
}

// ImageInfo is the provenance of a runtime image, read from its OCI labels.
type ImageInfo struct {
	Ref string `json:"ref"`
	// Alias is the suite's reference Ref was resolved from through the
	// build plan (haloforge/<image>:<target>), if it was.
	Alias string `json:"alias,omitempty"`
	ID    string `json:"id,omitempty"`
	// Digest is the image's manifest or repository digest when Docker
	// knows one (an image loaded from a tarball has only its ID).
	Digest string            `json:"digest,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Topology is how an RPC case was spread over hosts: llama-bench ran on the
// main host with --rpc pointing at ggml RPC servers on the workers.
type Topology struct {
	Main TopologyNode `json:"main"`
	// Workers in --rpc order: worker i is llama-bench's device RPC<i>.
	Workers []TopologyNode `json:"workers"`
	// Network is the Docker network the containers shared, if any
	// ("" means host networking, workers reached at their host's address).
	Network string `json:"network,omitempty"`
}

// TopologyNode is one host's part in an RPC case.
type TopologyNode struct {
	Host     string `json:"host"`               // the suite's host name ("main" for the main host)
	Endpoint string `json:"endpoint,omitempty"` // Docker endpoint: unix://..., tcp://..., ssh://...
	Backend  string `json:"backend"`            // cpu, hip, hip-rocwmma, vulkan
	Image    string `json:"image,omitempty"`
	// ImageID is the image's id on that host (workers only).
	ImageID string `json:"image_id,omitempty"`
	// Address is host:port llama-bench connected to (workers only).
	Address   string `json:"address,omitempty"`
	Container string `json:"container,omitempty"`
	// Server is the RPC server's version line (workers only), e.g. "v8.0.0".
	Server string `json:"server,omitempty"`
	// GPUs are the ggml devices the host offered, as its RPC server's
	// banner (workers) or llama-bench's gpu_info (main) names them, e.g.
	// "Vulkan0: Radeon 8060S Graphics (RADV GFX1151) (98304 MiB, 97000 MiB free)".
	GPUs []string `json:"gpus,omitempty"`
	// Devices and GroupAdd are the device nodes and group ids passed to the
	// host's container, as for single-box cases.
	Devices  []string `json:"devices,omitempty"`
	GroupAdd []string `json:"group_add,omitempty"`
	// Log is the worker's log, relative to the run directory.
	Log string `json:"log,omitempty"`
	// ExitCode is the worker's exit code when it died during the case.
	ExitCode *int     `json:"exit_code,omitempty"`
	Notes    []string `json:"notes,omitempty"`
}

// FailureLabel is how a table shows a case without numbers: the kernel's
// account when it logged one ("GPU Reset", "GPU Page Fault", "GPU Hang",
// "OOM Kill"), "GPU Hang" for a GPU case over its time limit, "Timeout" for
// a CPU case over it, else the status.
func FailureLabel(c CaseResult) string {
	for _, f := range []struct{ fault, label string }{
		{"gpu-reset", "GPU Reset"}, {"gpu-page-fault", "GPU Page Fault"}, {"gpu-hang", "GPU Hang"}, {"oom-kill", "OOM Kill"},
	} {
		for _, have := range c.Faults {
			if have == f.fault {
				return f.label
			}
		}
	}
	if c.Status == StatusHang {
		if c.Backend == "cpu" || c.Backend == "" && len(c.Devices) == 0 {
			return "Timeout"
		}
		return "GPU Hang"
	}
	return string(c.Status)
}
