package host

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench/host/hosttest"
)

// cliDocker reaches the real daemon through the docker CLI (tests only:
// the package itself imports no Docker code and the CLI passes a moby client).
type cliDocker struct{}

var _ Docker = cliDocker{}

func (cliDocker) ServerVersion(ctx context.Context) (DockerInfo, error) {
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}").CombinedOutput()
	if err != nil {
		return DockerInfo{}, fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return DockerInfo{}, fmt.Errorf("unexpected docker version output %q", out)
	}
	return DockerInfo{Version: f[0], APIVersion: f[1]}, nil
}

func (cliDocker) ImageID(ctx context.Context, ref string) (string, bool, error) {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", ref).CombinedOutput()
	if err != nil {
		if strings.Contains(strings.ToLower(string(out)), "no such image") {
			return "", false, nil
		}
		return "", false, fmt.Errorf("%v: %s", err, out)
	}
	return strings.TrimSpace(string(out)), true, nil
}

func dockerOrSkip(t *testing.T) Docker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := exec.LookPath("docker"); err == nil {
		if _, err := (cliDocker{}).ServerVersion(ctx); err == nil {
			return cliDocker{}
		}
	}
	if os.Getenv("HALOFORGE_REQUIRE_DOCKER") == "1" {
		t.Fatal("HALOFORGE_REQUIRE_DOCKER=1 but no docker daemon is reachable")
	}
	t.Skip("skipping: no docker daemon reachable (set HALOFORGE_REQUIRE_DOCKER=1 to make this an error)")
	return nil
}

func strixHalo(t *testing.T, root string) {
	t.Helper()
	if err := hosttest.StrixHalo(root); err != nil {
		t.Fatal(err)
	}
}

func byName(checks []Check) map[string]Check {
	m := map[string]Check{}
	for _, c := range checks {
		m[c.Name] = c
	}
	return m
}

func TestGfxName(t *testing.T) {
	for v, want := range map[int]string{110501: "gfx1151", 110000: "gfx1100", 90010: "gfx90a", 90402: "gfx942", 0: ""} {
		if got := GfxName(v); got != want {
			t.Errorf("GfxName(%d) = %q, want %q", v, got, want)
		}
	}
}

// TestStrixHalo is the pass path on a faked Strix Halo tree, with the real
// Docker daemon of this machine.
func TestStrixHalo(t *testing.T) {
	docker := dockerOrSkip(t)
	root := t.TempDir()
	strixHalo(t, root)
	facts, checks := Gather(context.Background(), Options{
		Root: root, Docker: docker, Images: []string{"hf-parsers-no-such-image:1"},
		UID: func() int { return 1000 }, Groups: func() ([]int, error) { return []int{1000, 44, 992}, nil },
	})
	for _, c := range checks {
		t.Logf("%-5s %-22s %s", c.Status, c.Name, c.Detail)
	}
	m := byName(checks)
	for _, name := range []string{"gpu", "/dev/kfd", "/dev/dri/renderD128", "groups", "kernel", "linux-firmware", "ttm/gtt", "amd_iommu", "docker"} {
		c, ok := m[name]
		if !ok {
			t.Errorf("no %q check", name)
			continue
		}
		st := c.Status
		if (name == "/dev/kfd" || name == "/dev/dri/renderD128") && st == StatusWarn && os.Geteuid() != 0 {
			continue // could not mknod without root
		}
		if st != StatusPass {
			t.Errorf("%s: %s %s (fix: %s)", name, st, c.Detail, c.Fix)
		}
	}
	if c := m["image hf-parsers-no-such-image:1"]; c.Status != StatusWarn || c.Fix == "" {
		t.Errorf("missing image: %+v", c)
	}
	if Failed(checks) {
		t.Error("Failed() on a healthy host")
	}
	want := []string{"gfx1151 (AMD Radeon 8060S Graphics)"}
	if fmt.Sprint(facts.GPUs) != fmt.Sprint(want) || facts.Kernel != "6.18.4-amd64" || facts.Firmware != "firmware-amd-graphics 20250808-1" ||
		facts.Extra["render_gid"] != "992" || facts.Extra["amd_iommu"] != "off" || facts.Extra["gtt_limit_mib"] != "122880" || facts.DockerVersion == "" {
		b, _ := json.MarshalIndent(facts, "", "  ")
		t.Errorf("facts:\n%s", b)
	}
}

