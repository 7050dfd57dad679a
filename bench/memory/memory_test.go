package memory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// tree is a real directory laid out like the parts of / the sampler reads.
type tree struct {
	t    *testing.T
	root string
}

func (tr tree) write(rel, content string) {
	tr.t.Helper()
	p := filepath.Join(tr.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil { // atomic, like a sysfs read sees one value
		tr.t.Fatal(err)
	}
}

func (tr tree) card(n int, vram, gtt uint64) {
	tr.write(fmt.Sprintf("sys/class/drm/card%d/device/mem_info_vram_used", n), fmt.Sprintf("%d\n", vram))
	tr.write(fmt.Sprintf("sys/class/drm/card%d/device/mem_info_gtt_used", n), fmt.Sprintf("%d\n", gtt))
}

func (tr tree) meminfo(totalKB, availKB uint64) {
	tr.write("proc/meminfo", fmt.Sprintf("MemTotal:       %d kB\nMemFree:         1000 kB\nMemAvailable:   %d kB\nBuffers:          10 kB\n", totalKB, availKB))
}

const MiB = 1 << 20

// waitSamples blocks until the sampler has taken n more samples.
func waitSamples(t *testing.T, s *Sampler, n int) {
	t.Helper()
	want := s.Samples() + n
	deadline := time.Now().Add(10 * time.Second)
	for s.Samples() < want {
		if time.Now().After(deadline) {
			t.Fatalf("sampler stalled at %d samples", s.Samples())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSamplerPeaks(t *testing.T) {
	tr := tree{t, t.TempDir()}
	tr.card(0, 512*MiB, 100*MiB)
	tr.card(1, 8*MiB, 0)                                          // a second card is summed
	tr.write("sys/class/drm/card0-DP-1/status", "disconnected\n") // connectors are not cards
	tr.write("sys/class/drm/renderD128/dev", "226:128\n")
	tr.meminfo(32<<20, 30<<20) // 2 GiB used
	s := New(os.DirFS(tr.root))
	s.Interval = 2 * time.Millisecond
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitSamples(t, s, 3)
	tr.card(0, 519*MiB, 8162*MiB) // the case allocates: +7 MiB VRAM, +8062 MiB GTT
	tr.meminfo(32<<20, 29<<20)    // +1 GiB RAM
	waitSamples(t, s, 3)
	tr.card(0, 515*MiB, 4000*MiB) // and frees some before the end
	tr.meminfo(32<<20, 30<<20)
	waitSamples(t, s, 3)
	p := s.Stop()
	check := func(name string, got *float64, want float64) {
		if got == nil || *got != want {
			t.Errorf("%s = %v, want %v", name, deref(got), want)
		}
	}
	check("VRAM", p.VRAMMiB, 7)
	check("GTT", p.GTTMiB, 8062)
	check("RAM", p.RAMMiB, 1024)
	if p.ProcVRAMMiB != nil || p.ProcGTTMiB != nil {
		t.Error("process figures without PIDs")
	}
	if err := s.Start(context.Background()); err != nil { // reusable for the next case
		t.Fatal(err)
	}
	p = s.Stop()
	check("VRAM after reuse", p.VRAMMiB, 0)
}

func deref(p *float64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func TestNotAvailable(t *testing.T) {
	tr := tree{t, t.TempDir()}
	tr.meminfo(1000, 500)
	s := New(os.DirFS(tr.root))
	s.Interval = time.Millisecond
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitSamples(t, s, 2)
	tr.card(0, 100, 100) // a card appearing mid-case has no baseline
	waitSamples(t, s, 2)
	p := s.Stop()
	if p.VRAMMiB != nil || p.GTTMiB != nil {
		t.Errorf("VRAM/GTT should be not available (nil), got %v %v", deref(p.VRAMMiB), deref(p.GTTMiB))
	}
	if p.RAMMiB == nil || *p.RAMMiB != 0 {
		t.Errorf("RAM %v", deref(p.RAMMiB))
	}
	// An empty root: nothing at all is available.
	s = New(os.DirFS(t.TempDir()))
	_ = s.Start(context.Background())
	p = s.Stop()
	if p.VRAMMiB != nil || p.GTTMiB != nil || p.RAMMiB != nil {
		t.Errorf("empty root gave %+v", p)
	}
}

// TestThisHost reads the real / of this machine: RAM is there, and on a
// host without an amdgpu card VRAM and GTT are nil, not zero.
func TestThisHost(t *testing.T) {
	r := &Reader{FS: os.DirFS("/")}
	rd := r.Read()
	if rd.RAM == nil || *rd.RAM == 0 {
		t.Fatalf("no RAM reading from /proc/meminfo: %+v", rd)
	}
	if len(r.cardFiles("vram")) == 0 && (rd.VRAM != nil || rd.GTT != nil) {
		t.Errorf("no DRM card but VRAM/GTT readings: %+v", rd)
	}
	t.Logf("RAM used %.0f MiB; VRAM %v; GTT %v", float64(*rd.RAM)/MiB, rd.VRAM != nil, rd.GTT != nil)
}

func TestFdinfo(t *testing.T) {
	tr := tree{t, t.TempDir()}
	client := func(id string, vram, gtt int) string {
		return fmt.Sprintf("pos:\t0\nflags:\t02100002\ndrm-driver:\tamdgpu\ndrm-client-id:\t%s\ndrm-memory-vram:\t%d KiB\ndrm-memory-gtt:\t%d KiB\ndrm-memory-cpu:\t0 KiB\n", id, vram, gtt)
	}
	tr.write("proc/4242/fdinfo/0", "pos:\t0\nflags:\t02\n") // not a DRM fd
	tr.write("proc/4242/fdinfo/5", client("17", 7*1024, 100*1024))
	tr.write("proc/4242/fdinfo/6", client("17", 7*1024, 100*1024)) // same client, other fd: counted once
	tr.write("proc/4243/fdinfo/3", client("18", 1024, 0))
	tr.meminfo(1000, 500)
	s := New(os.DirFS(tr.root))
	s.Reader.PIDs = func() []int { return []int{4242, 4243, 9999} }
	s.Interval = time.Millisecond
	_ = s.Start(context.Background())
	waitSamples(t, s, 2)
	tr.write("proc/4242/fdinfo/5", client("17", 9*1024, 8062*1024))
	waitSamples(t, s, 2)
	p := s.Stop()
	if p.ProcVRAMMiB == nil || *p.ProcVRAMMiB != 10 || p.ProcGTTMiB == nil || *p.ProcGTTMiB != 8062 {
		t.Errorf("proc peaks %v %v, want 10 and 8062", deref(p.ProcVRAMMiB), deref(p.ProcGTTMiB))
	}
}
