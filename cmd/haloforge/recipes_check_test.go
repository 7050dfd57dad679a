package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/mirror"
	"github.com/haloforge/haloforge/recipes/check"
)

// runRecipesCheck runs a fresh `recipes check` command and returns stdout
// and the exit code main would use.
func runRecipesCheck(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	c := newRecipesCmd()
	var out, errb bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&errb)
	c.SilenceUsage, c.SilenceErrors = true, true
	c.SetArgs(append([]string{"check"}, args...))
	code := 0
	if err := c.Execute(); err != nil {
		errb.WriteString(err.Error())
		code = exitCode(err)
	}
	return out.String(), errb.String(), code
}

func TestRecipesCheckNeedsMirror(t *testing.T) {
	t.Setenv(mirror.EnvVar, "")
	_, stderr, code := runRecipesCheck(t, "--recipes", "../../recipes")
	if code != 2 || !strings.Contains(stderr, "no mirror: pass --mirror DIR or set HALOFORGE_MIRROR") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runRecipesCheck(t, "--recipes", "../../recipes", "--mirror", t.TempDir(), "--only", "nope")
	if code != 2 || !strings.Contains(stderr, `--only: no component "nope"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestRecipesCheckCLI runs the command on the real upstreams in
// $HALOFORGE_MIRROR: the pinned llama.cpp recipe passes (JSON), a copy with
// a renamed option exits 1 naming it.
func TestRecipesCheckCLI(t *testing.T) {
	m, ok := mirror.FromEnv("")
	if !ok {
		t.Skip("HALOFORGE_MIRROR is not set: this test needs a mirror holding llama.cpp (see `make recipes-check`)")
	}
	if _, err := m.Repo("https://github.com/ggml-org/llama.cpp.git"); err != nil {
		t.Skipf("%v", err)
	}
	stdout, stderr, code := runRecipesCheck(t, "--recipes", "../../recipes", "--only", "llama.cpp", "--json")
	var rep check.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 {
		t.Fatalf("exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	if len(rep.Components) != 1 || rep.Components[0].Status != "checked" || rep.Count(check.Error) != 0 {
		t.Errorf("report %+v", rep)
	}

	dir := t.TempDir()
	files, _ := filepath.Glob("../../recipes/components/*.yaml")
	for _, f := range append([]string{"base.yaml"}, files...) {
		f = strings.TrimPrefix(f, "../../recipes/")
		data, err := os.ReadFile(filepath.Join("../../recipes", f))
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("-DLLAMA_CURL=OFF"), []byte("-DLLAMA_CURLL=OFF"))
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code = runRecipesCheck(t, "--recipes", dir)
	if code != 1 || !strings.Contains(stdout, "llama.cpp: error: variant cpu: -DLLAMA_CURLL is not declared at the pin") ||
		!strings.Contains(stdout, "fix: closest match is LLAMA_CURL (option CMakeLists.txt:85)") || !strings.Contains(stderr, "recipes check: 4 error(s)") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
