package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench/host"
	"github.com/haloforge/haloforge/bench/host/hosttest"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// resetFlags restores every flag to its default: commands are built once
// at init, so flag values would otherwise leak from one run to the next.
func resetFlags(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			_ = sv.Replace(nil)
		} else {
			_ = f.Value.Set(f.DefValue)
		}
		f.Changed = false
	})
	for _, sub := range c.Commands() {
		resetFlags(sub)
	}
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	resetFlags(root)
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func dockerReachable(t *testing.T) {
	t.Helper()
	c, err := newDockerClient()
	if err == nil {
		defer func() { _ = c.Close() }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err = (mobyDocker{c}).ServerVersion(ctx); err == nil {
			return
		}
	}
	if os.Getenv("HALOFORGE_REQUIRE_DOCKER") == "1" {
		t.Fatalf("HALOFORGE_REQUIRE_DOCKER=1 but Docker is not reachable: %v", err)
	}
	t.Skipf("skipping: Docker not reachable (%v); set HALOFORGE_REQUIRE_DOCKER=1 to make this an error", err)
}

// TestDoctorFakedStrixHalo: every check passes on a faked Strix Halo tree
// with this machine's real Docker daemon, and the exit status is 0.
func TestDoctorFakedStrixHalo(t *testing.T) {
	dockerReachable(t)
	root := t.TempDir()
	if err := hosttest.StrixHalo(root); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "doctor", "--root", root, "--json")
	if err != nil {
		t.Fatalf("doctor failed on a healthy tree: %v\n%s", err, out)
	}
	var res struct {
		Checks []host.Check `json:"checks"`
		OK     bool         `json:"ok"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if !res.OK || len(res.Checks) < 8 {
		t.Errorf("ok=%v with %d checks:\n%s", res.OK, len(res.Checks), out)
	}
	for _, c := range res.Checks {
		if c.Name == "docker" && (c.Status != host.StatusPass || !strings.Contains(c.Detail, "API 1.")) {
			t.Errorf("docker check: %+v", c)
		}
	}
}

// TestDoctorThisMachine: on this machine (no AMD GPU) doctor fails with
// fixes and exit status 1.
func TestDoctorThisMachine(t *testing.T) {
	if _, err := os.Stat("/dev/kfd"); err == nil {
		t.Skip("this machine has /dev/kfd")
	}
	out, err := runCLI(t, "doctor")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("want exit status 1, got %v\n%s", err, out)
	}
	if !strings.Contains(out, "FAIL  /dev/kfd") || !strings.Contains(out, "fix: ") {
		t.Errorf("output lacks the failing device check and its fix:\n%s", out)
	}
}

// TestDoctorDockerUnreachable points the client at a socket with no daemon:
// the docker check fails with how to start it.
func TestDoctorDockerUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/no-docker.sock")
	root := t.TempDir()
	if err := hosttest.StrixHalo(root); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "doctor", "--root", root)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("want exit status 1, got %v\n%s", err, out)
	}
	if !strings.Contains(out, "FAIL  docker") || !strings.Contains(out, "systemctl start docker") {
		t.Errorf("output:\n%s", out)
	}
}
