package suite

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestEmbeddedSuites(t *testing.T) {
	tests := []struct {
		name  string
		cases int
	}{
		// 3 (mamf hipBLASLt and rocBLAS, rbt) + 3 models x (CPU reference + 3 checks)
		// + 3 models x 4 backends x 2 fa x 2 tests + qwen b256 4 x 2
		{"seed", 3 + 3*4 + 3*4*2*2 + 4*2},
		// llama-bench 2 backends x 2 fa, then the CPU reference and the Vulkan check
		{"smoke", 2*2 + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			cases, err := s.Expand(Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(cases) != tt.cases {
				t.Fatalf("%d cases, want %d", len(cases), tt.cases)
			}
			for i, c := range cases {
				if c.Index != i {
					t.Errorf("case %s index %d, want %d", c.ID, c.Index, i)
				}
			}
		})
	}
}

// TestExpandGolden pins the exact argv, env, image and limit of every case
// of the built-in suites.
func TestExpandGolden(t *testing.T) {
	for _, name := range Embedded() {
		for _, o := range []struct {
			suffix string
			opts   Options
		}{{"", Options{}}, {".full", Options{FullSweep: true}}} {
			if name == "smoke" && o.suffix != "" {
				continue
			}
			t.Run(name+o.suffix, func(t *testing.T) {
				s, err := Load(name)
				if err != nil {
					t.Fatal(err)
				}
				cases, err := s.Expand(o.opts)
				if err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				for _, c := range cases {
					var env []string
					for _, k := range slices.Sorted(maps.Keys(c.Env)) {
						env = append(env, k+"="+c.Env[k])
					}
					fmt.Fprintf(&b, "%d %s\n  image=%s timeout=%s gpu=%v devices=%v\n  env=%v\n  argv=%s\n",
						c.Index, c.ID, c.Image, c.Timeout, c.GPU, c.Devices, env, strings.Join(c.Argv, " "))
				}
				golden := filepath.Join("testdata", name+o.suffix+".cases.golden")
				if *update {
					if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if b.String() != string(want) {
					t.Errorf("expansion differs from %s (go test -update after checking the diff):\n%s", golden, b.String())
				}
			})
		}
	}
}

func TestBackendSpecifics(t *testing.T) {
	s := mustParse(t, `
name: t
backends:
  cpu: {image: img}
  hip: {image: img, hsa_override_gfx_version: "11.5.1", env: {EXTRA: "1"}}
  hip-rocwmma: {image: img}
  vulkan: {image: img, args: [-ub, "1024"]}
models:
  m: {path: /data/m.gguf}
cases:
  - {tool: llama-bench, models: [m], backends: [cpu, hip, hip-rocwmma, vulkan], tests: [pp512/tg128], timeout: 7m}
`)
	cases, err := s.Expand(Options{})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]Case{}
	for _, c := range cases {
		by[c.Backend] = c
	}
	has := func(c Case, args ...string) bool {
		for i := range c.Argv {
			if slices.Equal(c.Argv[i:min(i+len(args), len(c.Argv))], args) {
				return true
			}
		}
		return false
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"cpu has no devices", len(by["cpu"].Devices) == 0 && !by["cpu"].GPU},
		{"cpu uses no GPU device", has(by["cpu"], "-ngl", "0", "-dev", "none")},
		{"hip -mmp 0 -ngl 99", has(by["hip"], "-mmp", "0", "-ngl", "99") && has(by["hip-rocwmma"], "-mmp", "0", "-ngl", "99")},
		{"hip devices", slices.Equal(by["hip"].Devices, []string{"/dev/kfd", "/dev/dri"})},
		{"vulkan devices", slices.Equal(by["vulkan"].Devices, []string{"/dev/dri"})},
		{"hip HSA override when configured", by["hip"].Env["HSA_OVERRIDE_GFX_VERSION"] == "11.5.1" && by["hip"].Env["EXTRA"] == "1"},
		{"no HSA override unless configured", by["hip-rocwmma"].Env["HSA_OVERRIDE_GFX_VERSION"] == ""},
		{"hipBLASLt on for HIP", by["hip"].Env["ROCBLAS_USE_HIPBLASLT"] == "1"},
		{"vulkan device 0", by["vulkan"].Env["GGML_VK_VISIBLE_DEVICES"] == "0"},
		{"backend args", has(by["vulkan"], "-ub", "1024")},
		{"json output", has(by["cpu"], "-o", "json")},
		{"local model path", has(by["cpu"], "-m", "/local-models/m/m.gguf")},
		{"case timeout", by["cpu"].Timeout == 7*time.Minute},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.name, by)
		}
	}
	cases, _ = s.Expand(Options{Timeout: time.Second})
	if cases[0].Timeout != time.Second {
		t.Errorf("--timeout did not override: %s", cases[0].Timeout)
	}
}

