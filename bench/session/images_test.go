package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
	"github.com/haloforge/haloforge/recipes"
)

// stackFor plans the checkout's recipes and stack.lock like bench does,
// with a llama.cpp source override when src is set.
func stackFor(t *testing.T, src string) func(profile string) (*StackImages, error) {
	t.Helper()
	return func(profile string) (*StackImages, error) {
		req := recipes.Request{Recipes: "../../recipes", Lock: "../../stack.lock", Target: "gfx1151",
			Selection: recipes.Selection{Profile: profile}}
		if src != "" {
			req.Sources = []recipes.SourceDir{{Component: "llama.cpp", Dir: src}}
		}
		p, in, err := recipes.PlanFor(req, io.Discard)
		if err != nil {
			return nil, err
		}
		return &StackImages{Plan: p, Lock: in.Lock, LockFile: in.LockFile, Profile: profile,
			Commands: func(images []string) (string, string) { return recipes.BuildCommands(req, images, "trixie.tar") }}, nil
	}
}

func loadCases(t *testing.T, name string) (*suite.Suite, []suite.Case) {
	t.Helper()
	s, err := suite.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.Expand(suite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, cases
}

// TestResolveImages: the smoke-stack suite's aliases become the exact
// references of the smoke plan; --image replaces a backend's image; other
// references run as named; bad overrides and targets are refused.
func TestResolveImages(t *testing.T) {
	stack := stackFor(t, "")
	st, err := stack("smoke")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, im := range st.Plan.Images() {
		want[im.Alias] = im.Ref
	}
	if len(want) != 2 {
		t.Fatalf("smoke plan images: %v", want)
	}
	s, cases := loadCases(t, "smoke-stack")
	got, how, err := ResolveImages(s, cases, "gfx1151", nil, stack)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range got {
		alias := cases[i].Image
		if c.Image != want[alias] || !strings.HasPrefix(c.Image, alias+"-") {
			t.Errorf("case %s: %s resolved to %s, want %s", c.ID, alias, c.Image, want[alias])
		}
		if r := how[c.Image]; r.Alias != alias || r.Image.Ref != c.Image || lockOf(how).Digest() != st.Lock.Digest() {
			t.Errorf("case %s: resolution %+v", c.ID, r)
		}
	}
	if cases[0].Image != "haloforge/llama-cpu:gfx1151" {
		t.Errorf("ResolveImages changed its input: %s", cases[0].Image)
	}

	// --image cpu=REF: cpu runs REF, vulkan still resolves.
	got, how, err = ResolveImages(s, cases, "gfx1151", map[string]string{"cpu": runtime.SmokeRef}, stack)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		switch c.Backend {
		case "cpu":
			if c.Image != runtime.SmokeRef || how[c.Image].Override != "cpu" {
				t.Errorf("cpu case %s runs %s (%+v)", c.ID, c.Image, how[c.Image])
			}
		case "vulkan":
			if c.Image != want["haloforge/llama-vulkan:gfx1151"] {
				t.Errorf("vulkan case %s runs %s", c.ID, c.Image)
			}
		}
	}

	// The smoke suite names no plan image: nothing is planned.
	smoke, scases := loadCases(t, "smoke")
	never := func(string) (*StackImages, error) { return nil, errors.New("planned") }
	got, _, err = ResolveImages(smoke, scases, "gfx1151", nil, never)
	if err != nil || got[0].Image != runtime.SmokeRef {
		t.Errorf("smoke suite: %v, %s", err, got[0].Image)
	}

	for _, tc := range []struct {
		name   string
		target string
		over   map[string]string
		stack  func(string) (*StackImages, error)
		want   string
	}{
		{"unknown backend", "gfx1151", map[string]string{"hip": "x:y"}, stack, `suite smoke-stack has no backend "hip"; its backends: cpu, vulkan`},
		{"empty ref", "gfx1151", map[string]string{"cpu": " "}, stack, "--image cpu=: give an image reference"},
		{"other target", "gfx1100", nil, stack, "an image for gfx1151, but this run is for --target gfx1100: pass --target gfx1151"},
		{"no plan", "gfx1151", nil, never, "which bench resolves through the build plan: planned"},
	} {
		_, _, err := ResolveImages(s, cases, tc.target, tc.over, tc.stack)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}

	// An alias the plan does not make (the smoke profile has no HIP image).
	odd := *s
	odd.Backends = map[string]suite.Backend{"cpu": {Image: "haloforge/llama-hip:gfx1151"}, "vulkan": s.Backends["vulkan"]}
	oc, err := odd.Expand(suite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ResolveImages(&odd, oc, "gfx1151", nil, stack)
	if err == nil || !strings.Contains(err.Error(), "haloforge/llama-hip:gfx1151 is not an image of the plan (target gfx1151, profile \"smoke\"; it makes haloforge/llama-cpu:gfx1151, haloforge/llama-vulkan:gfx1151)") {
		t.Errorf("alias outside the plan: %v", err)
	}
}

// TestEnsureResolvedImages runs against the real Docker daemon: the smoke
// image tagged under the exact reference the plan gives llama-cpu for a
// fresh source tree (so no real build has that reference) is found and
// recorded with its alias, id and labels; the missing llama-vulkan image
// stops bench with the commands that build it; --image runs another image.
func TestEnsureResolvedImages(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	ctx := context.Background()

	src := t.TempDir()
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	if err := os.WriteFile(filepath.Join(src, "CMakeLists.txt"), []byte("# "+hex.EncodeToString(nonce)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stack := stackFor(t, src)
	s, cases := loadCases(t, "smoke-stack")
	got, how, err := ResolveImages(s, cases, "gfx1151", nil, stack)
	if err != nil {
		t.Fatal(err)
	}
	var cpuRef, vkRef string
	for _, c := range got {
		switch c.Backend {
		case "cpu":
			cpuRef = c.Image
		case "vulkan":
			vkRef = c.Image
		}
	}
	if _, err := dc.ImageTag(ctx, client.ImageTagOptions{Source: runtime.SmokeRef, Target: cpuRef}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = dc.ImageRemove(context.Background(), cpuRef, client.ImageRemoveOptions{}) })
	smoke, err := dc.ImageInspect(ctx, runtime.SmokeRef)
	if err != nil {
		t.Fatal(err)
	}

	var cpuOnly []suite.Case
	for _, c := range got {
		if c.Backend == "cpu" {
			cpuOnly = append(cpuOnly, c)
		}
	}
	infos, err := EnsureImages(ctx, dc, t.TempDir(), cpuOnly, how, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	info := infos[cpuRef]
	if len(infos) != 1 || info.Ref != cpuRef || info.Alias != "haloforge/llama-cpu:gfx1151" || info.ID != smoke.ID || len(info.Labels) == 0 {
		t.Errorf("recorded %+v, want %s from alias haloforge/llama-cpu:gfx1151 with id %s and labels", info, cpuRef, smoke.ID)
	}

	_, err = EnsureImages(ctx, dc, t.TempDir(), got, how, true, io.Discard)
	var me *MissingImageError
	if !errors.As(err, &me) || len(me.Missing) != 1 || me.Missing[0].Ref != vkRef {
		t.Fatalf("missing vulkan image: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"image " + vkRef + " not found: the suite's haloforge/llama-vulkan:gfx1151 resolves through the plan (lock ../../stack.lock sha256:",
		"target gfx1151, profile smoke) to " + vkRef + " of step llama.cpp/vulkan",
		"haloforge build --target gfx1151 --lock ../../stack.lock --recipes ../../recipes --profile smoke --base-tarball trixie.tar --source llama.cpp=" + src + " --image llama-vulkan --export",
		"dagger call --base-tarball trixie.tar --lock ../../stack.lock --recipes ../../recipes with-source --component llama.cpp --dir " + src + " --path " + src + " build-stack --target gfx1151 --profile smoke export-images",
		"or run other images with --image BACKEND=REF",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing-image error lacks %q:\n%s", want, msg)
		}
	}

	// --image vulkan=the smoke image: nothing missing, vulkan recorded as named.
	got2, how2, err := ResolveImages(s, cases, "gfx1151", map[string]string{"vulkan": runtime.SmokeRef}, stack)
	if err != nil {
		t.Fatal(err)
	}
	infos, err = EnsureImages(ctx, dc, t.TempDir(), got2, how2, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if infos[runtime.SmokeRef].ID != smoke.ID || infos[runtime.SmokeRef].Alias != "" || infos[cpuRef].ID != smoke.ID {
		t.Errorf("with --image vulkan: %+v", infos)
	}

	// Both plan images missing (the cpu tag removed): one error names both
	// and one build line makes both.
	if _, err := dc.ImageRemove(ctx, cpuRef, client.ImageRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = EnsureImages(ctx, dc, t.TempDir(), got, how, true, io.Discard)
	if !errors.As(err, &me) || len(me.Missing) != 2 || !strings.Contains(err.Error(), "--image llama-cpu --image llama-vulkan --export") ||
		!strings.Contains(err.Error(), "image "+cpuRef+" not found") {
		t.Errorf("both missing: %v", err)
	}
	if _, err := dc.ImageTag(ctx, client.ImageTagOptions{Source: runtime.SmokeRef, Target: cpuRef}); err != nil {
		t.Fatal(err)
	}

	// An override that names a missing image says so.
	got3, how3, _ := ResolveImages(s, cases, "gfx1151", map[string]string{"cpu": "haloforge/absent-image-test:none", "vulkan": runtime.SmokeRef}, stack)
	_, err = EnsureImages(ctx, dc, t.TempDir(), got3, how3, true, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "image haloforge/absent-image-test:none (--image cpu=haloforge/absent-image-test:none) not found") {
		t.Errorf("missing override: %v", err)
	}
}
