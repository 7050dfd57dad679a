package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/testfix"
	"github.com/haloforge/haloforge/recipes"
)

// copyTree copies the repository's recipes into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(p, ".yaml") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLockUpdateAgainstLocalUpstream serves llama.cpp from a real local git
// repository: a new commit on the tracked branch moves the pin in the recipe
// and in the lock, and nothing else changes.
func TestLockUpdateAgainstLocalUpstream(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repoRoot, err := filepath.Abs("../..")
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
	copyTree(t, filepath.Join(repoRoot, "recipes"), filepath.Join(checkout, "recipes"))
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
	lock := filepath.Join(checkout, "stack.lock")
	if out, code := lockCLI(t, checkout, "lock", "--recipes", "recipes"); code != 0 {
		t.Fatalf("lock: exit %d\n%s", code, out)
	}
	before, _ := os.ReadFile(lock)

	// Nothing moved upstream: nothing to write.
	out, code := lockCLI(t, checkout, "lock", "--update", "llama.cpp")
	if code != 0 || !strings.Contains(out, "every pin is current") {
		t.Fatalf("no-op update: exit %d\n%s", code, out)
	}

	second := testfix.Commit(t, upstream, "second")
	out, code = lockCLI(t, checkout, "lock", "--update", "--dry-run", "llama.cpp")
	if code != 0 || !strings.Contains(out, first[:12]+" -> "+second[:12]+" (branch master)") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(lock); string(after) != string(before) {
		t.Fatal("--dry-run wrote the lock")
	}

	out, code = lockCLI(t, checkout, "lock", "--update", "llama.cpp")
	if code != 0 || !strings.Contains(out, "wrote 1 recipe pin(s)") {
		t.Fatalf("update: exit %d\n%s", code, out)
	}
	t.Logf("lock --update llama.cpp:\n%s", out)
	l, err := recipes.LoadLock(lock)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := recipes.ParseLock("before", before)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range l.Components {
		old, _ := prev.Component(c.Name)
		switch {
		case c.Name == "llama.cpp":
			if c.Commit != second || c.Version != "master+"+second[:8] {
				t.Errorf("llama.cpp locked at %s %s, want %s", c.Commit, c.Version, second)
			}
		case c != old:
			t.Errorf("%s changed: %+v -> %+v", c.Name, old, c)
		}
	}
	if out, code := lockCLI(t, checkout, "lock", "--check", "--recipes", "recipes"); code != 0 {
		t.Fatalf("lock --check after update: exit %d\n%s", code, out)
	}

	// Moving to an annotated tag resolves to the commit it points at.
	third := testfix.Commit(t, upstream, "third")
	testfix.Git(t, upstream, "tag", "-a", "-m", "release", "b9999", third)
	testfix.Commit(t, upstream, "fourth")
	out, code = lockCLI(t, checkout, "lock", "--update", "--ref", "llama.cpp=b9999")
	if code != 0 || !strings.Contains(out, "(tag b9999)") {
		t.Fatalf("tag move: exit %d\n%s", code, out)
	}
	if l, _ = recipes.LoadLock(lock); func() string { c, _ := l.Component("llama.cpp"); return c.Commit }() != third {
		t.Fatalf("tag b9999 should pin %s:\n%s", third, out)
	}

	// Bad input: an unknown component and a ref that does not exist.
	if out, code := lockCLI(t, checkout, "lock", "--update", "llama"); code != 2 || !strings.Contains(out, `unknown component "llama"`) {
		t.Fatalf("unknown component: exit %d\n%s", code, out)
	}
	if out, code := lockCLI(t, checkout, "lock", "--update", "--ref", "llama.cpp=nope"); code == 0 || !strings.Contains(out, `ref "nope" not found upstream`) {
		t.Fatalf("missing ref: exit %d\n%s", code, out)
	}
}

// lockCLI runs haloforge in dir and returns stdout and stderr together.
func lockCLI(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	o, e, code := runPlanCLI(t, dir, args...)
	return o + e, code
}