func TestFullSweep(t *testing.T) {
	s, err := Load("seed")
	if err != nil {
		t.Fatal(err)
	}
	quick, _ := s.Expand(Options{})
	full, _ := s.Expand(Options{FullSweep: true})
	if !strings.Contains(strings.Join(quick[0].Argv, " "), "--m_range 0 20480 256 --n 4096 --k 4096 --dtype bfloat16") {
		t.Errorf("quick sweep argv: %v", quick[0].Argv)
	}
	if !strings.Contains(strings.Join(full[0].Argv, " "), "--k_range 0 16384 1024") || full[0].Timeout < FullSweepTimeout {
		t.Errorf("full sweep: %v %s", full[0].Argv, full[0].Timeout)
	}
}

func mustParse(t *testing.T, y string) *Suite {
	t.Helper()
	s, err := Parse("t.yaml", []byte(strings.TrimPrefix(y, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const okHead = `name: t
backends:
  cpu: {image: img}
  hip: {image: img}
models:
  m: {tiny: {type: q4_0}}
`

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // substring, including file:line
	}{
		{"syntax", "name: [", "t.yaml"},
		{"unknown top field", "name: t\nbakends: {}\n", "t.yaml:2: unknown field bakends"},
		{"no name", "backends: {cpu: {image: i}}\ncases: []\n", "t.yaml:1: name: missing"},
		{"unknown backend", "name: t\nbackends:\n  cuda: {image: i}\ncases: []\n", "t.yaml:3: backends.cuda: unknown backend: use one of cpu, hip, hip-rocwmma, vulkan"},
		{"missing image", "name: t\nbackends:\n  cpu: {}\n", "t.yaml:3: backends.cpu.image: missing"},
		{"hsa on vulkan", "name: t\nbackends:\n  vulkan: {image: i, hsa_override_gfx_version: '11.0.0'}\n", "only HIP backends"},
		{"unknown tool", okHead + "cases:\n  - tool: llama-bnch\n    backends: [cpu]\n", "t.yaml:8: cases[0].tool: unknown tool \"llama-bnch\""},
		{"unknown case field", okHead + "cases:\n  - tool: llama-bench\n    modles: [m]\n", "t.yaml:9: unknown field modles"},
		{"case backend not configured", okHead + "cases:\n  - tool: llama-bench\n    models: [m]\n    backends: [cpu, vulkan]\n    tests: [pp1]\n", "t.yaml:10: cases[0].backends[1]: backend \"vulkan\" is not configured"},
		{"case backend unknown", okHead + "cases:\n  - tool: llama-bench\n    models: [m]\n    backends: [rocm]\n    tests: [pp1]\n", "unknown backend \"rocm\""},
		{"unknown model", okHead + "cases:\n  - tool: llama-bench\n    models: [m, llama]\n    backends: [cpu]\n    tests: [pp1]\n", "t.yaml:9: cases[0].models[1]: unknown model \"llama\": define it under models"},
		{"bad test", okHead + "cases:\n  - tool: llama-bench\n    models: [m]\n    backends: [cpu]\n    tests: [pp512/tg128, p512]\n", "t.yaml:11: cases[0].tests[1]: test \"p512\": write ppN"},
		{"bad fa", okHead + "cases:\n  - tool: llama-bench\n    models: [m]\n    backends: [cpu]\n    tests: [pp1]\n    fa: [0, 2]\n", "cases[0].fa[1]: flash attention is 0"},
		{"bad duration", okHead + "cases:\n  - tool: llama-bench\n    timeout: soon\n", "t.yaml:9: \"soon\" is not a duration"},
		{"wrong type", okHead + "cases:\n  - tool: llama-bench\n    fa: yes\n", "t.yaml:9: cannot unmarshal"},
		{"reserved arg", okHead + "cases:\n  - tool: llama-bench\n    models: [m]\n    backends: [cpu]\n    tests: [pp1]\n    args: [-m, x]\n", "cases[0].args[0]: -m is set by haloforge"},
		{"mamf on cpu", okHead + "cases:\n  - tool: mamf-finder\n    backends: [cpu]\n", "mamf-finder runs on HIP backends only"},
		{"rbt with models", okHead + "cases:\n  - tool: rocm_bandwidth_test\n    backends: [hip]\n    models: [m]\n", "takes no models"},
		{"bad sweep", okHead + "cases:\n  - tool: mamf-finder\n    backends: [hip]\n    sweep: medium\n", "t.yaml:10: cases[0].sweep: use quick or full"},
		{"bad sha", "name: t\nbackends: {cpu: {image: i}}\nmodels:\n  m:\n    repo: a/b\n    files:\n      - name: f.gguf\n        sha256: abc\n", "t.yaml:8: models.m.files[0].sha256: must be 64 hex digits"},
		{"two sources", "name: t\nbackends: {cpu: {image: i}}\nmodels:\n  m: {repo: a/b, path: /x}\n", "t.yaml:4: models.m: give exactly one of"},
		{"bad repo", "name: t\nbackends: {cpu: {image: i}}\nmodels:\n  m: {repo: ab, files: [{name: f, sha256: unknown}]}\n", "write the repository as owner/name"},
		{"tiny type", "name: t\nbackends: {cpu: {image: i}}\nmodels:\n  m: {tiny: {type: q3}}\n", "unknown tiny model type \"q3\""},
		{"relative path", "name: t\nbackends: {cpu: {image: i}}\nmodels:\n  m: {path: m.gguf}\n", "use an absolute path"},
		{"no cases", "name: t\nbackends: {cpu: {image: i}}\n", "cases: missing"},
		{"duplicate", okHead + "cases:\n  - {tool: llama-bench, models: [m], backends: [cpu], tests: [pp1]}\n  - {tool: llama-bench, models: [m], backends: [cpu], tests: [pp1]}\n", "appears twice: give one of them a variant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestLoadUnknown(t *testing.T) {
	_, err := Load("smok")
	if err == nil || !strings.Contains(err.Error(), "built-in suites are seed, smoke") {
		t.Fatalf("got %v", err)
	}
	_, err = Load("./nope.yaml")
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("got %v", err)
	}
}

func TestParseTest(t *testing.T) {
	tests := []struct {
		in     string
		pp, tg int
		ok     bool
	}{
		{"pp512/tg128", 512, 128, true},
		{"pp8192/tg8192", 8192, 8192, true},
		{"pp512", 512, 0, true},
		{"tg128", 0, 128, true},
		{"tg128/pp512", 512, 128, true},
		{"pp0", 0, 0, false},
		{"pp512/pp512", 0, 0, false},
		{"pp-1", 0, 0, false},
		{"", 0, 0, false},
		{"pp512/", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			pp, tg, err := ParseTest(tt.in)
			if (err == nil) != tt.ok || (tt.ok && (pp != tt.pp || tg != tt.tg)) {
				t.Fatalf("ParseTest(%q) = %d, %d, %v", tt.in, pp, tg, err)
			}
		})
	}
}

// FuzzParse: no input may panic, every error is one line naming the file.
func FuzzParse(f *testing.F) {
	for _, n := range Embedded() {
		b, _ := embedded.ReadFile("suites/" + n + ".yaml")
		f.Add(b)
	}
	f.Add([]byte(okHead + "cases:\n  - {tool: llama-bench, models: [m], backends: [cpu], tests: [pp1]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse("fuzz.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %q", err)
			}
			return
		}
		if _, err := s.Expand(Options{}); err != nil {
			t.Fatalf("valid suite does not expand: %v", err)
		}
	})
}
