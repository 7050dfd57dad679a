package suite

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/correct"
)

// The reference check as a case kind (tool: llama-perplexity): for each
// model, llama-perplexity on the CPU backend saves the reference
// log-probabilities over the shipped text once (--kl-divergence-base), then
// every other backend listed runs it with --kl-divergence against that file
// and is judged ok or wrong by the thresholds (bench/correct):
//
//	cases:
//	  - tool: llama-perplexity
//	    models: [tiny-q4_0]
//	    backends: [cpu, vulkan]        # cpu is the reference; the others are checked
//	    kld: {ctx: 128, chunks: 4, max_mean_kld: 0.01, max_kld_p99: 0.1, min_same_top: 90}
//
// kld.reference names another model of the suite whose CPU run is the
// reference (default: the case's own model): the KL divergence of a
// quantization from its F16 original, for example.

// KLDMount is where the run's reference directory (the text and the saved
// log-probabilities) is mounted in reference-check containers.
const KLDMount = "/haloforge-kld"

// Default context and chunk count of the reference check.
const (
	DefaultKLDCtx = 128
	// DefaultKLDChunks 0 means all the chunks the text gives.
	DefaultKLDChunks = 0
)

// KLDSpec configures a llama-perplexity case.
type KLDSpec struct {
	// Ctx is the context of each chunk (llama-perplexity -c); default 128.
	Ctx int `yaml:"ctx,omitempty"`
	// Chunks limits the chunks evaluated (--chunks); 0: all.
	Chunks int `yaml:"chunks,omitempty"`
	// Reference is the model whose CPU run is the reference; default the
	// case's model.
	Reference          string `yaml:"reference,omitempty"`
	correct.Thresholds `yaml:",inline"`
}

// KLDCase is how the runner runs a reference-check case.
type KLDCase struct {
	// Role is "reference" (CPU, saves the base file) or "check".
	Role string
	// BaseFile is the reference log-probabilities file, relative to the
	// run's reference directory (and to KLDMount).
	BaseFile string
	// Reference is the case id of the CPU reference run.
	Reference  string
	Thresholds correct.Thresholds
}

// Backend device expectations (Backend.Device).
const (
	DeviceGPU      = "gpu"      // default for hip and vulkan: a software device is a fallback
	DeviceSoftware = "software" // a CPU implementation is expected (Vulkan on Mesa lavapipe)
)

// validateCorrectness checks backends' device fields and the reference-check
// cases.
func (s *Suite) validateCorrectness(errAt func(field, msg string, path ...any) error) error {
	for _, name := range slices.Sorted(maps.Keys(s.Backends)) {
		d := s.Backends[name].Device
		switch {
		case d == "" || d == DeviceGPU:
		case d == DeviceSoftware && name == "vulkan":
		case d == DeviceSoftware:
			return errAt("backends."+name+".device", "only the vulkan backend has a software device (Mesa lavapipe): remove it", "backends", name, "device")
		default:
			return errAt("backends."+name+".device", fmt.Sprintf("unknown device %q: use gpu or software", d), "backends", name, "device")
		}
	}
	for i, c := range s.Cases {
		p := []any{"cases", i}
		field := func(f string) string { return fmt.Sprintf("cases[%d].%s", i, f) }
		if c.Tool != bench.ToolPerplexity {
			if c.KLD != nil {
				return errAt(field("kld"), "kld is a llama-perplexity option: remove it or use tool: llama-perplexity", append(p, "kld")...)
			}
			continue
		}
		if len(c.Models) == 0 {
			return errAt(field("models"), "missing: llama-perplexity cases need models", p...)
		}
		for j, m := range c.Models {
			if _, ok := s.Models[m]; !ok {
				return errAt(field(fmt.Sprintf("models[%d]", j)), fmt.Sprintf("unknown model %q: define it under models", m), append(p, "models", j)...)
			}
		}
		if _, ok := s.Backends["cpu"]; !ok {
			return errAt(field("backends"), "the reference runs on the CPU backend: configure backends.cpu with its image", append(p, "backends")...)
		}
		if len(c.Tests)+len(c.FlashAttn) > 0 || c.Dtype != "" || c.Sweep != "" || c.RPC != nil {
			return errAt(field("tool"), "llama-perplexity takes models, backends and kld only (no tests, fa, dtype, sweep or rpc)", p...)
		}
		if k := c.KLD; k != nil {
			kp := append(p, "kld")
			if k.Ctx < 0 || k.Ctx == 1 {
				return errAt(field("kld.ctx"), "the context must be at least 2 tokens (default 128)", kp...)
			}
			if k.Chunks < 0 {
				return errAt(field("kld.chunks"), "must be positive (0: all the text)", kp...)
			}
			if k.Reference != "" {
				if _, ok := s.Models[k.Reference]; !ok {
					return errAt(field("kld.reference"), fmt.Sprintf("unknown model %q: define it under models", k.Reference), kp...)
				}
			}
			if err := k.Validate(); err != nil {
				return errAt(field("kld"), err.Error(), kp...)
			}
		}
		for j, a := range c.Args {
			if kldReserved(a) {
				return errAt(field(fmt.Sprintf("args[%d]", j)), fmt.Sprintf("%s is set by haloforge (use models and kld)", a), append(p, "args", j)...)
			}
		}
	}
	return nil
}

