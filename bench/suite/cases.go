package suite

import (
	"fmt"
	"maps"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/haloforge/haloforge/bench"
)

// ModelMount is where the model cache is mounted (read-only) in containers.
const ModelMount = "/models"

// DefaultTimeout is the case time limit when neither the case, the suite
// nor the command line sets one.
const DefaultTimeout = 30 * time.Minute

// FullSweepTimeout is the least time limit of a full mamf-finder sweep.
const FullSweepTimeout = 48 * time.Hour

// Case is one expanded, runnable case: one tool invocation in one container.
type Case struct {
	Index   int    // position in the expanded suite, stable across resumes
	ID      string // e.g. llama/tiny-q4_0/vulkan/fa1/pp64-tg16
	Tool    bench.Tool
	Backend string
	Model   string // model name from the suite (llama-bench only)
	// Variant is the suite case's variant name (the ID's last part), which
	// keeps apart cases that differ in nothing else.
	Variant string `json:",omitempty"`
	Image   string
	Argv    []string          // program and arguments inside the container
	Env     map[string]string // container environment
	Timeout time.Duration
	// Devices are the host devices the backend needs; the runner passes
	// those that exist on the host.
	Devices []string
	// GPU is true for backends that drive the GPU (HIP, Vulkan): after a hang
	// the runner checks the GPU still answers before the next GPU case.
	GPU bool
	// RPC is set for llama-bench cases spread over RPC worker hosts; Argv
	// then lacks --rpc, which the runner adds once the workers listen.
	RPC *RPC `json:",omitempty"`
	// Software is true when the backend's device is expected to be a CPU
	// implementation (Vulkan on lavapipe): labelled, not flagged.
	Software bool `json:",omitempty"`
	// KLD is set for reference-check cases (llama-perplexity, kld.go).
	KLD *KLDCase `json:",omitempty"`
}

// Slug is the case id as a file name component.
func (c Case) Slug() string {
	return strings.NewReplacer("/", "_", " ", "_", ":", "_").Replace(c.ID)
}

// Options change how a suite expands.
type Options struct {
	// Timeout, when non-zero, overrides every case's time limit (--timeout).
	Timeout time.Duration
	// FullSweep runs mamf-finder's full sweep instead of the quick one (--full).
	FullSweep bool
}

// BackendDevices are the host devices each backend needs (design.md sec. 3).
var BackendDevices = map[string][]string{
	"cpu":         nil,
	"hip":         {"/dev/kfd", "/dev/dri"},
	"hip-rocwmma": {"/dev/kfd", "/dev/dri"},
	"vulkan":      {"/dev/dri"},
}

// backendEnv is each backend's built-in environment.
func backendEnv(name string, b Backend) map[string]string {
	env := map[string]string{}
	switch name {
	case "hip", "hip-rocwmma":
		env["ROCBLAS_USE_HIPBLASLT"] = "1"
		if b.HSAOverrideGFXVersion != "" {
			env["HSA_OVERRIDE_GFX_VERSION"] = b.HSAOverrideGFXVersion
		}
	case "vulkan":
		env["GGML_VK_VISIBLE_DEVICES"] = "0"
	}
	maps.Copy(env, b.Env)
	return env
}

// backendLlamaArgs are llama-bench arguments each backend always gets.
func backendLlamaArgs(name string) []string {
	switch name {
	case "hip", "hip-rocwmma":
		return []string{"-mmp", "0", "-ngl", "99"} // mmap stalls on ROCm
	case "vulkan":
		return []string{"-ngl", "99"}
	default:
		// CPU: no offload, and no GPU device even when the image ships GPU backends.
		return []string{"-ngl", "0", "-dev", "none"}
	}
}

// LocalModelMount is where a local-path model is mounted (read-only):
// LocalModelMount/<model name>/<file name>.
const LocalModelMount = "/local-models"

// ModelPath is the path of a cached model's (first) GGUF file relative to
// the model cache, which is also its path under ModelMount in containers.
// Local-path models are not cached: ModelPath is "" for them.
func ModelPath(name string, m Model) string {
	switch {
	case m.Tiny != nil:
		return path.Join("tiny", "tiny-"+m.Tiny.Type+".gguf")
	case len(m.Files) > 0:
		return RepoFilePath(m.Repo, m.Files[0].Name)
	}
	return ""
}

// RepoFilePath is where the model cache keeps a file downloaded from a
// Hugging Face repository, relative to the cache: hf/<repo>/<file>.
func RepoFilePath(repo, file string) string { return path.Join("hf", repo, file) }

// ContainerModelPath is the model's (first) file as llama-bench sees it.
func ContainerModelPath(name string, m Model) string {
	if m.Path != "" {
		return path.Join(LocalModelMount, name, path.Base(m.Path))
	}
	return path.Join(ModelMount, ModelPath(name, m))
}

// Cases0 expands the suite with default options.
func (s *Suite) Cases0() ([]Case, error) { return s.Expand(Options{}) }

