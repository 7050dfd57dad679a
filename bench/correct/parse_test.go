package correct

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseReal(t *testing.T) {
	ref, err := Parse(VerdictReference, read(t, "kld-reference-cpu.log"))
	if err != nil || ref.PPL != 4471.9849 || ref.Chunks != 4 {
		t.Fatalf("reference: %+v %v", ref, err)
	}
	vk, err := Parse("check", read(t, "kld-vulkan-lavapipe.log"))
	if err != nil {
		t.Fatal(err)
	}
	if *vk.MeanKLD != 0.000006 || *vk.KLD99 != 0.000008 || *vk.MaxKLD != 0.00001 || *vk.SameTop != 96.429 ||
		vk.PPL != 4471.240366 || *vk.PPLBase != 4471.983770 {
		t.Errorf("vulkan: %s %+v", vk.Summary(), vk)
	}
	if vk.Device != "Vulkan0 (llvmpipe (LLVM 22.1.8, 256 bits))" || vk.Offloaded != "5/5" {
		t.Errorf("device %q offloaded %q", vk.Device, vk.Offloaded)
	}
	vk.Judge(Thresholds{})
	if vk.Verdict != VerdictOK {
		t.Errorf("lavapipe against the CPU: %s", vk.Summary())
	}
	bad, err := Parse("check", read(t, "kld-seed7-wrong.log"))
	if err != nil {
		t.Fatal(err)
	}
	bad.Judge(Thresholds{})
	if bad.Verdict != VerdictWrong || *bad.MeanKLD != 0.1033 || *bad.SameTop != 0 {
		t.Errorf("another seed: %s", bad.Summary())
	}
	// The reference run prints no KL divergence: it is no check.
	if _, err := Parse("check", read(t, "kld-reference-cpu.log")); !errors.Is(err, ErrNoStatistics) {
		t.Errorf("reference log as a check: %v", err)
	}
}

func TestParseFailures(t *testing.T) {
	for name, out := range map[string]string{
		"rejected option": "error: invalid argument: --no-mmap\n",
		"truncated":       "Mean PPL(Q)                   : 4471.240366 ±  97.637416\nMean    KLD:   0.000006 ±   0.000000\n",
		"bad base file":   "0.01.000.000 E kl_divergence: /haloforge-kld/x.kld does not look like a file containing log-probabilities\n",
		"empty":           "",
	} {
		if _, err := Parse("check", []byte(out)); !errors.Is(err, ErrNoStatistics) {
			t.Errorf("%s: %v, want ErrNoStatistics", name, err)
		}
	}
	if _, err := Parse("check", []byte("Mean PPL(Q) : 1\nMean    KLD: 1e+\nSame top p: 99 %\n")); err == nil {
		t.Error("a garbled number must be an error")
	}
}
