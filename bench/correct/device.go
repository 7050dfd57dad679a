package correct

import (
	"fmt"
	"regexp"
	"strings"
)

// Placement is where a case ran, as the tool itself reports it: llama-bench's
// backends and gpu_info fields and ggml's device banner in its log, or
// llama-perplexity's "using device" and "offloaded N/M layers" lines. A
// case that names a GPU backend and ran elsewhere is not that backend's
// numbers.
type Placement struct {
	Backend string `json:"backend"` // the backend the case asked for
	// Ran is "gpu", "software" (a CPU implementation of the API, Mesa
	// lavapipe/llvmpipe) or "cpu".
	Ran    string `json:"ran"`
	Device string `json:"device,omitempty"`
	// Backends is the tool's own list of its ggml backends.
	Backends string `json:"backends,omitempty"`
	// OK is false when the case did not run where it asked to.
	OK   bool   `json:"ok"`
	Note string `json:"note,omitempty"`
}

// Evidence is what a run says about its devices.
type Evidence struct {
	// Backends and GPUInfo are llama-bench's fields (any record's), or
	// empty for tools without them.
	Backends string
	GPUInfo  string
	// Device and Offloaded are llama-perplexity's "using device" and
	// "offloaded N/M" readings.
	Device    string
	Offloaded string
	// Log is the tool's stderr (ggml's device banners).
	Log []byte
	// Missing are device nodes the backend needs that the host lacks.
	Missing []string
}

// ggmlNames are the names ggml registers each haloforge backend's device
// under (the HIP build of ggml's CUDA backend calls itself ROCm).
var ggmlNames = map[string][]string{
	"hip":         {"ROCm", "HIP"},
	"hip-rocwmma": {"ROCm", "HIP"},
	"vulkan":      {"Vulkan"},
}

// BackendName is a backend's name in notes: HIP, Vulkan, CPU.
func BackendName(b string) string {
	switch {
	case strings.HasPrefix(b, "hip"):
		return "HIP"
	case b == "vulkan":
		return "Vulkan"
	case b == "cpu":
		return "CPU"
	}
	return b
}

var (
	reSoftware   = regexp.MustCompile(`(?i)llvmpipe|lavapipe|softpipe|swiftshader`)
	reVulkanDev  = regexp.MustCompile(`(?m)^ggml_vulkan: 0 = (.*?) \|`)
	reROCmDev    = regexp.MustCompile(`(?m)^\s*Device 0: (.*?)(?:, VMM:.*)?$`)
	reROCmNoDev  = regexp.MustCompile(`(?m)^ggml_cuda_init: failed to initialize \S+: (.*)$`)
	reDeviceType = regexp.MustCompile(`Device type is CPU`)
)

// Software reports whether a device name is a CPU implementation of a GPU
// API (Mesa's lavapipe, whose device is called llvmpipe).
func Software(device string) bool { return reSoftware.MatchString(device) }

// Check decides where a case of backend ran. software is true when the
// suite expects a software device (the smoke suite's Vulkan on lavapipe):
// then a software device is labelled, not flagged.
func Check(backend string, software bool, e Evidence) Placement {
	p := Placement{Backend: backend, Backends: e.Backends}
	names, gpu := ggmlNames[backend]
	if !gpu {
		p.Ran, p.OK = "cpu", true
		return p
	}
	log := string(e.Log)
	registered := false
	for _, n := range names {
		if containsName(e.Backends, n) || strings.HasPrefix(e.Device, n) {
			registered = true
		}
	}
	dev := e.GPUInfo
	if dev == "" {
		dev = e.Device
	}
	if dev == "" {
		if backend == "vulkan" {
			if m := reVulkanDev.FindStringSubmatch(log); m != nil {
				dev = m[1]
			}
		} else if m := reROCmDev.FindStringSubmatch(log); m != nil {
			dev = m[1]
		}
	}
	offloadedNone := strings.HasPrefix(e.Offloaded, "0/")
	if !registered || dev == "" || offloadedNone {
		p.Ran, p.OK, p.Device = "cpu", false, dev
		var ev []string
		if e.Backends != "" || e.GPUInfo != "" {
			ran := e.Backends
			if e.GPUInfo != "" {
				ran += " on " + e.GPUInfo
			}
			ev = append(ev, "the tool reports "+ran)
		}
		if e.Device != "" {
			ev = append(ev, "it used device "+e.Device)
		}
		if e.Offloaded != "" && e.Offloaded != "0/?" {
			ev = append(ev, "offloaded "+e.Offloaded+" layers")
		}
		if m := reROCmNoDev.FindStringSubmatch(log); m != nil && backend != "vulkan" {
			ev = append(ev, "ggml: "+strings.TrimSpace(m[1]))
		}
		for _, d := range e.Missing {
			ev = append(ev, d+" absent on this host")
		}
		p.Note = "no GPU: did not run on " + BackendName(backend)
		if len(ev) > 0 {
			p.Note += " (" + strings.Join(ev, "; ") + ")"
		}
		if registered && dev != "" && Software(dev) {
			p.Ran = "software"
		}
		return p
	}
	p.Device = dev
	if Software(dev) || (backend == "vulkan" && reDeviceType.MatchString(log) && e.GPUInfo == "") {
		p.Ran = "software"
		if software {
			p.OK = true
			p.Note = fmt.Sprintf("software device: %s (Vulkan on the CPU, Mesa lavapipe)", dev)
			return p
		}
		p.Note = fmt.Sprintf("software device: did not run on a %s GPU but on %s (a CPU implementation)", BackendName(backend), dev)
		return p
	}
	p.Ran, p.OK = "gpu", true
	return p
}

// containsName reports whether a comma-separated backends list names n.
func containsName(list, n string) bool {
	for f := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(f), n) {
			return true
		}
	}
	return false
}
