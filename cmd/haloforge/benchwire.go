package main

import (
	"context"
	"os"
	"strconv"
	"strings"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/models"
	"github.com/haloforge/haloforge/bench/runner"
)

// Seams between bench and the packages of other parts of haloforge. Each
// returns what exists today; the lead wires bench/gguf, bench/memory and
// bench/host here as they land.

// tinyWriter generates tiny GGUF models for suites that ask for them.
func tinyWriter() models.TinyWriter { return nil }

// memorySampler returns a factory of per-case memory samplers, or nil
// (memory peaks then stay "not available").
func memorySampler() func() runner.MemorySampler { return nil }

// gatherHost records minimal host provenance: hostname, kernel, CPU,
// memory, kernel command line and the Docker version.
func gatherHost(ctx context.Context, d *client.Client) bench.HostFacts {
	var h bench.HostFacts
	h.Hostname, _ = os.Hostname()
	h.Kernel = readTrim("/proc/sys/kernel/osrelease")
	h.KernelCmdline = readTrim("/proc/cmdline")
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				h.MemTotalMiB = kb / 1024
			}
		}
	}
	if v, err := d.ServerVersion(ctx, client.ServerVersionOptions{}); err == nil {
		h.DockerVersion = v.Version
	}
	return h
}

func readTrim(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
