// Package base makes haloforge's base image without any registry: a Debian
// root filesystem from debootstrap, cached as a tarball, imported into the
// Docker daemon through the Engine API (ImageImport). The image carries the
// digest of its inputs as a label, so Ensure is idempotent: it does nothing
// when an image with the same inputs exists.
package base

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// Labels on haloforge images.
const (
	LabelInputs  = "io.haloforge.inputs"
	LabelCreated = "org.opencontainers.image.created"
	LabelTitle   = "org.opencontainers.image.title"
	LabelSuite   = "io.haloforge.debian.suite"
	LabelMirror  = "io.haloforge.debian.mirror"
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
	// CacheDir holds the rootfs tarballs (one per inputs digest).
	CacheDir string
	// Log receives progress lines; may be nil.
	Log io.Writer
}

// Sid is the base of the smoke runtime image.
func Sid(cacheDir string, log io.Writer) Spec {
	return Spec{
		Ref: "haloforge/base:sid", Suite: "sid", Mirror: "http://deb.debian.org/debian",
		Variant: "minbase", Include: []string{"ca-certificates"}, CacheDir: cacheDir, Log: log,
	}
}

// Inputs is the digest of everything that determines the image.
func (s Spec) Inputs() string {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "base/v1\n%s\n%s\n%s\n%s\n", s.Suite, s.Mirror, s.Variant, strings.Join(s.Include, ","))
	return hex.EncodeToString(h.Sum(nil))
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
