// Package kernlog reads the kernel log while a case runs and classifies
// what it says about the GPU and memory: a ring timeout or MES that stops
// answering (hang), a GPU reset, a GPU page fault, or the OOM killer.
//
// The log is /dev/kmsg (one record per read, "PRI,SEQ,TS_USEC,FLAGS;text",
// see the kernel's Documentation/ABI/testing/dev-kmsg), or a file in its
// place ($HALOFORGE_KMSG) holding either that format or dmesg/journal text,
// read through the same code. Reading /dev/kmsg needs CAP_SYSLOG when
// kernel.dmesg_restrict=1 (root, or sysctl kernel.dmesg_restrict=0).
package kernlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultPath is the kernel's log device.
const DefaultPath = "/dev/kmsg"

// Path is the kernel log to read: $HALOFORGE_KMSG, else /dev/kmsg.
func Path() string {
	if p := os.Getenv("HALOFORGE_KMSG"); p != "" {
		return p
	}
	return DefaultPath
}

// Log is a kernel log source.
type Log struct{ Path string }

// Watch opens the log positioned at its end: Lines returns what the kernel
// logs from now on.
func (l Log) Watch() (*Watch, error) {
	p := l.Path
	if p == "" {
		p = Path()
	}
	// A raw non-blocking descriptor, not an *os.File: Go's poller would
	// make a read at the end of /dev/kmsg wait for the next record
	// instead of returning EAGAIN.
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		hint := ""
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			hint = ": reading the kernel log needs root or CAP_SYSLOG (or sysctl kernel.dmesg_restrict=0)"
		}
		return nil, fmt.Errorf("kernel log %s: %w%s", p, err, hint)
	}
	if _, err := unix.Seek(fd, 0, io.SeekEnd); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("kernel log %s: %w", p, err)
	}
	return &Watch{fd: fd}, nil
}

// Watch reads a kernel log from a position on.
type Watch struct {
	fd   int
	rest []byte // an incomplete last line of a file
}

// MaxLines bounds the lines one Lines call returns (the last ones kept).
const MaxLines = 400

// Lines returns the log's messages since Watch or the previous call, each
// as "[seconds] text" when the record has a timestamp.
func (w *Watch) Lines() ([]string, error) {
	var out []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if err == nil && n == 0 {
			err = io.EOF
		}
		if n > 0 {
			data := append(w.rest, buf[:n]...)
			i := strings.LastIndexByte(string(data), '\n')
			if i < 0 {
				w.rest = data
			} else {
				for _, l := range strings.Split(string(data[:i]), "\n") {
					if m, ok := parse(l); ok {
						out = append(out, m)
					}
				}
				w.rest = append([]byte(nil), data[i+1:]...)
			}
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, io.EOF), errors.Is(err, unix.EAGAIN):
			if len(out) > MaxLines {
				out = out[len(out)-MaxLines:]
			}
			return out, nil
		case errors.Is(err, unix.EPIPE):
			// /dev/kmsg: records were overwritten before we read them.
			out = append(out, "(kernel log records lost: the ring buffer wrapped)")
		default:
			return out, err
		}
	}
}

// Close closes the log.
func (w *Watch) Close() { _ = unix.Close(w.fd) }

var kmsgRE = regexp.MustCompile(`^(\d+),(\d+),(\d+),[^;]*;(.*)$`)

// parse turns one line into a message: a /dev/kmsg record's text with its
// timestamp, or a text line as it is. Continuation lines of /dev/kmsg
// (" KEY=value") and blank lines are dropped.
func parse(l string) (string, bool) {
	l = strings.TrimRight(l, "\r")
	if strings.TrimSpace(l) == "" || strings.HasPrefix(l, " ") {
		return "", false
	}
	if m := kmsgRE.FindStringSubmatch(l); m != nil {
		var us int64
		_, _ = fmt.Sscan(m[3], &us)
		return fmt.Sprintf("[%6d.%06d] %s", us/1e6, us%1e6, m[4]), true
	}
	return l, true
}

// Fault is a class of kernel-reported failure.
type Fault string

// Faults, as stored with a case.
const (
	Hang      Fault = "gpu-hang"       // ring timeout, MES not answering
	Reset     Fault = "gpu-reset"      // the driver reset the GPU or a ring
	PageFault Fault = "gpu-page-fault" // a GPU VM page fault
	OOMKill   Fault = "oom-kill"       // the kernel's OOM killer killed a process
)

// Patterns of amdgpu and the OOM killer's messages, as they appear in
// drivers/gpu/drm/amd/amdgpu (amdgpu_job.c amdgpu_job_timedout, mes_v11_0.c,
// amdgpu_device.c amdgpu_device_gpu_recover, gmc_v11_0.c) and mm/oom_kill.c.
var patterns = []struct {
	f  Fault
	re *regexp.Regexp
}{
	{Hang, regexp.MustCompile(`ring \S+ timeout|MES failed to respond|MES might be in unrecoverable state|\*ERROR\* .*timed? ?out|Fence fallback timer expired`)},
	{Reset, regexp.MustCompile(`GPU reset begin|GPU reset\(\d+\) succeeded|GPU reset succeeded|MODE[12] reset|BACO reset|Ring \S+ reset (succeeded|failed)|Starting \S+ ring reset|GPU recovery|VRAM is lost`)},
	{PageFault, regexp.MustCompile(`\[(gfx|mm)hub\d*\] (no-retry |retry )?page fault|VM_L2_PROTECTION_FAULT_STATUS|Memory access fault by GPU`)},
	{OOMKill, regexp.MustCompile(`Out of memory: Killed process|oom-kill:|invoked oom-killer|Memory cgroup out of memory`)},
}

// Classify returns the faults the lines report (in a fixed order) and the
// lines that report them.
func Classify(lines []string) (faults []Fault, matched []string) {
	for _, l := range lines {
		hit := false
		for _, p := range patterns {
			if p.re.MatchString(l) {
				hit = true
				if !slices.Contains(faults, p.f) {
					faults = append(faults, p.f)
				}
			}
		}
		if hit || relevant(l) {
			matched = append(matched, l)
		}
	}
	slices.SortFunc(faults, func(a, b Fault) int { return order(a) - order(b) })
	return faults, matched
}

// relevant keeps other amdgpu, drm, kfd and OOM context lines with a case.
func relevant(l string) bool {
	for _, k := range []string{"amdgpu", "[drm", "kfd", "oom", "Killed process"} {
		if strings.Contains(l, k) {
			return true
		}
	}
	return false
}

func order(f Fault) int {
	switch f {
	case Reset:
		return 0
	case PageFault:
		return 1
	case Hang:
		return 2
	}
	return 3
}

// Label is how tables show a case's failure: the most telling fault.
func Label(faults []Fault) string {
	if len(faults) == 0 {
		return ""
	}
	switch faults[0] {
	case Reset:
		return "GPU Reset"
	case PageFault:
		return "GPU Page Fault"
	case Hang:
		return "GPU Hang"
	default:
		return "OOM Kill"
	}
}
