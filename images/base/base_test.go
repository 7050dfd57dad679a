package base

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/dockertest"
)

func TestInputs(t *testing.T) {
	a := Sid("/cache", nil)
	b := a
	b.Suite = "trixie"
	c := a
	c.Include = []string{"ca-certificates", "curl"}
	if a.Inputs() == b.Inputs() || a.Inputs() == c.Inputs() {
		t.Error("inputs digest ignores the suite or the included packages")
	}
	d := a
	d.CacheDir, d.Log = "/elsewhere", &strings.Builder{}
	if a.Inputs() != d.Inputs() {
		t.Error("inputs digest depends on where the tarball is cached")
	}
	if got := a.Tarball(); filepath.Dir(got) != "/cache" || !strings.Contains(got, "rootfs-sid-minbase-"+a.Inputs()[:12]) {
		t.Errorf("tarball %s", got)
	}
}

// TestEnsureExisting: the base image scripts/test.sh built is found by its
// inputs label; nothing is debootstrapped (the cache directory stays empty).
func TestEnsureExisting(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, "haloforge/base:sid")
	dir := t.TempDir()
	id, err := Sid(dir, nil).Ensure(context.Background(), dc)
	if err != nil {
		t.Fatal(err)
	}
	img, err := dc.ImageInspect(context.Background(), "haloforge/base:sid")
	if err != nil || img.ID != id {
		t.Fatalf("id %s, image %s %v", id, img.ID, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
		t.Errorf("Ensure of an existing base wrote %v", m)
	}
}
