// Package runtime makes the smoke runtime image from the debootstrap base
// through the Docker Engine API: a container from the base installs Debian
// sid's llama-bench (llama.cpp-tools), the ggml Vulkan backend, Mesa's
// Vulkan drivers (lavapipe) and ggml's RPC server and backend
// (llama.cpp-tools-extra, libggml0-backend-rpc), and is committed with OCI labels recording the
// package versions, llama-bench --version and the build date. Like the
// base, it is idempotent: an image whose inputs label matches is reused.
package runtime

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/images/base"
)

// Labels the runtime image carries besides base's.
const (
	LabelPackages   = "io.haloforge.packages"
	LabelLlamaBench = "io.haloforge.llama-bench.version"
	LabelBaseDigest = "org.opencontainers.image.base.digest"
	LabelBaseName   = "org.opencontainers.image.base.name"
)

// SmokeRef is the smoke suite's runtime image.
const SmokeRef = "haloforge/runtime-smoke:sid"

// SmokePackages are installed into the smoke image.
//
// llama.cpp-tools-extra ships ggml's RPC server (as
// /usr/libexec/<triplet>/llama/bin/ggml-rpc-server) and libggml0-backend-rpc
// the RPC backend both it and llama-bench --rpc load: the RPC suites' workers
// and main container run in this same image.
var SmokePackages = []string{"llama.cpp-tools", "libggml0-backend-vulkan", "mesa-vulkan-drivers", "llama.cpp-tools-extra", "libggml0-backend-rpc"}

