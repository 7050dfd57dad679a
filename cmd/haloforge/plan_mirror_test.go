package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/mirror"
	"github.com/haloforge/haloforge/internal/testfix"
)

// mirrorPlanDir is a checkout-like directory (recipes/ and stack.lock)
// copied from the checkout repo, whose llama.cpp pin is commit, locked with haloforge lock.
func mirrorPlanDir(t *testing.T, repo, commit string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "recipes"), os.DirFS(filepath.Join(repo, "recipes"))); err != nil {
		t.Fatal(err)
	}
	recipe := filepath.Join(dir, "recipes", "components", "llama.cpp.yaml")
	data, err := os.ReadFile(recipe)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte("commit: d17a809ef0af09b16625e991a76f6fe80d9c332e"), []byte("commit: "+commit), 1)
	if err := os.WriteFile(recipe, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runPlanCLI(t, dir, "lock", "--recipes", "recipes", "--lock", "stack.lock"); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, stderr)
	}
	return dir
}

type mirrorPlan struct {
	Steps []struct {
		ID     string
		Key    string
		Mirror *struct {
			Repo    string `json:"repo"`
			Present bool   `json:"present"`
			Missing string `json:"missing"`
		}
	}
}

// TestPlanMirror plans the smoke stack against a real mirror of bare
// repositories: present, missing commit, missing repository, a --source
// override, $HALOFORGE_MIRROR; the keys never change.
func TestPlanMirror(t *testing.T) {
	t.Setenv(mirror.EnvVar, "")
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	work := filepath.Join(root, "llama.cpp")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	testfix.Git(t, work, "init", "-q", "-b", "master")
	pinned := testfix.Commit(t, work, "pinned")
	m := filepath.Join(root, "mirror")
	bare := filepath.Join(m, "github.com", "ggml-org", "llama.cpp.git")
	testfix.Git(t, root, "clone", "-q", "--mirror", work, bare)
	later := testfix.Commit(t, work, "not mirrored")

	dir := mirrorPlanDir(t, repo, pinned)
	args := []string{"plan", "--profile", "smoke", "--recipes", "recipes", "--lock", "stack.lock"}
	plain, stderr, code := runPlanCLI(t, dir, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("plan --json: exit %d: %s", code, stderr)
	}
	withMirror, stderr, code := runPlanCLI(t, dir, append(args, "--json", "--mirror", m)...)
	if code != 0 {
		t.Fatalf("plan --json --mirror: exit %d: %s", code, stderr)
	}
	var a, b mirrorPlan
	if err := json.Unmarshal([]byte(plain), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(withMirror), &b); err != nil {
		t.Fatal(err)
	}
	if len(a.Steps) != 2 || len(b.Steps) != 2 {
		t.Fatalf("smoke steps: %d and %d, want 2", len(a.Steps), len(b.Steps))
	}
	for i, s := range b.Steps {
		if s.Key != a.Steps[i].Key || s.ID != a.Steps[i].ID {
			t.Errorf("step %d: %s %s with the mirror, %s %s without", i, s.ID, s.Key, a.Steps[i].ID, a.Steps[i].Key)
		}
		if a.Steps[i].Mirror != nil {
			t.Errorf("%s: mirror field without --mirror: %+v", s.ID, a.Steps[i].Mirror)
		}
		if s.Mirror == nil || s.Mirror.Repo != bare || !s.Mirror.Present || s.Mirror.Missing != "" {
			t.Errorf("%s: mirror = %+v, want %s present", s.ID, s.Mirror, bare)
		}
	}
	// Apart from the mirror fields the JSON is the same, byte for byte.
	var ma, mb map[string]any
	_ = json.Unmarshal([]byte(plain), &ma)
	_ = json.Unmarshal([]byte(withMirror), &mb)
	for _, s := range mb["steps"].([]any) {
		delete(s.(map[string]any), "mirror")
	}
	if !reflect.DeepEqual(ma, mb) {
		t.Errorf("plan --json differs beyond the mirror fields")
	}
	keys, _, _ := runPlanCLI(t, dir, append(args, "--keys")...)
	mkeys, _, code := runPlanCLI(t, dir, append(args, "--keys", "--mirror", m)...)
	if code != 0 || keys != mkeys || !strings.Contains(keys, a.Steps[0].Key) {
		t.Errorf("--keys: exit %d\n%s\nwith the mirror:\n%s", code, keys, mkeys)
	}

	t.Setenv(mirror.EnvVar, m)
	text, stderr, code := runPlanCLI(t, dir, args...)
	if want := "   mirror    " + bare + " (commit present)\n"; code != 0 || strings.Count(text, want) != 2 {
		t.Errorf("text plan with $%s: exit %d, %s\n%s\nwant twice %q", mirror.EnvVar, code, stderr, text, want)
	}
	t.Setenv(mirror.EnvVar, "")

	// A commit the mirror lacks: the plan is printed, then exit status 2.
	stale := mirrorPlanDir(t, repo, later)
	text, stderr, code = runPlanCLI(t, stale, append(args, "--mirror", m)...)
	for _, want := range []string{"llama.cpp (llama.cpp/cpu, llama.cpp/vulkan)", "https://github.com/ggml-org/llama.cpp.git @ " + later,
		bare + " lacks the commit", "git --git-dir=" + bare + " remote update", "or drop --mirror"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("missing commit: stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != 2 || !strings.Contains(text, bare+" (commit missing)") {
		t.Errorf("missing commit: exit %d, plan:\n%s", code, text)
	}

	// A mirror without the repository.
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(empty, "github.com", "ggml-org", "llama.cpp.git")
	js, stderr, code := runPlanCLI(t, dir, append(args, "--json", "--mirror", empty)...)
	if code != 2 || !strings.Contains(stderr, "llama.cpp (llama.cpp/cpu, llama.cpp/vulkan): https://github.com/ggml-org/llama.cpp.git @ "+pinned+": no repository at "+want+
		"; fix: git clone --mirror https://github.com/ggml-org/llama.cpp.git "+want) {
		t.Errorf("missing repository: exit %d: %s", code, stderr)
	}
	var c mirrorPlan
	if err := json.Unmarshal([]byte(js), &c); err != nil || len(c.Steps) != 2 || c.Steps[0].Mirror == nil ||
		c.Steps[0].Mirror.Present || c.Steps[0].Mirror.Missing != "repository" || c.Steps[0].Mirror.Repo != want {
		t.Errorf("missing repository JSON: %v %+v", err, c)
	}

	// A --source override is not from git: nothing to look up.
	js, stderr, code = runPlanCLI(t, dir, append(args, "--json", "--mirror", empty, "--source", "llama.cpp="+work)...)
	var d mirrorPlan
	if err := json.Unmarshal([]byte(js), &d); code != 0 || err != nil || len(d.Steps) != 2 || d.Steps[0].Mirror != nil {
		t.Errorf("--source with a mirror: exit %d, %v, %s", code, err, stderr)
	}

	// A mirror directory that does not exist.
	_, stderr, code = runPlanCLI(t, dir, append(args, "--mirror", filepath.Join(root, "nope"))...)
	if code != 2 || !strings.Contains(stderr, filepath.Join(root, "nope")) {
		t.Errorf("missing mirror directory: exit %d: %s", code, stderr)
	}
}
