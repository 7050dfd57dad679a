package images

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"dagger.io/dagger"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/recipes"
)

// Where the Dagger engine is: the dagger CLI that dagger.Connect runs reads
// _EXPERIMENTAL_DAGGER_RUNNER_HOST. haloforge build --engine (or
// $HALOFORGE_ENGINE) sets it, so several runners can share one remote
// engine and its cache (docs/shared-engine.md).
const (
	RunnerHostEnv = "_EXPERIMENTAL_DAGGER_RUNNER_HOST"
	EngineEnv     = "HALOFORGE_ENGINE"
)

// engineSchemes are the runner-host schemes of the pinned Dagger (v0.20):
// the buildkit connection helpers plus docker-image for a local engine.
var engineSchemes = []string{"tcp", "unix", "ssh", "docker-container", "docker-image", "podman-container", "kube-pod"}

// ResolveEngine picks the engine address: --engine, else $HALOFORGE_ENGINE,
// else whatever _EXPERIMENTAL_DAGGER_RUNNER_HOST already says ("" lets the
// dagger CLI start its own local engine). It checks the form so a typo is a
// one-line error rather than a hang.
func ResolveEngine(flag string, getenv func(string) string) (addr, from string, err error) {
	switch {
	case flag != "":
		addr, from = flag, "--engine"
	case getenv(EngineEnv) != "":
		addr, from = getenv(EngineEnv), "$"+EngineEnv
	default:
		return getenv(RunnerHostEnv), "$" + RunnerHostEnv, nil
	}
	addr = strings.TrimSpace(addr)
	u, perr := url.Parse(addr)
	if perr != nil || u.Scheme == "" || !strings.Contains(addr, "://") {
		return "", from, fmt.Errorf("%s %q: want SCHEME://TARGET, e.g. tcp://build-host.lab:1234, ssh://runner@build-host.lab or docker-container://haloforge-dagger-engine (see docs/shared-engine.md)", from, addr)
	}
	if !slices.Contains(engineSchemes, u.Scheme) {
		return "", from, fmt.Errorf("%s %q: unknown scheme %q; the pinned dagger (v0.20.0) connects with %s:// (see docs/shared-engine.md)", from, addr, u.Scheme, strings.Join(engineSchemes, "://, "))
	}
	target := strings.TrimPrefix(addr, u.Scheme+"://")
	if target == "" || target == "/" {
		return "", from, fmt.Errorf("%s %q: no host, socket or container after %s://", from, addr, u.Scheme)
	}
	if u.Scheme == "tcp" && u.Port() == "" {
		return "", from, fmt.Errorf("%s %q: tcp:// needs a port, e.g. tcp://%s:1234", from, addr, u.Hostname())
	}
	return addr, from, nil
}

// CheckEngine fails fast when a tcp:// or unix:// engine does not answer:
// the dagger CLI would otherwise retry for minutes before giving up.
func CheckEngine(addr string, timeout time.Duration) error {
	u, err := url.Parse(addr)
	if err != nil {
		return nil
	}
	var network, target string
	switch u.Scheme {
	case "tcp":
		network, target = "tcp", u.Host
	case "unix":
		network, target = "unix", strings.TrimPrefix(addr, "unix://")
	case "docker-container":
		return checkEngineContainer(strings.TrimPrefix(addr, "docker-container://"), timeout)
	default:
		return nil // ssh, kube-pod, ...: their helpers report errors themselves
	}
	c, err := net.DialTimeout(network, target, timeout)
	if err != nil {
		return fmt.Errorf("the Dagger engine %s does not answer (%w): start it (docs/shared-engine.md), check the address and firewall, or leave --engine out for a local engine", addr, err)
	}
	return c.Close()
}

// checkEngineContainer checks that the engine container exists and runs on
// the Docker daemon the dagger CLI will use ($DOCKER_HOST). Daemons this
// client cannot reach itself (ssh://) are left to the dagger CLI.
func checkEngineContainer(name string, timeout time.Duration) error {
	if strings.HasPrefix(os.Getenv("DOCKER_HOST"), "ssh://") {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := client.New(client.FromEnv)
	if err != nil {
		return nil // no client: left to the dagger CLI
	}
	defer func() { _ = c.Close() }()
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return nil // no answer: left to the dagger CLI
	}
	res, err := c.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	switch {
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("no Dagger engine container %q on %s: start one (ci/nightly.sh engine, docs/shared-engine.md) or fix --engine", name, DockerHostName())
	case err != nil:
		return nil
	case res.Container.State == nil || !res.Container.State.Running:
		return fmt.Errorf("the Dagger engine container %q on %s is not running: docker start %s", name, DockerHostName(), name)
	}
	return nil
}

// UseEngine points the dagger CLI at addr for this process and its children.
func UseEngine(addr string) error {
	if addr == "" {
		return nil
	}
	return os.Setenv(RunnerHostEnv, addr)
}

// DockerHostName names the Docker daemon the environment points at.
func DockerHostName() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "(local daemon)"
}

// Connect opens a Dagger session on the engine flag (or the environment)
// names, after checking that it answers, streaming the engine's progress
// to log. It returns the engine address and where it came from ("" for
// a local engine the dagger CLI starts).
func Connect(ctx context.Context, flag string, log io.Writer) (*dagger.Client, string, error) {
	engine, from, err := ResolveEngine(flag, os.Getenv)
	if err != nil {
		return nil, "", err
	}
	if err := CheckEngine(engine, 10*time.Second); err != nil {
		return nil, "", err
	}
	if err := UseEngine(engine); err != nil {
		return nil, "", err
	}
	c, err := dagger.Connect(ctx, dagger.WithLogOutput(log))
	if err != nil {
		return nil, "", fmt.Errorf("connect to the Dagger engine: %w (install the dagger CLI v0.20.0 or set _EXPERIMENTAL_DAGGER_CLI_BIN, and point --engine or _EXPERIMENTAL_DAGGER_RUNNER_HOST at a running engine)", err)
	}
	if engine == "" {
		return c, "", nil
	}
	return c, engine + " (from " + from + ")", nil
}

// DockerCacheKeys adds the cache-key labels and tags of the images on the
// Docker daemon the environment names to set (plan --cached-from docker).
func DockerCacheKeys(ctx context.Context, set *recipes.CacheSet) error {
	d, err := client.New(client.FromEnv)
	if err != nil {
		return fmt.Errorf("--cached-from docker: docker client: %w", err)
	}
	defer func() { _ = d.Close() }()
	if _, err := d.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return fmt.Errorf("--cached-from docker: the Docker daemon %s does not answer (%w): start it or set DOCKER_HOST", DockerHostName(), err)
	}
	list, err := d.ImageList(ctx, client.ImageListOptions{})
	if err != nil {
		return fmt.Errorf("--cached-from docker: list images: %w", err)
	}
	name := "docker " + DockerHostName()
	for _, im := range list.Items {
		// The same forms a listing file may hold, parsed the same way.
		var lines []string
		if k := im.Labels[recipes.CacheKeyLabel]; k != "" {
			lines = append(lines, k)
		}
		for _, t := range im.RepoTags {
			if !strings.HasPrefix(t, "<none>") {
				lines = append(lines, t)
			}
		}
		for _, l := range lines {
			// Images unrelated to haloforge may carry odd tags: skip what is
			// neither a key nor a reference rather than fail.
			_ = recipes.ParseCacheKeys(name, []byte(l), set)
		}
	}
	return nil
}
