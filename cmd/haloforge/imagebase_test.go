package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/images"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
)

// image base writes a docker-save tarball of the base image: here the
// debian-sid base, which the smoke image is built on (so the image exists
// and nothing is debootstrapped again).
func TestImageBaseWritesSaveTarball(t *testing.T) {
	if _, err := runCLI(t, "image", "base", "debian-nope", "-o", filepath.Join(t.TempDir(), "x.tar")); err == nil ||
		!strings.Contains(err.Error(), `no base "debian-nope"`) || !strings.Contains(err.Error(), "debian-trixie") {
		t.Errorf("unknown base: %v, want an error naming the known bases", err)
	}
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	t.Setenv("HALOFORGE_HOME", t.TempDir())
	out := filepath.Join(t.TempDir(), "sid.tar")
	got, err := runCLI(t, "image", "base", "debian-sid", "-o", out)
	if err != nil {
		t.Fatalf("image base: %v\n%s", err, got)
	}
	if !strings.Contains(got, "haloforge/base:sid") || !strings.Contains(got, "--base-tarball "+out) {
		t.Errorf("output does not name the image and how to use the file:\n%s", got)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	tr := tar.NewReader(f)
	var tags []string
	layers := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s is not a tar archive: %v", out, err)
		}
		if strings.HasSuffix(h.Name, "layer.tar") || strings.HasPrefix(h.Name, "blobs/") {
			layers++
		}
		if h.Name == "manifest.json" {
			var m []struct{ RepoTags []string }
			if err := json.NewDecoder(tr).Decode(&m); err != nil {
				t.Fatalf("manifest.json: %v", err)
			}
			for _, e := range m {
				tags = append(tags, e.RepoTags...)
			}
		}
	}
	if !slices.Contains(tags, "haloforge/base:sid") || layers == 0 {
		t.Errorf("%s: tags %v, %d layers; want a docker-save archive of haloforge/base:sid", out, tags, layers)
	}
	// The whole gfx1151 plan builds on debian-sid too: the tarball carries
	// its plan reference, the tag the executor imports it by.
	got, err = runCLI(t, "plan", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Bases []struct {
			Image string `json:"image"`
			Lock  struct {
				Name string `json:"name"`
			} `json:"lock"`
		} `json:"bases"`
	}
	if err := json.Unmarshal([]byte(got), &p); err != nil {
		t.Fatal(err)
	}
	sidRef := ""
	for _, b := range p.Bases {
		if b.Lock.Name == "debian-sid" {
			sidRef = b.Image
		}
	}
	if sidRef == "" || !slices.Contains(tags, sidRef) {
		t.Errorf("%s: tags %v, want the plan reference of debian-sid %q too", out, tags, sidRef)
	}
	ftags, err := images.TarballTags(out)
	if err != nil || !slices.Equal(ftags, tags) {
		t.Errorf("images.TarballTags = %v, %v; want %v", ftags, err, tags)
	}
}