// Docker is the part of the Engine API Ensure uses.
type Docker interface {
	base.Docker
	ContainerCreate(ctx context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerStart(ctx context.Context, id string, o client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerWait(ctx context.Context, id string, o client.ContainerWaitOptions) client.ContainerWaitResult
	ContainerLogs(ctx context.Context, id string, o client.ContainerLogsOptions) (client.ContainerLogsResult, error)
	ContainerRemove(ctx context.Context, id string, o client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	ContainerCommit(ctx context.Context, id string, o client.ContainerCommitOptions) (client.ContainerCommitResult, error)
}

var _ Docker = (*client.Client)(nil)

// Spec is a runtime image: a base plus Debian packages.
type Spec struct {
	Ref      string
	Base     base.Spec
	Packages []string
	// NamePrefix prefixes the build container's name (default "haloforge-build-").
	NamePrefix string
	Log        io.Writer // progress and apt output; may be nil
}

// Smoke is the smoke suite's runtime image spec.
func Smoke(cacheDir string, log io.Writer) Spec {
	return Spec{Ref: SmokeRef, Base: base.Sid(cacheDir, log), Packages: SmokePackages, Log: log}
}

const marker = "=== haloforge provenance ==="

// script installs the packages and prints provenance after a marker.
func (s Spec) script() string {
	pk := strings.Join(s.Packages, " ")
	apt := "apt-get"
	for _, o := range s.Base.AptOptions { // base.yaml apt_options of the base
		apt += " -o " + o
	}
	return strings.Join([]string{
		"set -e",
		"export DEBIAN_FRONTEND=noninteractive",
		apt + " update",
		apt + " install -y --no-install-recommends " + pk,
		"apt-get clean",
		"rm -rf /var/lib/apt/lists/*",
		"echo '" + marker + "'",
		// Installed versions of the requested packages and of every ggml/llama/mesa library they pulled in.
		`dpkg-query -W -f '${Package}=${Version}\n' ` + pk + ` $(dpkg-query -W -f '${Package}\n' | grep -E '^(libggml|libllama|libvulkan|mesa-)' )`,
		"echo '---'",
		"llama-bench --version 2>&1 | grep -E '^(version|built with)'",
	}, "\n")
}

// Inputs is the digest of the base inputs, the package list and the script.
func (s Spec) Inputs(baseID string) string {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "runtime/v1\n%s\n%s\n%s\n", baseID, strings.Join(s.Packages, ","), s.script())
	return hex.EncodeToString(h.Sum(nil))
}

func (s Spec) logf(format string, a ...any) {
	if s.Log != nil {
		_, _ = fmt.Fprintf(s.Log, format+"\n", a...)
	}
}

// Ensure builds the image unless an image with the same inputs exists, and
// returns its provenance.
func (s Spec) Ensure(ctx context.Context, d Docker) (bench.ImageInfo, error) {
	baseID, err := s.Base.Ensure(ctx, d)
	if err != nil {
		return bench.ImageInfo{}, err
	}
	want := s.Inputs(baseID)
	if img, err := d.ImageInspect(ctx, s.Ref); err == nil && img.Config != nil && img.Config.Labels[base.LabelInputs] == want {
		return bench.ImageInfo{Ref: s.Ref, ID: img.ID, Labels: img.Config.Labels}, nil
	}
	s.logf("runtime: building %s from %s (apt-get install %s)", s.Ref, s.Base.Ref, strings.Join(s.Packages, " "))
	start := time.Now()
	prefix := s.NamePrefix
	if prefix == "" {
		prefix = "haloforge-build-"
	}
	name := fmt.Sprintf("%s%d", prefix, time.Now().UnixNano())
	created, err := d.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:   name,
		Config: &container.Config{Image: baseID, Cmd: []string{"sh", "-c", s.script()}},
	})
	if err != nil {
		return bench.ImageInfo{}, fmt.Errorf("create build container: %w", err)
	}
	defer func() {
		_, _ = d.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
	}()
	wait := d.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if _, err := d.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return bench.ImageInfo{}, fmt.Errorf("start build container: %w", err)
	}
	// Follow the build's output for progress while it runs.
	var stdout, stderr bytes.Buffer
	logsDone := make(chan error, 1)
	go func() {
		rc, err := d.ContainerLogs(ctx, created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
		if err != nil {
			logsDone <- err
			return
		}
		defer func() { _ = rc.Close() }()
		var outW, errW io.Writer = &stdout, &stderr
		if s.Log != nil {
			outW = io.MultiWriter(&stdout, &prefixWriter{w: s.Log, prefix: "  | "})
			errW = io.MultiWriter(&stderr, &prefixWriter{w: s.Log, prefix: "  | "})
		}
		_, err = stdcopy.StdCopy(outW, errW, rc)
		logsDone <- err
	}()
	var code int64
	select {
	case w := <-wait.Result:
		code = w.StatusCode
	case err := <-wait.Error:
		return bench.ImageInfo{}, fmt.Errorf("wait for build container: %w", err)
	}
	select {
	case err := <-logsDone:
		if err != nil {
			s.logf("runtime: build output stream: %v", err)
		}
	case <-time.After(30 * time.Second):
	}
	if code != 0 {
		return bench.ImageInfo{}, fmt.Errorf("building %s failed (exit %d): %s (is the Debian archive reachable?)", s.Ref, code, base.LastLines(stderr.String()+stdout.String(), 5))
	}
	pkgs, llama, err := parseProvenance(stdout.String())
	if err != nil {
		return bench.ImageInfo{}, fmt.Errorf("building %s: %w", s.Ref, err)
	}
	labels := map[string]string{
		base.LabelInputs:  want,
		base.LabelCreated: time.Now().UTC().Format(time.RFC3339),
		base.LabelTitle:   strings.ReplaceAll(strings.SplitN(s.Ref, ":", 2)[0], "/", "-"),
		base.LabelSuite:   s.Base.Suite,
		LabelBaseName:     s.Base.Ref,
		LabelBaseDigest:   baseID,
		LabelPackages:     pkgs,
		LabelLlamaBench:   llama,
	}
	_, err = d.ContainerCommit(ctx, created.ID, client.ContainerCommitOptions{
		Reference: s.Ref,
		Comment:   "haloforge runtime: " + strings.Join(s.Packages, " "),
		Config: &container.Config{
			Labels: labels,
			Env:    []string{"LANG=C.UTF-8", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd:    []string{"bash"},
		},
	})
	if err != nil {
		return bench.ImageInfo{}, fmt.Errorf("commit %s: %w", s.Ref, err)
	}
	img, err := d.ImageInspect(ctx, s.Ref)
	if err != nil {
		return bench.ImageInfo{}, err
	}
	s.logf("runtime: %s built in %s (%s)", s.Ref, time.Since(start).Round(time.Second), llama)
	return bench.ImageInfo{Ref: s.Ref, ID: img.ID, Labels: img.Config.Labels}, nil
}

// parseProvenance reads the block the script prints after the marker:
// package=version lines, "---", then llama-bench --version lines.
func parseProvenance(out string) (pkgs, llama string, err error) {
	_, after, ok := strings.Cut(out, marker)
	if !ok {
		return "", "", fmt.Errorf("provenance block missing from the build output")
	}
	pk, ver, ok := strings.Cut(after, "---")
	if !ok {
		return "", "", fmt.Errorf("llama-bench version missing from the build output")
	}
	var list []string
	sc := bufio.NewScanner(strings.NewReader(pk))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.Contains(l, "=") {
			list = append(list, l)
		}
	}
	sort.Strings(list)
	llama = strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(ver), "\n", "; ")), " ")
	if len(list) == 0 || !strings.HasPrefix(llama, "version:") {
		return "", "", fmt.Errorf("provenance incomplete (packages %q, llama-bench %q)", list, llama)
	}
	return strings.Join(list, ","), llama, nil
}

type prefixWriter struct {
	w      io.Writer
	prefix string
	mid    bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !p.mid {
			_, _ = io.WriteString(p.w, p.prefix)
		}
		_, _ = p.w.Write(line)
		p.mid = line[len(line)-1] != '\n'
	}
	return len(b), nil
}
