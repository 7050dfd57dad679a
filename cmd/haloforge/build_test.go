package main

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/images"
)

// TestBuildBadInput checks the input errors build reports before it needs a
// Dagger engine: each is exit status 2 with a message naming the fix.
func TestBuildBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown target", []string{"build", "--target", "gfx9999"}, "gfx9999"},
		{"source without =", []string{"build", "--source", "llama.cpp"}, "is not COMPONENT=DIR"},
		{"source empty dir", []string{"build", "--source", "llama.cpp="}, "is not COMPONENT=DIR"},
		{"source missing dir", []string{"build", "--source", "llama.cpp=" + dir + "/nope"}, "not a directory"},
		{"source twice", []string{"build", "--source", "llama.cpp=" + dir, "--source", "llama.cpp=" + dir}, "given twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runPlanCLI(t, "", tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", stderr, tc.want)
			}
		})
	}
}

func TestBuildHelpTeaches(t *testing.T) {
	out, _, code := runPlanCLI(t, "", "build", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Examples:", "--source llama.cpp=", "_EXPERIMENTAL_DAGGER_RUNNER_HOST", "--export", "--jobs"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// writeTree writes files (path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// buildSpec is the spec `haloforge build ARGS` hands to the executor,
// computed by the build command's own code from its parsed flags.
func buildSpec(t *testing.T, args ...string) images.Spec {
	t.Helper()
	o := &buildOpts{}
	c := buildCommand(o)
	if err := c.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	spec, err := o.spec(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestPlanKeysEqualBuildKeys: for a source override (a real directory with
// .git and a build directory, which neither the digest nor the executor's
// tree holds), `haloforge plan --keys` prints the cache keys the build
// executes and labels its images with.
func TestPlanKeysEqualBuildKeys(t *testing.T) {
	repo := repoRoot(t)
	src := t.TempDir()
	writeTree(t, src, map[string]string{
		"CMakeLists.txt":        "project(llama)\n",
		"ggml/src/ggml.c":       "int ggml;\n",
		".git/HEAD":             "ref: refs/heads/master\n",
		"build/CMakeCache.txt":  "CMAKE_BUILD_TYPE=Release\n",
		"vendor/x/.git/config":  "[core]\n",
		"tools/build/script.sh": "echo nested build dirs are source\n",
	})
	args := []string{"--profile", "smoke", "--source", "llama.cpp=" + src}
	keysText, stderr, code := runPlanCLI(t, repo, append([]string{"plan", "--keys"}, args...)...)
	if code != 0 {
		t.Fatalf("plan --keys: exit %d: %s", code, stderr)
	}
	planKeys := map[string]string{}
	for _, line := range strings.Split(keysText, "\n") {
		if key, id, ok := strings.Cut(line, "  "); ok && !strings.HasPrefix(line, "#") {
			planKeys[id] = key
		}
	}
	spec := buildSpec(t, args...)
	if len(spec.Components) == 0 || len(planKeys) != len(spec.Components)+1 {
		t.Fatalf("plan has %d keys, build %d components:\n%s", len(planKeys), len(spec.Components), keysText)
	}
	overridden := 0
	for _, c := range spec.Components {
		if planKeys[c.Key()] != c.CacheKey {
			t.Errorf("%s: plan key %q, build key %q", c.Key(), planKeys[c.Key()], c.CacheKey)
		}
		if strings.HasPrefix(c.Source.URL, "local:") {
			overridden++
		}
	}
	if overridden == 0 {
		t.Fatal("the build spec does not build llama.cpp from the override")
	}
	for _, im := range spec.Images {
		key := im.Labels["io.haloforge.cache-key"]
		if key == "" || !slices.Contains(slices.Collect(maps.Values(planKeys)), key) {
			t.Errorf("image %s carries cache key %q, not one of the plan's", im.Name, key)
		}
	}

	// What the executor leaves out (.git, build/) does not move the keys;
	// a source change does, in plan and build alike.
	writeTree(t, src, map[string]string{"build/CMakeCache.txt": "CMAKE_BUILD_TYPE=Debug\n", ".git/HEAD": "x\n"})
	if again := buildSpec(t, args...); again.Components[0].CacheKey != spec.Components[0].CacheKey {
		t.Error("a change under build/ or .git/ moved the build key")
	}
	writeTree(t, src, map[string]string{"ggml/src/ggml.c": "int ggml = 1;\n"})
	moved := buildSpec(t, args...)
	keys2, _, _ := runPlanCLI(t, repo, append([]string{"plan", "--keys"}, args...)...)
	if moved.Components[0].CacheKey == spec.Components[0].CacheKey || !strings.Contains(keys2, moved.Components[0].CacheKey) {
		t.Errorf("a source change did not move plan and build keys together:\n%s", keys2)
	}
}
