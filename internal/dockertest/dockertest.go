// Package dockertest gates tests that need the real Docker daemon or the
// smoke runtime image: they skip with a clear message when it is missing,
// unless HALOFORGE_REQUIRE_DOCKER=1, when they fail. It also makes the tiny
// model those tests bench.
package dockertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench/gguf"
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

// TinyModel writes a tiny random-weight q4_0 llama GGUF (bench/gguf's
// TinyMaker, seed 0: the bytes the model cache generates) into a temporary
// directory and returns its path.
func TinyModel(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tiny-q4_0.gguf")
	if err := (gguf.TinyMaker{}).WriteTiny(p, "q4_0"); err != nil {
		t.Fatal(err)
	}
	return p
}
