package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench/runner"
)

// Where the Dagger engine is: the dagger CLI that dagger.Connect runs reads
// _EXPERIMENTAL_DAGGER_RUNNER_HOST. haloforge build --engine (or
// $HALOFORGE_ENGINE) sets it, so several runners can share one remote
// engine and its cache (docs/shared-engine.md).
const (
	runnerHostEnv = "_EXPERIMENTAL_DAGGER_RUNNER_HOST"
	engineEnv     = "HALOFORGE_ENGINE"
)

// engineSchemes are the runner-host schemes of the pinned Dagger (v0.20):
// the buildkit connection helpers plus docker-image for a local engine.
var engineSchemes = []string{"tcp", "unix", "ssh", "docker-container", "docker-image", "podman-container", "kube-pod"}

// resolveEngine picks the engine address: --engine, else $HALOFORGE_ENGINE,
// else whatever _EXPERIMENTAL_DAGGER_RUNNER_HOST already says ("" lets the
// dagger CLI start its own local engine). It checks the form so a typo is a
// one-line error rather than a hang.
func resolveEngine(flag string, getenv func(string) string) (addr, from string, err error) {
	switch {
	case flag != "":
		addr, from = flag, "--engine"
	case getenv(engineEnv) != "":
		addr, from = getenv(engineEnv), "$"+engineEnv
	default:
		return getenv(runnerHostEnv), "$" + runnerHostEnv, nil
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

// checkEngine fails fast when a tcp:// or unix:// engine does not answer:
// the dagger CLI would otherwise retry for minutes before giving up.
func checkEngine(addr string, timeout time.Duration) error {
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
	c, err := runner.Connect(ctx)
	if err != nil {
		return nil // no client or no answer: left to the dagger CLI
	}
	defer func() { _ = c.Close() }()
	res, err := c.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	switch {
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("no Dagger engine container %q on %s: start one (ci/nightly.sh engine, docs/shared-engine.md) or fix --engine", name, dockerHostName())
	case err != nil:
		return nil
	case res.Container.State == nil || !res.Container.State.Running:
		return fmt.Errorf("the Dagger engine container %q on %s is not running: docker start %s", name, dockerHostName(), name)
	}
	return nil
}

// useEngine points the dagger CLI at addr for this process and its children.
func useEngine(addr string) error {
	if addr == "" {
		return nil
	}
	return os.Setenv(runnerHostEnv, addr)
}