func kldReserved(a string) bool {
	switch a {
	case "-m", "--model", "-f", "--file", "-c", "--ctx-size", "--chunks", "--kl-divergence", "--kl-divergence-base", "--save-all-logits":
		return true
	}
	return false
}

// expandKLD adds a llama-perplexity spec's cases: the CPU reference of each
// reference model once (refs remembers those already added by earlier
// specs), then one check per other backend.
func (s *Suite) expandKLD(spec CaseSpec, add func(Case, CaseSpec), refs map[string]bool) {
	k := KLDSpec{}
	if spec.KLD != nil {
		k = *spec.KLD
	}
	ctx := k.Ctx
	if ctx == 0 {
		ctx = DefaultKLDCtx
	}
	prog := spec.Command
	if len(prog) == 0 {
		prog = []string{"llama-perplexity"}
	}
	common := func(model string) []string {
		argv := append(slices.Clone(prog), "-m", ContainerModelPath(model, s.Models[model]), "-c", strconv.Itoa(ctx))
		if k.Chunks > 0 {
			argv = append(argv, "--chunks", strconv.Itoa(k.Chunks))
		}
		if s.Defaults.Threads > 0 {
			argv = append(argv, "-t", strconv.Itoa(s.Defaults.Threads))
		}
		return argv
	}
	for _, mname := range spec.Models {
		ref := k.Reference
		if ref == "" {
			ref = mname
		}
		base := fmt.Sprintf("%s.c%d.n%d.kld", ref, ctx, k.Chunks)
		refID := fmt.Sprintf("kld/%s/cpu/c%d", ref, ctx)
		if k.Chunks > 0 {
			refID += fmt.Sprintf("-n%d", k.Chunks)
		}
		if !refs[refID] {
			refs[refID] = true
			argv := append(common(ref), "-f", KLDMount+"/"+correct.TextFile,
				"--kl-divergence-base", KLDMount+"/"+base)
			argv = append(argv, perplexityBackendArgs("cpu")...)
			add(Case{ID: refID, Tool: bench.ToolPerplexity, Backend: "cpu", Model: ref, Argv: argv,
				KLD: &KLDCase{Role: correct.VerdictReference, BaseFile: base, Reference: refID, Thresholds: k.WithDefaults()}}, spec)
		}
		for _, be := range spec.Backends {
			if be == "cpu" {
				continue
			}
			argv := append(common(mname), "--kl-divergence-base", KLDMount+"/"+base, "--kl-divergence")
			argv = append(argv, perplexityBackendArgs(be)...)
			argv = append(argv, spec.Args...)
			id := fmt.Sprintf("kld/%s/%s/c%d", mname, be, ctx)
			if k.Chunks > 0 {
				id += fmt.Sprintf("-n%d", k.Chunks)
			}
			if ref != mname {
				id += "/vs-" + ref
			}
			add(Case{ID: id, Tool: bench.ToolPerplexity, Backend: be, Model: mname, Argv: argv,
				KLD: &KLDCase{Role: "check", BaseFile: base, Reference: refID, Thresholds: k.WithDefaults()}}, spec)
		}
	}
}

// perplexityBackendArgs are llama-perplexity's device arguments per backend
// (llama.cpp common options: -ngl, -dev, --no-mmap).
func perplexityBackendArgs(name string) []string {
	// -v: llama.cpp's loader says "using device Vulkan0 (...)" and
	// "offloaded N/M layers to GPU" only at debug verbosity in newer builds
	// (Debian 0.7.0); the placement proof reads them. --no-mmap is left out:
	// Debian 0.7.0's llama-perplexity rejects it ("error: invalid argument:
	// --no-mmap"), and mmap only slows loading, not the numbers.
	switch name {
	case "hip", "hip-rocwmma", "vulkan":
		return []string{"-ngl", "99", "-v"}
	default:
		return []string{"-ngl", "0", "-dev", "none"}
	}
}
