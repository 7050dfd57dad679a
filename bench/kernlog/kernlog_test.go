package kernlog

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The testdata lines are quoted from upstream bug reports:
//
//	mes-reset-gfx1151.dmesg   https://github.com/ROCm/legacy-rocm-build/issues/5724 (Strix Halo, MES 0x83:
//	                          MES not answering, GPU reset)
//	ring-timeout-reset.dmesg  https://github.com/ROCm/legacy-rocm-build/issues/6273 (ring gfx timeout, ring
//	                          reset failed, MODE2 reset)
//	page-fault-gfx1151.kmsg   https://github.com/ROCm/legacy-rocm-build/issues/6139 (gfx1151 [gfxhub] page fault
//	                          from llama-cli), in /dev/kmsg record format with continuation lines
//	page-fault-journal.txt    https://github.com/CachyOS/linux-cachyos/issues/960 (journalctl -k format)
//	oom.dmesg                 https://github.com/ColinIanKing/stress-ng/issues/177 (the OOM killer)
//	quiet.dmesg               https://github.com/ROCm/legacy-rocm-build/issues/2804 (ring setup: no fault)

// feed appends a testdata file to a log file that a Watch follows, as the
// kernel appends to /dev/kmsg, and returns what the Watch reads.
func feed(t *testing.T, name string) []string {
	t.Helper()
	log := filepath.Join(t.TempDir(), "kmsg")
	if err := os.WriteFile(log, []byte("6,1,1000,-;earlier line: must not be read\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Log{Path: log}.Watch()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Half a line first: the reader must wait for its end.
	cut := len(b) / 2
	_, _ = f.Write(b[:cut])
	first, err := w.Lines()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(b[cut:])
	_ = f.Close()
	rest, err := w.Lines()
	if err != nil {
		t.Fatal(err)
	}
	return append(first, rest...)
}

func TestClassifyUpstreamLogs(t *testing.T) {
	for _, tc := range []struct {
		file   string
		faults []Fault
		label  string
		lines  int
	}{
		{"mes-reset-gfx1151.dmesg", []Fault{Reset, Hang}, "GPU Reset", 6},
		{"ring-timeout-reset.dmesg", []Fault{Reset, Hang}, "GPU Reset", 8},
		{"page-fault-gfx1151.kmsg", []Fault{PageFault}, "GPU Page Fault", 5},
		{"page-fault-journal.txt", []Fault{PageFault}, "GPU Page Fault", 4},
		{"oom.dmesg", []Fault{OOMKill}, "OOM Kill", 3},
		{"quiet.dmesg", nil, "", 2},
	} {
		lines := feed(t, tc.file)
		for _, l := range lines {
			if strings.Contains(l, "earlier line") || strings.Contains(l, "SUBSYSTEM=") {
				t.Errorf("%s: read %q", tc.file, l)
			}
		}
		faults, matched := Classify(lines)
		if !slices.Equal(faults, tc.faults) || Label(faults) != tc.label || len(matched) != tc.lines {
			t.Errorf("%s: faults %v label %q, %d lines kept, want %v %q %d\n%s", tc.file, faults, Label(faults), len(matched), tc.faults, tc.label, tc.lines, strings.Join(matched, "\n"))
		}
	}
}

func TestKmsgRecordFormat(t *testing.T) {
	lines := feed(t, "page-fault-gfx1151.kmsg")
	if len(lines) != 5 || lines[0] != "[   327.803487] amdgpu 0000:c6:00.0: amdgpu: [gfxhub] page fault (src_id:0 ring:153 vmid:8 pasid:32770)" {
		t.Errorf("%q", lines)
	}
}

func TestUnreadableLog(t *testing.T) {
	_, err := Log{Path: filepath.Join(t.TempDir(), "none")}.Watch()
	if err == nil || !strings.Contains(err.Error(), "kernel log") {
		t.Errorf("%v", err)
	}
}

// At the end of the real /dev/kmsg, Lines returns at once instead of
// waiting for the next record.
func TestDevKmsgDoesNotBlock(t *testing.T) {
	w, err := Log{Path: DefaultPath}.Watch()
	if err != nil {
		t.Skipf("cannot read %s here: %v", DefaultPath, err)
	}
	defer w.Close()
	done := make(chan error, 1)
	go func() { _, err := w.Lines(); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Lines blocked at the end of /dev/kmsg")
	}
}
