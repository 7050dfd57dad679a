package base

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
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

// TestSidFromBaseYAML: the smoke base is base.yaml's debian-sid, pin included.
func TestSidFromBaseYAML(t *testing.T) {
	s := Sid("/cache", nil)
	if s.err != nil {
		t.Fatal(s.err)
	}
	if s.Suite != "sid" || s.Snapshot != "20261030T080801Z" || s.ReleaseSHA256 != "5037551e459c8bb49f47a7102c6d836f2bf06c2bd7672e4fb67c2ed61ca7756f" {
		t.Errorf("smoke base = %+v", s)
	}
	o := s
	o.Snapshot = "20261101T000000Z"
	if o.Inputs() == s.Inputs() {
		t.Error("inputs digest ignores the archive pin")
	}
}

// TestVerifyRelease serves an InRelease over real HTTP: the pinned bytes
// pass, a moved archive fails naming the URL, both digests and the fix.
func TestVerifyRelease(t *testing.T) {
	body := []byte("Origin: Debian\nSuite: unstable\nDate: Fri, 30 Oct 2026 08:08:01 UTC\n")
	sum := sha256.Sum256(body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debian/dists/sid/InRelease" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	s := Spec{Suite: "sid", Mirror: srv.URL + "/debian", Snapshot: "20261030T080801Z", ReleaseSHA256: hex.EncodeToString(sum[:])}
	if err := s.VerifyRelease(context.Background()); err != nil {
		t.Fatalf("pinned archive rejected: %v", err)
	}
	moved := s
	moved.ReleaseSHA256 = strings.Repeat("0", 64)
	err := moved.VerifyRelease(context.Background())
	if err == nil || !strings.Contains(err.Error(), "/dists/sid/InRelease has sha256 "+hex.EncodeToString(sum[:])+", but recipes/base.yaml pins "+moved.ReleaseSHA256) ||
		!strings.Contains(err.Error(), "https://snapshot.debian.org/archive/debian/20261030T080801Z/") {
		t.Errorf("moved archive: %v", err)
	}
	gone := s
	gone.Suite = "trixie"
	if err := gone.VerifyRelease(context.Background()); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing suite: %v", err)
	}
}
