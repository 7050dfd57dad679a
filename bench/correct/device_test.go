package correct

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/bench/llamabench"
)

// evidence reads a real llama-bench output and its stderr from the
// llamabench package's fixtures (Debian sid 0.7.0).
func evidence(t *testing.T, name string, missing ...string) Evidence {
	t.Helper()
	dir := filepath.Join("..", "llamabench", "testdata")
	out, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	errb, err := os.ReadFile(filepath.Join(dir, name+".stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := llamabench.ParseBytes(out, llamabench.FormatAuto, name)
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s: %v", name, err)
	}
	return Evidence{Backends: recs[0].Backends, GPUInfo: recs[0].GPUInfo, Log: errb, Missing: missing}
}

func TestCheckLlamaBench(t *testing.T) {
	tests := []struct {
		name, file, backend string
		software            bool
		missing             []string
		ok                  bool
		ran, note           string
	}{
		{"cpu", "bench.json", "cpu", false, nil, true, "cpu", ""},
		{"vulkan on lavapipe, expected", "bench-vulkan-lavapipe.json", "vulkan", true, nil, true, "software", "software device: llvmpipe (LLVM 22.1.8, 256 bits)"},
		{"vulkan on lavapipe, GPU expected", "bench-vulkan-lavapipe.json", "vulkan", false, nil, false, "software", "software device: did not run on a Vulkan GPU but on llvmpipe"},
		{"hip case that ran on lavapipe", "bench-vulkan-lavapipe.json", "hip", false, []string{"/dev/kfd"}, false, "cpu", "no GPU: did not run on HIP (the tool reports Vulkan on llvmpipe (LLVM 22.1.8, 256 bits); /dev/kfd absent on this host)"},
		{"vulkan case that ran on the CPU", "bench.json", "vulkan", false, []string{"/dev/dri"}, false, "cpu", "no GPU: did not run on Vulkan (the tool reports CPU; /dev/dri absent on this host)"},
		{"hip case that ran on the CPU", "bench.json", "hip-rocwmma", false, nil, false, "cpu", "no GPU: did not run on HIP (the tool reports CPU)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Check(tt.backend, tt.software, evidence(t, tt.file, tt.missing...))
			if p.OK != tt.ok || p.Ran != tt.ran || !strings.HasPrefix(p.Note, tt.note) {
				t.Errorf("Check = %+v\nwant ok=%v ran=%s note %q", p, tt.ok, tt.ran, tt.note)
			}
		})
	}
}

// TestCheckPerplexity reads llama-perplexity's own device lines (captured
// in the smoke image, testdata/).
func TestCheckPerplexity(t *testing.T) {
	for _, tt := range []struct {
		file, backend string
		software, ok  bool
		ran           string
	}{
		{"kld-vulkan-lavapipe.log", "vulkan", true, true, "software"},
		{"kld-vulkan-lavapipe.log", "vulkan", false, false, "software"},
		{"kld-vulkan-lavapipe.log", "hip", false, false, "cpu"},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Parse("check", b)
		if err != nil {
			t.Fatal(err)
		}
		p := Check(tt.backend, tt.software, Evidence{Device: r.Device, Offloaded: r.Offloaded, Log: b})
		if p.OK != tt.ok || p.Ran != tt.ran {
			t.Errorf("%s as %s (software %v): %+v", tt.file, tt.backend, tt.software, p)
		}
	}
}
