package suite

import (
	"strings"
	"testing"
)

const kldHead = `name: t
backends:
  cpu: {image: img}
  vulkan: {image: img}
models:
  m: {tiny: {type: q4_0}}
  f: {tiny: {type: f16}}
`

func TestKLDValidation(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"no cpu backend", "name: t\nbackends:\n  vulkan: {image: i}\nmodels:\n  m: {tiny: {type: q4_0}}\ncases:\n  - tool: llama-perplexity\n    models: [m]\n    backends: [vulkan]\n",
			"t.yaml:9: cases[0].backends: the reference runs on the CPU backend: configure backends.cpu"},
		{"no models", kldHead + "cases:\n  - tool: llama-perplexity\n    backends: [cpu, vulkan]\n", "cases[0].models: missing"},
		{"unknown reference", kldHead + "cases:\n  - tool: llama-perplexity\n    models: [m]\n    backends: [cpu, vulkan]\n    kld: {reference: x}\n", "t.yaml:12: cases[0].kld.reference: unknown model \"x\""},
		{"bad same top", kldHead + "cases:\n  - tool: llama-perplexity\n    models: [m]\n    backends: [cpu, vulkan]\n    kld: {min_same_top: 120}\n", "cases[0].kld: min_same_top 120: a percentage"},
		{"bad ctx", kldHead + "cases:\n  - tool: llama-perplexity\n    models: [m]\n    backends: [cpu, vulkan]\n    kld: {ctx: 1}\n", "cases[0].kld.ctx: the context must be at least 2"},
		{"tests on perplexity", kldHead + "cases:\n  - tool: llama-perplexity\n    models: [m]\n    backends: [cpu, vulkan]\n    tests: [pp1]\n", "llama-perplexity takes models, backends and kld only"},
		{"kld on llama-bench", kldHead + "cases:\n  - tool: llama-bench\n    models: [m]\n    backends: [cpu]\n    tests: [pp1]\n    kld: {ctx: 64}\n", "t.yaml:13: cases[0].kld: kld is a llama-perplexity option"},
		{"reserved arg", kldHead + "cases:\n  - tool: llama-perplexity\n    models: [m]\n    backends: [cpu, vulkan]\n    args: [-c, '64']\n", "cases[0].args[0]: -c is set by haloforge"},
		{"software hip", "name: t\nbackends:\n  hip: {image: i, device: software}\ncases:\n  - {tool: rocm_bandwidth_test, backends: [hip]}\n", "t.yaml:3: backends.hip.device: only the vulkan backend has a software device"},
		{"unknown device", "name: t\nbackends:\n  vulkan: {image: i, device: igpu}\ncases:\n  - {tool: llama-bench, backends: [vulkan], models: [m], tests: [pp1]}\nmodels: {m: {tiny: {type: q4_0}}}\n", "backends.vulkan.device: unknown device \"igpu\": use gpu or software"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestKLDExpand: one CPU reference per reference model, shared by specs,
// then one check per other backend against it.
func TestKLDExpand(t *testing.T) {
	y := kldHead + `cases:
  - tool: llama-perplexity
    models: [m, f]
    backends: [cpu, vulkan]
    kld: {ctx: 64, chunks: 2}
  - tool: llama-perplexity
    variant: q-vs-f16
    models: [m]
    backends: [vulkan]
    kld: {ctx: 64, chunks: 2, reference: f, max_mean_kld: 0.05}
`
	s, err := Parse("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.Cases0()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cases {
		got = append(got, c.ID+" "+c.KLD.Role+" "+c.KLD.BaseFile+" "+c.KLD.Reference)
	}
	want := []string{
		"kld/m/cpu/c64-n2 reference m.c64.n2.kld kld/m/cpu/c64-n2",
		"kld/m/vulkan/c64-n2 check m.c64.n2.kld kld/m/cpu/c64-n2",
		"kld/f/cpu/c64-n2 reference f.c64.n2.kld kld/f/cpu/c64-n2",
		"kld/f/vulkan/c64-n2 check f.c64.n2.kld kld/f/cpu/c64-n2",
		"kld/m/vulkan/c64-n2/vs-f/q-vs-f16 check f.c64.n2.kld kld/f/cpu/c64-n2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cases:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	last := cases[len(cases)-1]
	if last.KLD.Thresholds.MaxMeanKLD != 0.05 || last.KLD.Thresholds.MinSameTop != 90 {
		t.Errorf("thresholds %+v: set value kept, others default", last.KLD.Thresholds)
	}
	if a := strings.Join(cases[0].Argv, " "); a != "llama-perplexity -m /models/tiny/tiny-q4_0.gguf -c 64 --chunks 2 -f /haloforge-kld/reference.txt --kl-divergence-base /haloforge-kld/m.c64.n2.kld -ngl 0 -dev none" {
		t.Errorf("reference argv %s", a)
	}
}