// TestProblems changes one thing at a time on the faked tree.
func TestProblems(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(root string)
		uid    int
		groups []int
		check  string
		status Status
		detail string
		fix    string
	}{
		{"old kernel", func(r string) { write(r, "proc/sys/kernel/osrelease", "6.14.0-15-generic") }, 0, nil, "kernel", StatusWarn, "older than 6.18.4", "install a kernel"},
		{"bad firmware", func(r string) {
			write(r, "var/lib/dpkg/status", "Package: linux-firmware\nStatus: install ok installed\nVersion: 20251125.git1a2b-0ubuntu1\n\n")
		}, 0, nil, "linux-firmware", StatusFail, "20251125", "other than 20251125"},
		{"firmware unknown", func(r string) { _ = os.Remove(filepath.Join(r, "var/lib/dpkg/status")) }, 0, nil, "linux-firmware", StatusWarn, "version is unknown", "package manager"},
		{"not in render group", nil, 1000, []int{1000, 44}, "groups", StatusFail, "render (gid 992)", "usermod -aG render,video"},
		{"no kfd", func(r string) { _ = os.Remove(filepath.Join(r, "dev/kfd")) }, 0, nil, "/dev/kfd", StatusFail, "does not exist", "modprobe amdgpu"},
		{"no render node", func(r string) { _ = os.Remove(filepath.Join(r, "dev/dri/renderD128")) }, 0, nil, "/dev/dri", StatusFail, "no renderD* node", "modprobe amdgpu"},
		{"deprecated gttsize", func(r string) { write(r, "proc/cmdline", "ro amdgpu.gttsize=120000") }, 0, nil, "ttm/gtt", StatusWarn, "amdgpu.gttsize=120000", "deprecated"},
		{"small gtt", func(r string) { write(r, "sys/module/ttm/parameters/pages_limit", "16384000") }, 0, nil, "ttm/gtt", StatusWarn, "62.5 GiB GTT", "ttm.pages_limit="},
		{"other gpu", func(r string) {
			write(r, "sys/class/kfd/kfd/topology/nodes/1/properties", "gfx_target_version 110000\ndevice_id 29772\n")
		}, 0, nil, "gpu", StatusWarn, "gfx1100", "--target"},
		{"no gpu", func(r string) { _ = os.RemoveAll(filepath.Join(r, "sys/class/kfd")) }, 0, nil, "gpu", StatusFail, "no GPU", "amdgpu"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			strixHalo(t, root)
			if tc.mutate != nil {
				tc.mutate(root)
			}
			groups := tc.groups
			_, checks := Gather(context.Background(), Options{Root: root, UID: func() int { return tc.uid }, Groups: func() ([]int, error) { return groups, nil }})
			c, ok := byName(checks)[tc.check]
			if !ok {
				t.Fatalf("no %q check", tc.check)
			}
			t.Logf("%s %s: %s | fix: %s", c.Status, c.Name, c.Detail, c.Fix)
			if c.Status != tc.status || !strings.Contains(c.Detail, tc.detail) || !strings.Contains(c.Fix, tc.fix) {
				t.Errorf("got %+v, want %s with %q and fix %q", c, tc.status, tc.detail, tc.fix)
			}
			if tc.status == StatusFail && !Failed(checks) {
				t.Error("Failed() = false")
			}
		})
	}
}

func write(root, rel, content string) {
	_ = os.WriteFile(filepath.Join(root, rel), []byte(content+"\n"), 0o644)
}

// TestThisMachine runs against the real / of this machine (no AMD GPU): the
// GPU and device checks fail with fix hints, and nothing panics.
func TestThisMachine(t *testing.T) {
	if _, err := os.Stat("/sys/class/kfd"); err == nil {
		t.Skip("this machine has a KFD GPU; the no-GPU path is covered by TestProblems")
	}
	facts, checks := Gather(context.Background(), Options{})
	m := byName(checks)
	for _, name := range []string{"gpu", "/dev/kfd"} {
		if c := m[name]; c.Status != StatusFail || c.Fix == "" {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if facts.Kernel == "" || facts.MemTotalMiB == 0 {
		t.Errorf("facts: %+v", facts)
	}
	if !Failed(checks) {
		t.Error("Failed() = false without a GPU")
	}
}
