package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// runPlanCLI executes the real command tree with args in dir and returns stdout,
// stderr and the exit code main would use.
func runPlanCLI(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	root := newRoot()
	// Subcommands are built once at init; reset their flags between runs.
	for _, c := range root.Commands() {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				_ = sv.Replace(nil)
			} else {
				_ = f.Value.Set(f.DefValue)
			}
			f.Changed = false
		})
	}
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	code := 0
	if err := root.Execute(); err != nil {
		errb.WriteString("haloforge: " + err.Error() + "\n")
		code = exitCode(err)
	}
	return out.String(), errb.String(), code
}

func TestPlanCommand(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, _, code := runPlanCLI(t, repo, "plan", "--target", "gfx1151")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"59.4 TFLOPS", "256 GB/s",
		"therock/default", "f3d0ac98bf1023efbcb602761b86ca0d48ba83f5",
		"llama.cpp/hip-rocwmma", "d17a809ef0af09b16625e991a76f6fe80d9c332e",
		"pytorch/rocm", "ba56102387ef21a3b04b357e5b183d48f0afefc7",
		"haloforge/llama-vulkan:gfx1151-",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}

	js, _, code := runPlanCLI(t, repo, "plan", "--profile", "smoke", "--json", "--recipes", "recipes", "--lock", "stack.lock")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var plan struct {
		Steps []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(js), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) != 2 || plan.Steps[0].ID != "llama.cpp/cpu" || plan.Steps[1].ID != "llama.cpp/vulkan" {
		t.Errorf("smoke steps = %+v", plan.Steps)
	}
}

func TestPlanCommandBadInput(t *testing.T) {
	repo, _ := filepath.Abs("../..")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown target", []string{"plan", "--target", "gfx9000"}, `haloforge: --target: unknown GPU target "gfx9000"; fix: use one of`},
		{"unknown component", []string{"plan", "--only", "llama"}, `haloforge: --only: unknown component "llama"; fix: use one of:`},
		{"unknown variant", []string{"plan", "--only", "llama.cpp", "--variant", "rocm"}, `haloforge: --variant: no selected component has variant "rocm"`},
		{"missing lock", []string{"plan", "--lock", "nope.lock"}, `haloforge: nope.lock: cannot read lock: open nope.lock: no such file or directory; fix: run ` + "`haloforge lock`"},
		{"bad source flag", []string{"plan", "--source", "llama.cpp"}, `haloforge: --source: "llama.cpp" is not COMPONENT=DIR`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runPlanCLI(t, repo, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr = %q\nwant prefix %q, one line", stderr, tc.want)
			}
		})
	}
}

func TestLockCommand(t *testing.T) {
	repo, _ := filepath.Abs("../..")
	_, _, code := runPlanCLI(t, repo, "lock", "--check", "--recipes", "recipes")
	if code != 0 {
		t.Fatalf("committed stack.lock is stale (exit %d); run haloforge lock --recipes recipes", code)
	}
	// A copy of the recipes with a bumped pin: --check fails, lock rewrites, --check passes.
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "recipes"), os.DirFS(filepath.Join(repo, "recipes"))); err != nil {
		t.Fatal(err)
	}
	lockData, _ := os.ReadFile(filepath.Join(repo, "stack.lock"))
	if err := os.WriteFile(filepath.Join(dir, "stack.lock"), lockData, 0o644); err != nil {
		t.Fatal(err)
	}
	recipe := filepath.Join(dir, "recipes", "components", "llama.cpp.yaml")
	data, _ := os.ReadFile(recipe)
	data = bytes.Replace(data, []byte("commit: d17a809ef0af09b16625e991a76f6fe80d9c332e"), []byte("commit: e434e69183fd9e1031f4445002083178c331a28b"), 1)
	if err := os.WriteFile(recipe, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runPlanCLI(t, dir, "lock", "--check", "--recipes", "recipes")
	if code != 1 || !strings.Contains(stderr, `llama.cpp commit is "d17a809ef0af09b16625e991a76f6fe80d9c332e" but recipes/components/llama.cpp.yaml says "e434e691`) {
		t.Fatalf("check of stale lock: exit %d, %s", code, stderr)
	}
	_, stderr, code = runPlanCLI(t, dir, "plan", "--recipes", "recipes")
	if code != 2 || !strings.Contains(stderr, "run `haloforge lock`") {
		t.Fatalf("plan with stale lock: exit %d, %s", code, stderr)
	}
	if out, _, code := runPlanCLI(t, dir, "lock", "--recipes", "recipes"); code != 0 || !strings.HasPrefix(out, "wrote ") {
		t.Fatalf("lock: exit %d, %s", code, out)
	}
	if _, stderr, code := runPlanCLI(t, dir, "lock", "--check", "--recipes", "recipes"); code != 0 {
		t.Fatalf("check after lock: exit %d, %s", code, stderr)
	}
}
