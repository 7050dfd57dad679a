package main

import (
	"context"
	"encoding/json"

	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/host"
	"github.com/haloforge/haloforge/bench/kernlog"
	"github.com/haloforge/haloforge/bench/runner"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func init() { addCommand(newDoctorCmd()) }

// mobyDocker adapts the Docker Engine API client to host.Docker.
type mobyDocker struct{ c *client.Client }

var _ host.Docker = mobyDocker{}

// newDockerClient connects as the docker CLI would (DOCKER_HOST etc.); the
// client negotiates the API version with the daemon (1.41 and newer).
func newDockerClient() (*client.Client, error) {
	return client.New(client.FromEnv)
}

func (m mobyDocker) ServerVersion(ctx context.Context) (host.DockerInfo, error) {
	v, err := m.c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return host.DockerInfo{}, err
	}
	return host.DockerInfo{Version: v.Version, APIVersion: v.APIVersion}, nil
}

func (m mobyDocker) ImageID(ctx context.Context, ref string) (string, bool, error) {
	res, err := m.c.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return res.ID, true, nil
}

func newDoctorCmd() *cobra.Command {
	var (
		jsonOut bool
		root    string
		images  []string
	)
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Check that this host is ready to benchmark (GPU, devices, kernel, firmware, Docker)",
		Long: `doctor checks the things that make Strix Halo benchmarks fail or drift:

  gpu             the GPU in the KFD topology (gfx1151 expected) and its name
  /dev/kfd, /dev/dri/renderD*   present and openable read-write
  groups          membership of the host's video and render groups
  kernel          warns below 6.18.4 on gfx1151
  linux-firmware  the installed version; 20251125 is known to break ROCm
  ttm/gtt         ttm.pages_limit / amdgpu.gttsize (models live in GTT)
  amd_iommu       recorded (it changes memory bandwidth)
  docker          the daemon is reachable, its version; images present

Each check prints pass, warn or fail with a fix. The exit status is 0 when
nothing failed (warnings allowed) and 1 otherwise. The same facts are stored
with every run as host provenance.

Examples:
  haloforge doctor
  haloforge doctor --json > host.json
  haloforge doctor --image haloforge/llama.cpp:vulkan`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			opts := host.Options{Root: root, Images: images}
			dc, err := newDockerClient()
			if err == nil {
				defer func() { _ = dc.Close() }()
				opts.Docker = mobyDocker{dc}
			} else {
				_, _ = fmt.Fprintln(cmd.ErrOrStderr(), "haloforge: docker client:", err)
			}
			facts, checks := host.Gather(ctx, opts)
			checks = append(checks, kernelLogCheck())
			if dc != nil {
				checks = append(checks, orphanChecks(ctx, dc)...)
			}
			if err := printDoctor(cmd.OutOrStdout(), facts, checks, jsonOut); err != nil {
				return err
			}
			if host.Failed(checks) {
				n := 0
				for _, c := range checks {
					if c.Status == host.StatusFail {
						n++
					}
				}
				return &exitError{code: 1, err: fmt.Errorf("doctor: %d check(s) failed; see the fixes above", n)}
			}
			return nil
		},
	}
	f := c.Flags()
	f.BoolVar(&jsonOut, "json", false, "print facts and checks as JSON")
	f.StringVar(&root, "root", "/", "filesystem root to inspect (for testing against a copied tree)")
	f.StringArrayVar(&images, "image", nil, "image that must be present (repeatable)")
	return c
}

func printDoctor(w io.Writer, facts bench.HostFacts, checks []host.Check, jsonOut bool) error {
	if jsonOut {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(struct {
			Facts  bench.HostFacts `json:"facts"`
			Checks []host.Check    `json:"checks"`
			OK     bool            `json:"ok"`
		}{facts, checks, !host.Failed(checks)})
	}
	for _, c := range checks {
		if _, err := fmt.Fprintf(w, "%-4s  %-20s %s\n", strings.ToUpper(string(c.Status)), c.Name, c.Detail); err != nil {
			return err
		}
		if c.Fix != "" {
			if _, err := fmt.Fprintf(w, "      %-20s fix: %s\n", "", c.Fix); err != nil {
				return err
			}
		}
	}
	return nil
}

// orphanChecks reaps case containers of dead runs of this home and warns
// about any other haloforge container no live run owns: either keeps
// running past its time limit and disturbs measurements.
func orphanChecks(ctx context.Context, d runner.Docker) []host.Check {
	orphans, err := runner.ReapOrphans(ctx, d, bench.Home())
	if err != nil {
		return []host.Check{{Name: "orphans", Status: host.StatusWarn, Detail: err.Error()}}
	}
	if len(orphans) == 0 {
		return []host.Check{{Name: "orphans", Status: host.StatusPass, Detail: "no case containers left by dead runs"}}
	}
	var out []host.Check
	for _, o := range orphans {
		c := host.Check{Name: "orphans", Status: host.StatusWarn, Detail: o.String()}
		if !o.Reaped {
			c.Fix = "docker rm -f " + o.Name
		}
		out = append(out, c)
	}
	return out
}

// kernelLogCheck says whether bench can read the kernel log for GPU fault
// forensics (amdgpu ring timeouts, resets, page faults, OOM kills).
func kernelLogCheck() host.Check {
	w, err := kernlog.Log{}.Watch()
	if err != nil {
		return host.Check{Name: "kernel log", Status: host.StatusWarn, Detail: err.Error() + ": GPU faults will not be classified",
			Fix: "run haloforge bench as root or with CAP_SYSLOG, or sysctl kernel.dmesg_restrict=0"}
	}
	w.Close()
	return host.Check{Name: "kernel log", Status: host.StatusPass, Detail: kernlog.Path() + " readable: GPU hangs, resets, page faults and OOM kills are recorded with each case"}
}
