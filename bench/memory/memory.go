// Package memory samples GPU and system memory use during a benchmark case:
// VRAM and GTT from amdgpu's sysfs nodes (every card, summed), system RAM as
// MemTotal-MemAvailable from /proc/meminfo, and optionally the VRAM/GTT a
// process holds from its /proc/PID/fdinfo drm-memory-* lines. A Sampler
// takes a baseline when started and reports peaks as increases over it.
//
// A quantity that cannot be read on this host (no amdgpu card, no fdinfo
// support) is reported as nil, "not available", never as zero.
package memory

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/haloforge/haloforge/bench"
)

// DefaultInterval is the sampling period.
const DefaultInterval = 200 * time.Millisecond

// Reading is one sample, in bytes; nil fields were not readable.
type Reading struct {
	VRAM     *uint64 `json:"vram,omitempty"`
	GTT      *uint64 `json:"gtt,omitempty"`
	RAM      *uint64 `json:"ram,omitempty"`
	ProcVRAM *uint64 `json:"proc_vram,omitempty"`
	ProcGTT  *uint64 `json:"proc_gtt,omitempty"`
}

// Reader reads memory figures from a filesystem rooted at the host's "/"
// (os.DirFS("/") in production, a temporary tree in tests).
type Reader struct {
	FS fs.FS
	// PIDs, if set, lists the processes whose fdinfo drm-memory-* lines are
	// summed into ProcVRAM/ProcGTT (for example the case's container PID).
	PIDs func() []int
}

var reCard = regexp.MustCompile(`^card\d+$`)

// cardFiles lists mem_info_<kind>_used of every DRM card.
func (r *Reader) cardFiles(kind string) []string {
	ents, err := fs.ReadDir(r.FS, "sys/class/drm")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if reCard.MatchString(e.Name()) {
			out = append(out, "sys/class/drm/"+e.Name()+"/device/mem_info_"+kind+"_used")
		}
	}
	return out
}

// sumFiles sums integer files; nil when none could be read.
func (r *Reader) sumFiles(paths []string) *uint64 {
	var sum uint64
	ok := false
	for _, p := range paths {
		b, err := fs.ReadFile(r.FS, p)
		if err != nil {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			continue
		}
		sum += v
		ok = true
	}
	if !ok {
		return nil
	}
	return &sum
}

// RAM is MemTotal-MemAvailable from proc/meminfo, in bytes.
func (r *Reader) RAM() *uint64 {
	b, err := fs.ReadFile(r.FS, "proc/meminfo")
	if err != nil {
		return nil
	}
	var total, avail uint64
	var haveT, haveA bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "MemTotal:":
			total, haveT = v*1024, true
		case "MemAvailable:":
			avail, haveA = v*1024, true
		}
	}
	if !haveT || !haveA || avail > total {
		return nil
	}
	used := total - avail
	return &used
}

// fdinfo sums drm-memory-vram and drm-memory-gtt over the fds of pids,
// counting each DRM client (drm-client-id) once.
func (r *Reader) fdinfo(pids []int) (vram, gtt *uint64) {
	seen := map[string]bool{}
	var v, g uint64
	var okV, okG bool
	for _, pid := range pids {
		dir := fmt.Sprintf("proc/%d/fdinfo", pid)
		ents, err := fs.ReadDir(r.FS, dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			b, err := fs.ReadFile(r.FS, dir+"/"+e.Name())
			if err != nil || !bytes.Contains(b, []byte("drm-client-id:")) {
				continue
			}
			var client string
			var fv, fg uint64
			var hv, hg bool
			for _, line := range strings.Split(string(b), "\n") {
				k, val, ok := strings.Cut(line, ":")
				if !ok {
					continue
				}
				val = strings.TrimSpace(val)
				switch k {
				case "drm-client-id":
					client = val
				case "drm-memory-vram":
					fv, hv = kib(val)
				case "drm-memory-gtt":
					fg, hg = kib(val)
				}
			}
			if client == "" || seen[client] {
				continue
			}
			seen[client] = true
			if hv {
				v += fv
				okV = true
			}
			if hg {
				g += fg
				okG = true
			}
		}
	}
	if okV {
		vram = &v
	}
	if okG {
		gtt = &g
	}
	return vram, gtt
}

