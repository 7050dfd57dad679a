package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/correct"
	"github.com/haloforge/haloforge/bench/gguf"
	"github.com/haloforge/haloforge/bench/models"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
)

// TestCorrectnessReal runs the reference check and the placement proof in
// the smoke image on the real daemon, with real faults:
//   - Vulkan on lavapipe against the CPU reference on the same model: ok;
//   - Vulkan on a model of another seed against that reference: wrong;
//   - a HIP llama-bench case and a HIP reference check on this host, which
//     has no /dev/kfd and whose image has no HIP backend: "no GPU: did not
//     run on HIP", never HIP numbers;
//   - a Vulkan case that expects a GPU but gets lavapipe: a software device.
func TestCorrectnessReal(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	if _, err := os.Stat("/dev/kfd"); err == nil {
		t.Skip("this host has /dev/kfd: the HIP fallback cannot be planted here")
	}
	dir := t.TempDir()
	other := filepath.Join(dir, "tiny-q4_0-seed7.gguf")
	if err := gguf.WriteTinyFile(other, gguf.TinyOptions{Type: gguf.Q4_0, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	img := runtime.SmokeRef
	y := `
name: correct-itest
defaults: {timeout: 5m, repetitions: 1}
backends:
  cpu: {image: ` + img + `}
  vulkan: {image: ` + img + `, device: software}
  hip: {image: ` + img + `}
models:
  tiny: {tiny: {type: q4_0}}
  seed7: {path: ` + other + `}
cases:
  - {tool: llama-perplexity, models: [tiny], backends: [cpu, vulkan, hip], kld: {ctx: 128, chunks: 2}}
  - {tool: llama-perplexity, models: [seed7], backends: [vulkan], kld: {ctx: 128, chunks: 2, reference: tiny}}
  - {tool: llama-bench, models: [tiny], backends: [cpu, vulkan, hip], tests: [pp16/tg4]}
`
	s, err := suite.Parse("correct-itest.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.Expand(suite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	ctx := context.Background()
	binds, _, err := (&models.Cache{Dir: bench.ModelDir(home), Tiny: gguf.TinyMaker{}, AllowDirs: []string{dir}}).Prepare(ctx, s, cases)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Docker: dc, Home: home, Binds: binds, NamePrefix: "hf-runner-test-"}
	run, err := r.Start(ctx, bench.Run{Suite: s.Name}, s.Raw, cases)
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	_ = WriteTable(&table, run)
	t.Logf("results:\n%s", table.String())
	by := map[string]bench.CaseResult{}
	for _, c := range run.Cases {
		by[c.ID] = c
	}
	want := map[string]bench.Status{
		"kld/tiny/cpu/c128-n2":             bench.StatusOK,
		"kld/tiny/vulkan/c128-n2":          bench.StatusOK,
		"kld/tiny/hip/c128-n2":             bench.StatusFallback,
		"kld/seed7/vulkan/c128-n2/vs-tiny": bench.StatusWrong,
		"llama/tiny/cpu/fa0/pp16-tg4":      bench.StatusOK,
		"llama/tiny/vulkan/fa0/pp16-tg4":   bench.StatusOK,
		"llama/tiny/hip/fa0/pp16-tg4":      bench.StatusFallback,
	}
	for id, st := range want {
		c, ok := by[id]
		if !ok {
			t.Errorf("case %s missing", id)
			continue
		}
		if c.Status != st {
			t.Errorf("%s: status %s (%s), want %s", id, c.Status, c.Error, st)
		}
	}
	if c := by["kld/tiny/vulkan/c128-n2"]; c.Correct == nil || c.Correct.MeanKLD == nil || *c.Correct.MeanKLD > correct.DefaultThresholds.MaxMeanKLD ||
		c.Placement == nil || c.Placement.Ran != "software" || !strings.Contains(c.Placement.Device, "llvmpipe") {
		t.Errorf("vulkan check: %+v %+v", c.Correct, c.Placement)
	}
	if c := by["kld/seed7/vulkan/c128-n2/vs-tiny"]; c.Correct == nil || c.Correct.Verdict != correct.VerdictWrong {
		t.Errorf("seed7 check: %+v", c.Correct)
	}
	for _, id := range []string{"llama/tiny/hip/fa0/pp16-tg4", "kld/tiny/hip/c128-n2"} {
		if c := by[id]; !strings.HasPrefix(c.Error, "no GPU: did not run on HIP") {
			t.Errorf("%s: error %q, want no GPU: did not run on HIP", id, c.Error)
		}
	}
	if c := by["llama/tiny/cpu/fa0/pp16-tg4"]; !strings.Contains(strings.Join(c.Args, " "), "-dev none") {
		t.Errorf("Debian's llama-bench has -dev: the CPU case keeps -dev none: %v", c.Args)
	}
	// The help text is cached by image id.
	ents, err := os.ReadDir(filepath.Join(home, helpCacheDir))
	if err != nil || len(ents) != 1 {
		t.Errorf("help cache: %v %v", ents, err)
	}
}
