package gguf

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/images/runtime"
)

// testImage is an image with Debian sid's llama.cpp-tools (llama-bench): the
// smoke runtime image that scripts/test.sh builds, unless HALOFORGE_TEST_IMAGE
// names another.
func testImage() string {
	if s := os.Getenv("HALOFORGE_TEST_IMAGE"); s != "" {
		return s
	}
	return runtime.SmokeRef
}

// needDocker skips (or, with HALOFORGE_REQUIRE_DOCKER=1, fails) when the
// docker CLI, the daemon or the image is missing.
func needDocker(t *testing.T, image string) {
	t.Helper()
	skip := func(why string) {
		if os.Getenv("HALOFORGE_REQUIRE_DOCKER") == "1" {
			t.Fatalf("HALOFORGE_REQUIRE_DOCKER=1 but %s", why)
		}
		t.Skip("skipping: " + why + " (set HALOFORGE_REQUIRE_DOCKER=1 to make this an error)")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		skip("no docker CLI")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.APIVersion}}").CombinedOutput(); err != nil {
		skip("docker daemon not reachable: " + strings.TrimSpace(string(out)))
	}
	if out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", image).CombinedOutput(); err != nil {
		skip("image " + image + " not present (build it with `haloforge image smoke`, or set HALOFORGE_TEST_IMAGE to an image with Debian sid's llama.cpp-tools): " + strings.TrimSpace(string(out)))
	}
}

// TestLlamaBenchLoadsTinyModels runs the real llama-bench on the three tiny
// model types and checks that it loads them with the shape we wrote.
func TestLlamaBenchLoadsTinyModels(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping container test in -short mode")
	}
	image := testImage()
	needDocker(t, image)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []TensorType{F16, Q8_0, Q4_0} {
		t.Run(typ.String(), func(t *testing.T) {
			name := "tiny-" + strings.ToLower(typ.String()) + ".gguf"
			path := filepath.Join(dir, name)
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := WriteTiny(f, TinyOptions{Type: typ, Seed: 42}); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			info, err := InspectFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none",
				"--name", fmt.Sprintf("hf-parsers-test-%s-%d-%d", strings.ToLower(typ.String()), os.Getpid(), time.Now().UnixNano()),
				"-v", dir+":/m:ro", image,
				"llama-bench", "-m", "/m/"+name, "-p", "64", "-n", "16", "-r", "1", "-o", "json")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("llama-bench failed: %v\n%s", err, stderr.String())
			}
			recs, err := llamabench.ParseBytes(out, llamabench.FormatJSON, "llama-bench "+name)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 || recs[0].Label() != "pp64" || recs[1].Label() != "tg16" {
				t.Fatalf("got %d records", len(recs))
			}
			var tensorBytes uint64
			for _, ti := range info.Tensors {
				tensorBytes += ti.Size
			}
			for _, r := range recs {
				t.Logf("%s %s: %.2f ± %.2f t/s (model_size %d, params %d)", r.ModelType, r.Label(), r.AvgTS, r.StddevTS, r.ModelSize, r.ModelNParams)
				if !strings.HasSuffix(r.ModelType, " "+typ.String()) {
					t.Errorf("model_type %q, want the %s file type", r.ModelType, typ)
				}
				if uint64(r.ModelNParams) != info.NParams || uint64(r.ModelSize) != tensorBytes {
					t.Errorf("llama-bench sees %d params / %d bytes, we wrote %d / %d", r.ModelNParams, r.ModelSize, info.NParams, tensorBytes)
				}
				if r.AvgTS <= 0 {
					t.Errorf("t/s %v", r.AvgTS)
				}
			}
		})
	}
}
