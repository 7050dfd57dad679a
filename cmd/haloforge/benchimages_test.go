package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchListResolvesThroughPlan: bench --list shows the exact images the
// plan of the same --lock and --source names for the suite's aliases, and
// --image replaces one backend's image.
func TestBenchListResolvesThroughPlan(t *testing.T) {
	repo := repoRoot(t)
	t.Setenv("HALOFORGE_HOME", t.TempDir())
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "CMakeLists.txt"), []byte("project(llama.cpp)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	js, _, code := runPlanCLI(t, repo, "plan", "--profile", "smoke", "--lock", "stack.lock", "--source", "llama.cpp="+src, "--json")
	if code != 0 {
		t.Fatalf("plan exit %d", code)
	}
	var plan struct {
		Steps []struct {
			Runtime struct{ Image string } `json:"runtime"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(js), &plan); err != nil || len(plan.Steps) != 2 {
		t.Fatalf("plan: %v", err)
	}
	cpu, vk := plan.Steps[0].Runtime.Image, plan.Steps[1].Runtime.Image
	out, errOut, code := runPlanCLI(t, repo, "bench", "--suite", "smoke-stack", "--list", "--lock", "stack.lock", "--source", "llama.cpp="+src)
	if code != 0 || strings.Count(out, cpu) != 2 || strings.Count(out, vk) != 2 {
		t.Fatalf("bench --list (exit %d) does not run %s and %s twice each:\n%s%s", code, cpu, vk, out, errOut)
	}
	out, _, code = runPlanCLI(t, repo, "bench", "--suite", "smoke-stack", "--list", "--lock", "stack.lock", "--source", "llama.cpp="+src, "--image", "cpu=haloforge/runtime-smoke:sid")
	if code != 0 || strings.Count(out, "haloforge/runtime-smoke:sid") != 2 || strings.Contains(out, cpu) || strings.Count(out, vk) != 2 {
		t.Errorf("--image cpu=...: exit %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--suite", "smoke-stack", "--list", "--image", "cpu"}, `--image "cpu" is not BACKEND=REF`},
		{[]string{"bench", "--suite", "smoke-stack", "--list", "--image", "a=b:c", "--image", "a=d:e"}, "--image a given twice"},
		{[]string{"bench", "--resume", "some-run", "--image", "cpu=x:y"}, "--image cannot change a resumed run"},
		{[]string{"bench", "--suite", "smoke-stack", "--list", "--lock", "missing.lock"}, "missing.lock"},
	} {
		_, errOut, code := runPlanCLI(t, repo, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
}
