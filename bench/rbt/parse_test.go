package rbt

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func read(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGolden(t *testing.T) {
	for _, f := range []string{"strix-halo-2.6.txt", "dgpu-2x-older.txt", "ng-tb.txt"} {
		t.Run(f, func(t *testing.T) {
			res, err := Parse(strings.NewReader(read(t, filepath.Join("testdata", f))), f)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(res, "", "  ")
			got = append(got, '\n')
			gp := filepath.Join("testdata", "golden", f+".golden.json")
			if *update {
				_ = os.MkdirAll(filepath.Dir(gp), 0o755)
				if err := os.WriteFile(gp, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := read(t, gp); !bytes.Equal(got, []byte(want)) {
				t.Errorf("differs from %s (rerun with -update if intended):\n%s", gp, got)
			}
		})
	}
}

func val(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

func TestSummaries(t *testing.T) {
	tests := []struct {
		file              string
		version           string
		gpu, h2d, d2h     float64
		uniCells, biCells int
	}{
		{"strix-halo-2.6.txt", "2.6.0", 212.419, 84.364, 84.147, 2, 2},
		{"dgpu-2x-older.txt", "2.3.11", 813.054181, 25.174436, 25.530712, 3, 0},
		{"ng-tb.txt", "ng", 211.874, 84.012, 83.640, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			res, err := ParseBytes([]byte(read(t, filepath.Join("testdata", tc.file))), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if res.Version != tc.version || val(res.GPUCopyGBs) != tc.gpu || val(res.HostToGPUGBs) != tc.h2d || val(res.GPUToHostGBs) != tc.d2h {
				t.Errorf("got version %q gpu %v h2d %v d2h %v", res.Version, val(res.GPUCopyGBs), val(res.HostToGPUGBs), val(res.GPUToHostGBs))
			}
			if tc.uniCells > 0 && (res.Unidirectional == nil || len(res.Unidirectional.Cells) != tc.uniCells) {
				t.Errorf("unidirectional matrix: %+v", res.Unidirectional)
			}
			if tc.biCells > 0 && (res.Bidirectional == nil || res.Bidirectional.Cells[1][1] != nil) {
				t.Errorf("bidirectional N/A cell not nil: %+v", res.Bidirectional)
			}
		})
	}
	// Without a device list nothing can be classified: summaries stay nil.
	s := read(t, "testdata/strix-halo-2.6.txt")
	s = strings.Replace(strings.Replace(s, "Device: 0,", "Dev 0", 1), "Device: 1,", "Dev 1", 1)
	res, err := ParseBytes([]byte(s), "nodev")
	if err != nil {
		t.Fatal(err)
	}
	if res.GPUCopyGBs != nil || res.HostToGPUGBs != nil {
		t.Errorf("summaries invented without a device list: %+v", res)
	}
}

func TestBroken(t *testing.T) {
	sh := read(t, "testdata/strix-halo-2.6.txt")
	ng := read(t, "testdata/ng-tb.txt")
	tests := []struct {
		name  string
		in    string
		line  int
		trunc bool
		msg   string
	}{
		{"cut inside matrix", sh[:strings.Index(sh, "          1         84.147")], 33, true, "has 1 of 2 rows"},
		{"row cut short", sh[:strings.Index(sh, "212.419")], 34, true, "has 1 cells, want 2"},
		{"version only", sh[:strings.Index(sh, "Device: 0")], 7, true, "no bandwidth matrix"},
		{"garbled cell", strings.Replace(sh, "84.364", "84.3x4", 1), 32, false, `cell "84.3x4"`},
		{"ng cut last test", ng[:strings.LastIndex(ng, " Aggregate")], 15, true, "Aggregate"},
		{"ng garbled executor", strings.Replace(ng, "|   84.012 GB/s |    3.195 ms", "|   84.012 GB/s |", 1), 2, true, "garbled Executor"},
		{"ng error", ng + "[ERROR] Unable to allocate memory\n", 17, false, "tool reported an error"},
		{"empty", "", 0, false, "not rocm_bandwidth_test output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ParseBytes([]byte(tc.in), "case-r")
			if err == nil {
				t.Fatalf("no error: %+v", res)
			}
			t.Log(err)
			var e *Error
			if !errors.As(err, &e) || e.Line != tc.line {
				t.Errorf("want line %d: %v", tc.line, err)
			}
			if errors.Is(err, ErrTruncated) != tc.trunc {
				t.Errorf("ErrTruncated = %v, want %v", !tc.trunc, tc.trunc)
			}
			if !strings.HasPrefix(err.Error(), "case-r") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q lacks %q", err, tc.msg)
			}
		})
	}
}

func FuzzRBT(f *testing.F) {
	for _, p := range []string{"testdata/strix-halo-2.6.txt", "testdata/dgpu-2x-older.txt", "testdata/ng-tb.txt"} {
		f.Add([]byte(read(f, p)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseBytes(data, "fuzz")
		if err != nil {
			if res != nil {
				t.Fatal("result with error")
			}
			return
		}
		for _, m := range res.Matrices {
			if len(m.Cells) != len(m.Devices) {
				t.Fatalf("ragged matrix accepted: %+v", m)
			}
			for _, row := range m.Cells {
				if len(row) != len(m.Devices) {
					t.Fatalf("ragged row accepted: %+v", m)
				}
			}
		}
		if res.Unidirectional == nil && res.Bidirectional == nil && len(res.Lines) == 0 {
			t.Fatal("empty result accepted")
		}
	})
}
