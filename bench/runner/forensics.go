package runner

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/kernlog"
	"github.com/haloforge/haloforge/bench/suite"
)

// KmsgLog is the kernel log at path ("" for $HALOFORGE_KMSG, else /dev/kmsg).
type KmsgLog struct{ Path string }

// Watch starts following the log at its end.
func (k KmsgLog) Watch() (KernelWatch, error) {
	w, err := kernlog.Log{Path: k.Path}.Watch()
	if err != nil {
		return nil, err
	}
	return w, nil
}

// watchKernel starts following the kernel log for a case; a log that
// cannot be read is noted once per run and the case goes on without it.
func (r *Runner) watchKernel(res *bench.CaseResult) KernelWatch {
	if r.KernelLog == nil {
		return nil
	}
	w, err := r.KernelLog.Watch()
	if err != nil {
		if !r.kernelNoted {
			r.kernelNoted = true
			res.Notes = append(res.Notes, fmt.Sprintf("no GPU fault forensics: %v", err))
		}
		return nil
	}
	return w
}

// readKernel keeps the kernel's lines about the GPU and the OOM killer
// with the case, and what they report.
func (r *Runner) readKernel(w KernelWatch, res *bench.CaseResult) {
	lines, err := w.Lines()
	if err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("kernel log: %v", err))
	}
	faults, matched := kernlog.Classify(lines)
	res.Kernel = matched
	for _, f := range faults {
		res.Faults = append(res.Faults, string(f))
	}
	if len(faults) > 0 && res.Status != bench.StatusOK {
		res.Error = fmt.Sprintf("%s (kernel: %s)", res.Error, kernlog.Label(faults))
	}
}

// HostProber checks the GPU answers with a host command (sh -c), e.g.
// "rocminfo >/dev/null" or "amd-smi static", under a one-minute limit.
type HostProber struct{ Command string }

// Probe runs the command.
func (p HostProber) Probe(ctx context.Context, c suite.Case) (string, error) {
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(pctx, "sh", "-c", p.Command).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("GPU probe %q: %v: %s", p.Command, err, tail(out))
	}
	return fmt.Sprintf("GPU probe before %s: %q answered", c.ID, p.Command), nil
}

// recover runs the recovery command (sh -c, ten-minute limit) and says how
// it went.
func (r *Runner) recover(ctx context.Context) string {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(rctx, "sh", "-c", r.GPURecovery).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("recovery command failed: %v: %s", err, tail(out))
	}
	return fmt.Sprintf("recovery command finished: %s", tail(out))
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = "..." + s[len(s)-300:]
	}
	if s == "" {
		return "no output"
	}
	return s
}