// Expand turns the suite into its ordered cases: for llama-bench the product
// models x backends x fa x tests (in that nesting order).
func (s *Suite) Expand(o Options) ([]Case, error) {
	var out []Case
	kldRefs := map[string]bool{}
	add := func(c Case, spec CaseSpec) {
		c.Index = len(out)
		c.Image = s.Backends[c.Backend].Image
		if spec.Image != "" {
			c.Image = spec.Image
		}
		c.Devices = BackendDevices[c.Backend]
		c.GPU = c.Backend != "cpu"
		c.Software = s.Backends[c.Backend].Device == DeviceSoftware
		env := backendEnv(c.Backend, s.Backends[c.Backend])
		maps.Copy(env, spec.Env)
		c.Env = env
		switch {
		case o.Timeout > 0:
			c.Timeout = o.Timeout
		case spec.Timeout > 0:
			c.Timeout = time.Duration(spec.Timeout)
		case s.Defaults.Timeout > 0:
			c.Timeout = time.Duration(s.Defaults.Timeout)
		default:
			c.Timeout = DefaultTimeout
		}
		if o.Timeout == 0 && c.Tool == bench.ToolMamf && o.FullSweep && c.Timeout < FullSweepTimeout {
			c.Timeout = FullSweepTimeout // the full sweep takes ~35 h on Strix Halo without hipBLASLt
		}
		if spec.Variant != "" {
			c.ID += "/" + spec.Variant
			c.Variant = spec.Variant
		}
		out = append(out, c)
	}
	for _, spec := range s.Cases {
		switch spec.Tool {
		case bench.ToolLlamaBench:
			fas := spec.FlashAttn
			if len(fas) == 0 {
				fas = []int{0}
			}
			reps := spec.Repetitions
			if reps == 0 {
				reps = s.Defaults.Repetitions
			}
			for _, mname := range spec.Models {
				m := s.Models[mname]
				for _, be := range spec.Backends {
					for _, fa := range fas {
						for _, t := range spec.Tests {
							pp, tg, err := ParseTest(t)
							if err != nil {
								return nil, err
							}
							prog := spec.Command
							if len(prog) == 0 {
								prog = []string{"llama-bench"}
							}
							argv := append([]string{}, prog...)
							argv = append(argv, "-m", ContainerModelPath(mname, m),
								"-p", strconv.Itoa(pp), "-n", strconv.Itoa(tg), "-fa", strconv.Itoa(fa))
							if reps > 0 {
								argv = append(argv, "-r", strconv.Itoa(reps))
							}
							if s.Defaults.Threads > 0 {
								argv = append(argv, "-t", strconv.Itoa(s.Defaults.Threads))
							}
							if spec.RPC != nil {
								argv = append(argv, rpcLlamaArgs(be, len(spec.RPC.Workers))...)
							} else {
								argv = append(argv, backendLlamaArgs(be)...)
							}
							argv = append(argv, s.Backends[be].Args...)
							argv = append(argv, spec.Args...)
							argv = append(argv, "-o", "json")
							label := strings.ReplaceAll(t, "/", "-")
							id := fmt.Sprintf("llama/%s/%s/fa%d/%s", mname, be, fa, label)
							var rpc *RPC
							if spec.RPC != nil {
								rpc = s.expandRPC(spec.RPC)
								id += "/" + rpc.Label()
							}
							add(Case{
								ID:      id,
								Tool:    spec.Tool,
								Backend: be,
								Model:   mname,
								Argv:    argv,
								RPC:     rpc,
							}, spec)
						}
					}
				}
			}
		case bench.ToolMamf:
			dtype := spec.Dtype
			if dtype == "" {
				dtype = "bfloat16"
			}
			sweep := spec.Sweep
			if sweep == "" {
				sweep = "quick"
			}
			if o.FullSweep {
				sweep = "full"
			}
			prog := spec.Command
			if len(prog) == 0 {
				prog = []string{"mamf-finder"}
			}
			for _, be := range spec.Backends {
				argv := append([]string{}, prog...)
				if sweep == "full" {
					argv = append(argv, "--m_range", "0", "16384", "1024", "--n_range", "0", "16384", "1024", "--k_range", "0", "16384", "1024")
				} else {
					argv = append(argv, "--m_range", "0", "20480", "256", "--n", "4096", "--k", "4096")
				}
				argv = append(argv, "--dtype", dtype)
				argv = append(argv, spec.Args...)
				add(Case{ID: fmt.Sprintf("mamf/%s/%s/%s", be, dtype, sweep), Tool: spec.Tool, Backend: be, Argv: argv}, spec)
			}
		case bench.ToolPerplexity:
			s.expandKLD(spec, add, kldRefs)
		case bench.ToolRBT:
			prog := spec.Command
			if len(prog) == 0 {
				prog = []string{"rocm_bandwidth_test"}
			}
			for _, be := range spec.Backends {
				argv := append(append([]string{}, prog...), spec.Args...)
				add(Case{ID: fmt.Sprintf("rbt/%s", be), Tool: spec.Tool, Backend: be, Argv: argv}, spec)
			}
		}
	}
	return out, nil
}
