// Package base makes haloforge's base image without any registry: a Debian
// root filesystem from debootstrap, cached as a tarball, imported into the
// Docker daemon through the Engine API (ImageImport). The suite, mirror and
// archive pin come from recipes/base.yaml (the one base definition); before
// debootstrapping, the mirror's InRelease must have the pinned sha256. The
// image carries the digest of its inputs as a label, so Ensure is
// idempotent: it does nothing when an image with the same inputs exists.
package base

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/recipes"
)

// Labels on haloforge images.
const (
	LabelInputs  = "io.haloforge.inputs"
	LabelCreated = "org.opencontainers.image.created"
	LabelTitle   = "org.opencontainers.image.title"
	LabelSuite   = "io.haloforge.debian.suite"
	LabelMirror  = "io.haloforge.debian.mirror"
	// LabelSnapshot and LabelRelease record the archive pin.
	LabelSnapshot = "io.haloforge.debian.snapshot"
	LabelRelease  = "io.haloforge.base.release-sha256"
)

// Docker is the part of the Engine API Ensure uses.
type Docker interface {
	ImageInspect(ctx context.Context, ref string, o ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageImport(ctx context.Context, src client.ImageImportSource, ref string, o client.ImageImportOptions) (client.ImageImportResult, error)
}

var _ Docker = (*client.Client)(nil)

// Spec is a debootstrap base image.
type Spec struct {
	Ref     string   // image reference, e.g. haloforge/base:sid
	Suite   string   // Debian suite: sid, trixie, bookworm
	Mirror  string   // e.g. http://deb.debian.org/debian
	Variant string   // debootstrap --variant, e.g. minbase
	Include []string // extra packages (--include)
	// Snapshot and ReleaseSHA256 pin the archive state (recipes/base.yaml):
	// debootstrap refuses a mirror whose dists/<suite>/InRelease differs.
	Snapshot      string
	ReleaseSHA256 string
	// AptOptions are base.yaml's apt_options for apt-get on this base.
	AptOptions []string
	// CacheDir holds the rootfs tarballs (one per inputs digest).
	CacheDir string
	// Log receives progress lines; may be nil.
	Log io.Writer
	// err is a problem finding the definition in base.yaml, returned by Ensure.
	err error
}

// FromRecipes is the Spec of base b of recipes/base.yaml, as image ref.
func FromRecipes(b *recipes.Base, ref, cacheDir string, log io.Writer) Spec {
	return Spec{
		Ref: ref, Suite: b.Suite, Mirror: b.Mirror, Variant: b.Variant, Include: append([]string(nil), b.Include...),
		Snapshot: b.Snapshot, ReleaseSHA256: b.ReleaseSHA256, AptOptions: append([]string(nil), b.AptOptions...), CacheDir: cacheDir, Log: log,
	}
}

// SmokeBase names the base.yaml base of the smoke runtime image: Debian
// sid, the suite that packages llama.cpp 0.7 and the ggml backends.
const SmokeBase = "debian-sid"

// Sid is the base of the smoke runtime image: the debian-sid base of the
// built-in recipes/base.yaml.
func Sid(cacheDir string, log io.Writer) Spec {
	set, err := recipes.Default()
	if err == nil {
		if b, ok := set.BaseNamed(SmokeBase); ok {
			return FromRecipes(b, "haloforge/base:sid", cacheDir, log)
		}
		err = fmt.Errorf("recipes/base.yaml has no base %q", SmokeBase)
	}
	return Spec{Ref: "haloforge/base:sid", Suite: "sid", CacheDir: cacheDir, Log: log, err: err}
}

// Inputs is the digest of everything that determines the image.
func (s Spec) Inputs() string {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "base/v2\n%s\n%s\n%s\n%s\n%s\n%s\n", s.Suite, s.Mirror, s.Variant, strings.Join(s.Include, ","), s.Snapshot, s.ReleaseSHA256)
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyRelease checks the mirror still serves the pinned archive state:
// the sha256 of dists/<suite>/InRelease must be ReleaseSHA256.
func (s Spec) VerifyRelease(ctx context.Context) error {
	if s.ReleaseSHA256 == "" {
		return fmt.Errorf("base %s has no release_sha256 pin; set it in recipes/base.yaml", s.Suite)
	}
	url := strings.TrimRight(s.Mirror, "/") + "/dists/" + s.Suite + "/InRelease"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("check the archive pin: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("check the archive pin: GET %s: %s", url, resp.Status)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(resp.Body, 64<<20)); err != nil {
		return fmt.Errorf("check the archive pin: read %s: %w", url, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != s.ReleaseSHA256 {
		return fmt.Errorf("%s has sha256 %s, but recipes/base.yaml pins %s (snapshot %s): the mirror moved on; "+
			"use https://snapshot.debian.org/archive/debian/%s/ as the mirror, or update the pin and run `haloforge lock`",
			url, got, s.ReleaseSHA256, s.Snapshot, s.Snapshot)
	}
	return nil
}

func (s Spec) logf(format string, a ...any) {
	if s.Log != nil {
		_, _ = fmt.Fprintf(s.Log, format+"\n", a...)
	}
}

// Tarball is the cached rootfs tarball path.
func (s Spec) Tarball() string {
	return filepath.Join(s.CacheDir, fmt.Sprintf("rootfs-%s-%s-%s.tar", s.Suite, s.Variant, s.Inputs()[:12]))
}

// Ensure returns the image id of the base image, building it if no image
// with these inputs exists: debootstrap (unless the tarball is cached),
// then import.
func (s Spec) Ensure(ctx context.Context, d Docker) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	want := s.Inputs()
	if img, err := d.ImageInspect(ctx, s.Ref); err == nil && img.Config != nil && img.Config.Labels[LabelInputs] == want {
		return img.ID, nil
	}
	tar := s.Tarball()
	if _, err := os.Stat(tar); err != nil {
		if err := s.debootstrap(ctx, tar); err != nil {
			return "", err
		}
	} else {
		s.logf("base: using cached rootfs %s", tar)
	}
	f, err := os.Open(tar)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	s.logf("base: importing %s as %s", tar, s.Ref)
	changes := []string{
		"LABEL " + LabelInputs + "=" + want,
		"LABEL " + LabelCreated + "=" + time.Now().UTC().Format(time.RFC3339),
		"LABEL " + LabelTitle + "=haloforge-base-" + s.Suite,
		"LABEL " + LabelSuite + "=" + s.Suite,
		"LABEL " + LabelMirror + "=" + s.Mirror,
		"LABEL " + LabelSnapshot + "=" + s.Snapshot,
		"LABEL " + LabelRelease + "=" + s.ReleaseSHA256,
		"ENV LANG=C.UTF-8",
		"CMD [\"bash\"]",
	}
	rc, err := d.ImageImport(ctx, client.ImageImportSource{Source: f, SourceName: "-"}, s.Ref, client.ImageImportOptions{Changes: changes, Message: "haloforge debootstrap " + s.Suite})
	if err != nil {
		return "", fmt.Errorf("import base image %s: %w", s.Ref, err)
	}
	body, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		return "", fmt.Errorf("import base image %s: %w", s.Ref, err)
	}
	if strings.Contains(string(body), `"error"`) {
		return "", fmt.Errorf("import base image %s: %s", s.Ref, strings.TrimSpace(string(body)))
	}
	img, err := d.ImageInspect(ctx, s.Ref)
	if err != nil {
		return "", fmt.Errorf("base image %s missing after import: %w", s.Ref, err)
	}
	return img.ID, nil
}

// debootstrap builds the rootfs and packs it into tar (atomically).
func (s Spec) debootstrap(ctx context.Context, tar string) error {
	if err := s.VerifyRelease(ctx); err != nil {
		return err
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return errors.New("debootstrap not found: install it (apt-get install debootstrap, or run scripts/setup-host.sh)")
	}
	if os.Geteuid() != 0 {
		return errors.New("debootstrap needs root: run as root (or sudo) once; the rootfs tarball is cached afterwards")
	}
	if err := os.MkdirAll(s.CacheDir, 0o755); err != nil {
		return err
	}
	root, err := os.MkdirTemp(s.CacheDir, "rootfs-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(root) }()
	args := []string{"--variant=" + s.Variant}
	if len(s.Include) > 0 {
		args = append(args, "--include="+strings.Join(s.Include, ","))
	}
	args = append(args, s.Suite, root, s.Mirror)
	s.logf("base: debootstrap %s (about a minute)", strings.Join(args, " "))
	start := time.Now()
	cmd := exec.CommandContext(ctx, "debootstrap", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("debootstrap %s failed: %w: %s", s.Suite, err, LastLines(string(out), 5))
	}
	s.logf("base: debootstrap done in %s", time.Since(start).Round(time.Second))
	// Files of the build host that do not belong in an image.
	for _, p := range []string{"etc/hostname", "etc/resolv.conf"} {
		_ = os.Remove(filepath.Join(root, p))
	}
	_ = os.RemoveAll(filepath.Join(root, "var/cache/apt/archives"))
	_ = os.MkdirAll(filepath.Join(root, "var/cache/apt/archives/partial"), 0o755)
	part := tar + ".part"
	cmd = exec.CommandContext(ctx, "tar", "--numeric-owner", "--xattrs", "-C", root, "-cf", part, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(part)
		return fmt.Errorf("pack rootfs: %w: %s", err, LastLines(string(out), 5))
	}
	return os.Rename(part, tar)
}

// LastLines is the last n lines of a command's output, joined with " | " to
// fit in a one-line error message.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