// kib parses "1234 KiB" (or MiB/GiB) to bytes.
func kib(s string) (uint64, bool) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return 0, false
	}
	mult := uint64(1)
	if len(f) > 1 {
		switch f[1] {
		case "KiB":
			mult = 1 << 10
		case "MiB":
			mult = 1 << 20
		case "GiB":
			mult = 1 << 30
		default:
			return 0, false
		}
	}
	return v * mult, true
}

// Read takes one sample.
func (r *Reader) Read() Reading {
	rd := Reading{
		VRAM: r.sumFiles(r.cardFiles("vram")),
		GTT:  r.sumFiles(r.cardFiles("gtt")),
		RAM:  r.RAM(),
	}
	if r.PIDs != nil {
		rd.ProcVRAM, rd.ProcGTT = r.fdinfo(r.PIDs())
	}
	return rd
}

// Sampler records peaks of a Reader's figures between Start and Stop.
type Sampler struct {
	Reader   *Reader
	Interval time.Duration // DefaultInterval when zero

	mu      sync.Mutex
	base    Reading
	peak    Reading
	samples int
	cancel  context.CancelFunc
	done    chan struct{}
	started bool
}

// New returns a sampler over the filesystem rooted at fsys.
func New(fsys fs.FS) *Sampler { return &Sampler{Reader: &Reader{FS: fsys}} }

func maxp(peak *uint64, v *uint64) *uint64 {
	if v == nil {
		return peak
	}
	if peak == nil || *v > *peak {
		x := *v
		return &x
	}
	return peak
}

func (s *Sampler) record(r Reading) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak.VRAM = maxp(s.peak.VRAM, r.VRAM)
	s.peak.GTT = maxp(s.peak.GTT, r.GTT)
	s.peak.RAM = maxp(s.peak.RAM, r.RAM)
	s.peak.ProcVRAM = maxp(s.peak.ProcVRAM, r.ProcVRAM)
	s.peak.ProcGTT = maxp(s.peak.ProcGTT, r.ProcGTT)
	s.samples++
}

// Start takes the baseline sample and samples every Interval until Stop.
func (s *Sampler) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return fmt.Errorf("memory sampler already started")
	}
	s.started = true
	s.peak, s.samples = Reading{}, 0
	s.mu.Unlock()
	base := s.Reader.Read()
	s.mu.Lock()
	s.base = base
	s.mu.Unlock()
	s.record(base)
	iv := s.Interval
	if iv <= 0 {
		iv = DefaultInterval
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(iv)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.record(s.Reader.Read())
			}
		}
	}()
	return nil
}

// Samples is how many samples were taken so far (baseline included).
func (s *Sampler) Samples() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// Stop takes a last sample, stops sampling and returns the peaks as MiB
// over the baseline. Figures unreadable at the baseline are nil.
func (s *Sampler) Stop() bench.MemoryPeaks {
	if !s.started {
		return bench.MemoryPeaks{}
	}
	s.cancel()
	<-s.done
	s.record(s.Reader.Read())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = false
	return bench.MemoryPeaks{
		VRAMMiB:     delta(s.base.VRAM, s.peak.VRAM),
		GTTMiB:      delta(s.base.GTT, s.peak.GTT),
		RAMMiB:      delta(s.base.RAM, s.peak.RAM),
		ProcVRAMMiB: procPeak(s.peak.ProcVRAM),
		ProcGTTMiB:  procPeak(s.peak.ProcGTT),
	}
}

// delta is peak-base in MiB; nil when the baseline was not readable (a
// figure that appears mid-case has no baseline to subtract from).
func delta(base, peak *uint64) *float64 {
	if base == nil || peak == nil {
		return nil
	}
	d := float64(*peak-*base) / (1 << 20) // peak >= base: the baseline is a sample
	return &d
}

// procPeak is a process's own peak in MiB: its memory before the case is
// zero (it did not exist), so no baseline is subtracted.
func procPeak(p *uint64) *float64 {
	if p == nil {
		return nil
	}
	d := float64(*p) / (1 << 20)
	return &d
}
