package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/recipes"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// TestPlanCachedFrom: runner A exports its smoke plan's keys, runner B plans
// llama.cpp against them: base, cpu and vulkan are served, the ROCm steps
// are to build; --json gives the same marks as data.
func TestPlanCachedFrom(t *testing.T) {
	repo := repoRoot(t)
	keys, _, code := runPlanCLI(t, repo, "plan", "--profile", "smoke", "--keys", "--lock", "stack.lock")
	if code != 0 || strings.Count(keys, "\n") != 4 {
		t.Fatalf("plan --keys: exit %d\n%s", code, keys)
	}
	kf := filepath.Join(t.TempDir(), "strix1.keys")
	if err := os.WriteFile(kf, []byte(keys), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := runPlanCLI(t, repo, "plan", "--only", "llama.cpp", "--lock", "stack.lock", "--cached-from", kf)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"1. llama.cpp/cpu          b5600             key b2a17069eee5  [shared cache]",
		"5. llama.cpp/hip          b5600             key a6a3e8cc3ec8  [to build]",
		"serves 3 of 8 steps (base included), 5 to build",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	js, _, code := runPlanCLI(t, repo, "plan", "--only", "llama.cpp", "--lock", "stack.lock", "--cached-from", kf, "--json")
	var rep struct {
		Served  int      `json:"served"`
		ToBuild []string `json:"to_build"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil || code != 0 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, js)
	}
	if rep.Served != 3 || strings.Join(rep.ToBuild, " ") != "llama.cpp/hip-distro therock/default llama.cpp/hip rocwmma/default llama.cpp/hip-rocwmma" {
		t.Errorf("--json marks: %+v", rep)
	}
	_, errOut, code := runPlanCLI(t, repo, "plan", "--lock", "stack.lock", "--cached-from", filepath.Join(t.TempDir(), "missing.keys"))
	if code != 2 || !strings.Contains(errOut, "--cached-from") {
		t.Errorf("missing file: exit %d, %s", code, errOut)
	}
}

// TestPlanCachedFromDocker: an image carrying a step's cache-key label on the
// real Docker daemon marks that step served.
func TestPlanCachedFromDocker(t *testing.T) {
	dockerReachable(t)
	repo := repoRoot(t)
	js, _, code := runPlanCLI(t, repo, "plan", "--only", "llama.cpp", "--variant", "hip-rocwmma", "--lock", "stack.lock", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var plan struct {
		Steps []struct{ ID, Key string } `json:"steps"`
	}
	if err := json.Unmarshal([]byte(js), &plan); err != nil {
		t.Fatal(err)
	}
	var key string
	for _, s := range plan.Steps {
		if s.ID == "rocwmma/default" {
			key = s.Key
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	var empty bytes.Buffer
	_ = tar.NewWriter(&empty).Close()
	ref := "hf-fleetdb-cachetest:" + key[:12]
	res, err := c.ImageImport(ctx, client.ImageImportSource{Source: &empty, SourceName: "-"}, ref,
		client.ImageImportOptions{Changes: []string{"LABEL io.haloforge.cache-key=" + key}})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res)
	_ = res.Close()
	t.Cleanup(func() { _, _ = c.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true}) })

	out, _, code := runPlanCLI(t, repo, "plan", "--only", "llama.cpp", "--variant", "hip-rocwmma", "--lock", "stack.lock", "--cached-from", "docker")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, "key "+key[:12]+"  (dependency)  [shared cache]") || !strings.Contains(out, "by key from docker") {
		t.Errorf("rocwmma not marked from the labelled image:\n%s", out)
	}
}

// TestPlanCachedFromDockerExported: the runtime images build --export loads
// (exact reference, alias, the step's cache-key label) for a smoke plan with
// a --source override serve their steps; the base, which no exported image
// carries, is still to build: "serves 2 of 3".
func TestPlanCachedFromDockerExported(t *testing.T) {
	dockerReachable(t)
	repo := repoRoot(t)
	src := t.TempDir()
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	if err := os.WriteFile(filepath.Join(src, "CMakeLists.txt"), []byte("# "+hex.EncodeToString(nonce)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"plan", "--profile", "smoke", "--lock", "stack.lock", "--source", "llama.cpp=" + src}
	js, _, code := runPlanCLI(t, repo, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var plan struct {
		Base  struct{ Image string } `json:"base"`
		Steps []struct {
			ID, Key string
			Runtime struct{ Image string } `json:"runtime"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(js), &plan); err != nil || len(plan.Steps) != 2 {
		t.Fatalf("plan: %v, %d steps", err, len(plan.Steps))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	for _, st := range plan.Steps {
		if _, ok := recipes.ParseImageRef(st.Runtime.Image); !ok || !strings.HasSuffix(st.Runtime.Image, st.Key[:12]) {
			t.Fatalf("step %s: runtime image %q is not named by the rule", st.ID, st.Runtime.Image)
		}
		var empty bytes.Buffer
		_ = tar.NewWriter(&empty).Close()
		res, err := c.ImageImport(ctx, client.ImageImportSource{Source: &empty, SourceName: "-"}, st.Runtime.Image,
			client.ImageImportOptions{Changes: []string{"LABEL io.haloforge.cache-key=" + st.Key}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res)
		_ = res.Close()
		ref := st.Runtime.Image
		t.Cleanup(func() { _, _ = c.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true}) })
	}
	// The base counts as served when this daemon holds it under its plan
	// reference (haloforge image base tags it so).
	served, tagged := "serves 2 of 3 steps (base included), 1 to build", 2
	if _, err := c.ImageInspect(ctx, plan.Base.Image); err == nil {
		served, tagged = "serves 3 of 3 steps (base included), 0 to build", 3
	}
	out, _, code := runPlanCLI(t, repo, append(args, "--cached-from", "docker")...)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"llama.cpp/cpu", "llama.cpp/vulkan", served} {
		if !strings.Contains(out, want) {
			t.Errorf("plan --cached-from docker lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "[shared cache]") != tagged {
		t.Errorf("want both llama.cpp steps served:\n%s", out)
	}
}
