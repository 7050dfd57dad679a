// Package dockertest gates tests that need the real Docker daemon, the smoke
// runtime image or a tiny model: they skip with a clear message when the
// thing is missing, unless HALOFORGE_REQUIRE_DOCKER=1, when they fail.
package dockertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
)

// Required reports whether missing Docker prerequisites fail tests.
func Required() bool { return os.Getenv("HALOFORGE_REQUIRE_DOCKER") == "1" }

func missing(t testing.TB, format string, a ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("HALOFORGE_REQUIRE_DOCKER=1 but "+format, a...)
	}
	t.Skipf(format+" (set HALOFORGE_REQUIRE_DOCKER=1 to make this a failure)", a...)
}

// Client returns a client of the real daemon.
func Client(t testing.TB) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(client.FromEnv)
	if err == nil {
		_, err = c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	}
	if err != nil {
		missing(t, "no Docker daemon reachable: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Image requires an image to exist.
func Image(t testing.TB, c *client.Client, ref string) {
	t.Helper()
	if _, err := c.ImageInspect(context.Background(), ref); err != nil {
		missing(t, "image %s missing (%v): build it with haloforge image smoke", ref, err)
	}
}

// TinyModel returns a tiny llama GGUF: $HALOFORGE_TEST_MODEL, else the
// q4_0 tiny model in the model cache (haloforge model tiny, or a smoke run,
// puts it there).
func TinyModel(t testing.TB) string {
	t.Helper()
	p := os.Getenv("HALOFORGE_TEST_MODEL")
	if p == "" {
		p = filepath.Join(bench.ModelDir(bench.Home()), "tiny", "tiny-q4_0.gguf")
	}
	if _, err := os.Stat(p); err != nil {
		missing(t, "tiny model %s missing: run haloforge model tiny (or scripts/smoke.sh), or set HALOFORGE_TEST_MODEL", p)
	}
	return p
}
