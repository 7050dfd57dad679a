package ci

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/testfix"
	"github.com/haloforge/haloforge/recipes"
)

// copyFiles copies the repository files rels (files or directories) into dst.
func copyFiles(t *testing.T, root, dst string, rels ...string) {
	t.Helper()
	for _, rel := range rels {
		err := filepath.WalkDir(filepath.Join(root, rel), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			r, _ := filepath.Rel(root, p)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dst, r), 0o755)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info, _ := d.Info()
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, r)), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, r), b, info.Mode().Perm())
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// llamaKey is the cache key of llama.cpp/cpu in the full plan of checkout.
func llamaKey(t *testing.T, checkout string) string {
	t.Helper()
	p, _, err := recipes.PlanFor(recipes.Request{WorkDir: checkout}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := p.Step("llama.cpp/cpu")
	if !ok {
		t.Fatal("no llama.cpp/cpu step")
	}
	return s.Key
}

// TestNightlyPlansMovedPins runs the nightly's build step (ci/nightly.sh
// build, full profile) in a copy of the checkout whose llama.cpp recipe
// follows a local upstream repository with a new commit: `lock --update`
// moves the pin, and the plan and build that follow use the moved pin
// (plan.keys holds the new key; the build gets past planning and stops
// only at the Dagger engine, which this test points at a closed port).
func TestNightlyPlansMovedPins(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	upstream := filepath.Join(work, "llama.cpp")
	if err := os.MkdirAll(upstream, 0o755); err != nil {
		t.Fatal(err)
	}
	testfix.Git(t, upstream, "init", "-q", "-b", "master")
	first := testfix.Commit(t, upstream, "first")

	checkout := filepath.Join(work, "checkout")
	copyFiles(t, root, checkout, "recipes/base.yaml", "recipes/components", "stack.lock", "ci/nightly.sh")
	llama := filepath.Join(checkout, "recipes", "components", "llama.cpp.yaml")
	data, err := os.ReadFile(llama)
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`(?m)^(\s+git:\s*)\S+`).ReplaceAllString(string(data), "${1}file://"+upstream)
	s = regexp.MustCompile(`(?m)^(\s+commit:\s*)[0-9a-f]{40}`).ReplaceAllString(s, "${1}"+first)
	s = regexp.MustCompile(`(?m)^(\s+ref:\s*)\S+`).ReplaceAllString(s, "${1}master")
	if err := os.WriteFile(llama, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	hf := filepath.Join(checkout, "bin", "haloforge")
	if out, err := exec.Command("go", "build", "-o", hf, "../cmd/haloforge").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	lockCmd := exec.Command(hf, "lock")
	lockCmd.Dir = checkout
	if out, err := lockCmd.CombinedOutput(); err != nil {
		t.Fatalf("haloforge lock: %v\n%s", err, out)
	}
	before := llamaKey(t, checkout)
	second := testfix.Commit(t, upstream, "second")

	out := filepath.Join(work, "out")
	cmd := exec.Command("bash", "ci/nightly.sh", "build")
	cmd.Dir = checkout
	cmd.Env = append(os.Environ(), "HALOFORGE_PROFILE=full", "HALOFORGE_OUT="+out, "HALOFORGE_HOME="+filepath.Join(work, "home"),
		"HALOFORGE_PINS=llama.cpp=master", "HALOFORGE_ENGINE=tcp://127.0.0.1:1", "GITHUB_STEP_SUMMARY=")
	log, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the build step succeeded without an engine:\n%s", log)
	}
	if !strings.Contains(string(log), first[:12]+" -> "+second[:12]) {
		t.Fatalf("lock --update did not move llama.cpp to %s:\n%s", second[:12], log)
	}
	if !strings.Contains(string(log), "does not answer") || strings.Contains(string(log), "lock does not match") {
		t.Fatalf("the build step should plan the moved pin and stop at the engine:\n%s", log)
	}
	after := llamaKey(t, checkout)
	keys, err := os.ReadFile(filepath.Join(out, "plan.keys"))
	if err != nil {
		t.Fatalf("the nightly wrote no plan.keys: %v\n%s", err, log)
	}
	if after == before || !strings.Contains(string(keys), after+"  llama.cpp/cpu") {
		t.Errorf("plan.keys does not hold the moved pin's key %s (before: %s):\n%s", after, before, keys)
	}
	// Without --recipes, in the checkout, plan uses the checkout's recipes too.
	plan := exec.Command(hf, "plan", "--keys")
	plan.Dir = checkout
	if b, err := plan.CombinedOutput(); err != nil || !strings.Contains(string(b), after+"  llama.cpp/cpu") {
		t.Errorf("haloforge plan in the checkout after lock --update: %v\n%s", err, b)
	}
}
