package images

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestStepArgvMarkerRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		key  string
		cmd  Command
	}{
		{"plain", "llama.cpp/vulkan", Command{Step: "build", Args: []string{"cmake", "--build", "$BUILD"}}},
		{"shell", "therock", Command{Step: "configure", Shell: true, Args: []string{"HIPCXX=$(hipconfig -l)/clang", "cmake", "-S", "."}}},
		{"no variant", "rocwmma", Command{Step: "install", Args: []string{"cmake", "--install", "$BUILD"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			comp, step, ok := ParseStepMarker(StepArgv(tc.key, tc.cmd))
			if !ok || comp != tc.key || step != tc.cmd.Step {
				t.Errorf("ParseStepMarker = %q %q %v, want %q %q", comp, step, ok, tc.key, tc.cmd.Step)
			}
		})
	}
	for _, bad := range [][]string{nil, {"cmake", "--build"}, {"sh", "-c", "x", "other"}, {"sh", "-c", "x", "haloforge:nostep"}, {"sh", "-c", "x", "haloforge:a:"}} {
		if _, _, ok := ParseStepMarker(bad); ok {
			t.Errorf("ParseStepMarker(%q) accepted a foreign argv", bad)
		}
	}
}

// TestStepArgvRunsInShell runs the assembled scripts with the real sh: $VARs
// expand, spaces and quotes stay literal, stderr joins stdout, failures stop.
func TestStepArgvRunsInShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	argv := StepArgv("x", Command{Step: "s", Args: []string{"printf", "%s|", "$PREFIX", "two words", `q"uote`, "back`tick"}})
	cmd := exec.Command(sh, argv[1:]...)
	cmd.Env = []string{"PREFIX=/opt/p"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run %q: %v\n%s", argv, err, out)
	}
	if want := "/opt/p|two words|q\"uote|back`tick|"; string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}

	fail := StepArgv("x", Command{Step: "s", Shell: true, Args: []string{"echo to-stderr >&2; false; echo not-reached"}})
	cmd = exec.Command(sh, fail[1:]...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Run(); err == nil {
		t.Fatal("failing script succeeded")
	}
	if got := stdout.String(); got != "to-stderr\n" {
		t.Errorf("stdout %q, want stderr merged and the script stopped at the failure", got)
	}
}

// TestStepArgvShellContract: plan commands run like sh -ec — an unset
// variable is empty, not an error; a failing command stops the script.
func TestStepArgvShellContract(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	argv := StepArgv("x", Command{Step: "s", Shell: true, Args: []string{`echo "[${HALOFORGE_UNSET_FOR_TEST}]"; echo ${HALOFORGE_JOBS:-7}`}})
	cmd := exec.Command(sh, argv[1:]...)
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "[]\n7\n" {
		t.Errorf("got %q, %v; want unset variables empty and defaults applied", out, err)
	}
}

func TestAptInstallArgvIsOrderIndependent(t *testing.T) {
	a := AptInstallArgv([]string{"cmake", "ccache", "cmake", ""})
	b := AptInstallArgv([]string{"ccache", "cmake"})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("package order changes the step: %q vs %q", a, b)
	}
	if !strings.Contains(a[2], "--no-install-recommends ccache cmake\n") {
		t.Errorf("script %q does not install the sorted set", a[2])
	}
}

func TestBuildEnv(t *testing.T) {
	c := Component{Name: "llama.cpp", Variant: "hip", Env: map[string]string{"HIP_PLATFORM": "amd", "JOBS": "ignored?"}}
	env := BuildEnv(c, 4, []string{"/opt/haloforge/therock", "/opt/haloforge/rocwmma"})
	want := map[string]string{
		"PREFIX":            "/opt/haloforge/llama.cpp-hip",
		"BUILD":             "/build/llama.cpp-hip",
		"CMAKE_PREFIX_PATH": "/opt/haloforge/therock:/opt/haloforge/rocwmma",
		"CCACHE_MAXSIZE":    "25G",
		"HIP_PLATFORM":      "amd",
		"JOBS":              "ignored?",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	// A recipe's CCACHE_DIR (an old recipe defect) cannot move ccache off
	// the mounted volume.
	if got := BuildEnv(Component{Name: "x", Env: map[string]string{"CCACHE_DIR": "/var/cache/haloforge/ccache"}}, 1, nil)["CCACHE_DIR"]; got != CCacheDir {
		t.Errorf("CCACHE_DIR = %q, want the mounted volume %s", got, CCacheDir)
	}
	if _, ok := BuildEnv(Component{Name: "x"}, 1, nil)["CMAKE_PREFIX_PATH"]; ok {
		t.Error("CMAKE_PREFIX_PATH set with no dependencies")
	}
}

func TestRuntimeEnv(t *testing.T) {
	env := RuntimeEnv([]string{"/opt/haloforge/therock", "/opt/haloforge/llama.cpp-hip"}, map[string]string{"ROCBLAS_USE_HIPBLASLT": "1"})
	if !strings.HasPrefix(env["PATH"], "/opt/haloforge/therock/bin:/opt/haloforge/llama.cpp-hip/bin:") || !strings.HasSuffix(env["PATH"], ":/bin") {
		t.Errorf("PATH = %q", env["PATH"])
	}
	if env["LD_LIBRARY_PATH"] != "/opt/haloforge/therock/lib:/opt/haloforge/llama.cpp-hip/lib" {
		t.Errorf("LD_LIBRARY_PATH = %q", env["LD_LIBRARY_PATH"])
	}
	if env["ROCBLAS_USE_HIPBLASLT"] != "1" {
		t.Error("image env dropped")
	}
}

func TestCCacheVolumeFor(t *testing.T) {
	if got := CCacheVolumeFor(Toolchain{Name: "ROCm Dev"}); got != "haloforge-ccache-rocm-dev" {
		t.Errorf("got %q", got)
	}
}
