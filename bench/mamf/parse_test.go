package mamf

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func read(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGolden(t *testing.T) {
	for _, f := range []string{"gpu0-bf16.txt", "gpu0-fp8.txt", "strix-halo-interrupted.txt", "h200-mamf-msmf.txt"} {
		t.Run(f, func(t *testing.T) {
			res, err := Parse(bytes.NewReader(read(t, filepath.Join("testdata", f))), f)
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
			if want := read(t, gp); !bytes.Equal(got, want) {
				t.Errorf("differs from %s (rerun with -update if intended):\n%s", gp, got)
			}
		})
	}
}

func TestValues(t *testing.T) {
	res, err := ParseBytes(read(t, "testdata/gpu0-bf16.txt"), "bf16")
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Dtype: "torch.bfloat16", Device: "NVIDIA H100 80GB HBM3", Torch: "2.5.1+cu121", Version: 2, Shapes: 3375,
		Mean: Shape{761.0, 2048, 2048, 15360}, Median: Shape{765.5, 4096, 3072, 13312}, Max: Shape{785.5, 4096, 3072, 13312},
		Elapsed: 16*time.Minute + 2*time.Second}
	if a, b := mustJSON(res), mustJSON(&want); a != b {
		t.Errorf("got %s\nwant %s", a, b)
	}
	sh, err := ParseBytes(read(t, "testdata/strix-halo-interrupted.txt"), "sh")
	if err != nil {
		t.Fatal(err)
	}
	if !sh.Interrupted || sh.Arch != "gfx1151" || sh.GeomeanTFLOPS == nil || *sh.GeomeanTFLOPS != 16.5 || sh.Max.TFLOPS != 22.9 || sh.Shapes != 879 || sh.Elapsed != 49*time.Minute+39*time.Second {
		t.Errorf("strix halo: %s", mustJSON(sh))
	}
}

func TestMAMFFormat(t *testing.T) {
	r, err := ParseBytes(read(t, "testdata/h200-mamf-msmf.txt"), "h200")
	if err != nil {
		t.Fatal(err)
	}
	if r.MAMF == nil || *r.MAMF != (Shape{842, 3072, 2816, 20480}) || r.MSMF == nil || r.MSMF.TFLOPS != 722 ||
		r.Max.TFLOPS != 0 || len(r.Absent) != 3 || r.GeomeanTFLOPS == nil || *r.GeomeanTFLOPS != 698.9 ||
		r.ArithMeanTFLOPS == nil || *r.ArithMeanTFLOPS != 701.3 || r.Version != 3 || r.Shapes != 24 {
		t.Errorf("got %s", mustJSON(r))
	}
	full := string(read(t, "testdata/h200-mamf-msmf.txt"))
	_, err = ParseBytes([]byte(full[:strings.Index(full, "MSMF (max sustainable")]), "h200-cut")
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), `"MSMF"`) {
		t.Errorf("cut before MSMF: %v", err)
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestBroken(t *testing.T) {
	full := string(read(t, "testdata/gpu0-bf16.txt"))
	cut := full[:strings.Index(full, "  1000 |")]
	tests := []struct {
		name    string
		in      string
		line    int
		trunc   bool
		partial bool
		msg     string
	}{
		{"killed mid-sweep", cut, 1023, true, true, "999 shapes measured; partial best so far"},
		{"cut inside final block", full[:strings.Index(full, "median: 765.5")], 3403, true, false, `lacks the "median" line`},
		{"no elapsed", full[:strings.Index(full, "Elapsed")], 3406, true, false, "Elapsed time"},
		{"garbled max", strings.Replace(full, "max:    785.5 TFLOPS @ 4096x3072x13312", "max:    785.5 TFLOPS @ 4096x30", 1), 3405, false, false, "garbled best-outcome"},
		{"garbled elapsed", strings.Replace(full, "Elapsed time: 0:16:02", "Elapsed time: soon", 1), 3407, false, false, "Elapsed"},
		{"no header", string(read(t, "testdata/strix-halo-rocblas-day.txt")), 1, false, false, "Dtype"},
		{"not mamf", "hello\n", 1, false, false, "not mamf-finder output"},
		{"empty", "", 0, false, false, "not mamf-finder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ParseBytes([]byte(tc.in), "case-m")
			if err == nil {
				t.Fatalf("no error, got %+v", res)
			}
			t.Log(err)
			var me *Error
			if !errors.As(err, &me) || me.Line != tc.line || me.Name != "case-m" {
				t.Errorf("want case-m line %d, got %v", tc.line, err)
			}
			if errors.Is(err, ErrTruncated) != tc.trunc {
				t.Errorf("ErrTruncated = %v, want %v", !tc.trunc, tc.trunc)
			}
			if (me != nil && me.Progress != nil) != tc.partial {
				t.Errorf("partial progress presence wrong: %+v", me)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "case-m") {
				t.Errorf("error %q lacks %q", err, tc.msg)
			}
		})
	}
	// The partial best is what the progress lines say, shape included.
	_, err := ParseBytes([]byte(cut), "case-m")
	var me *Error
	errors.As(err, &me)
	p := me.Progress
	if !p.Partial || p.Done != 999 || p.Max.TFLOPS <= 0 || p.Max.M == 0 {
		t.Errorf("progress %+v", p)
	}
	if !strings.Contains(cut, p.Max.str()) {
		t.Errorf("best max %v not on any progress line", p.Max)
	}
}

func FuzzMamf(f *testing.F) {
	for _, p := range []string{"testdata/gpu0-fp8.txt", "testdata/strix-halo-interrupted.txt", "testdata/strix-halo-rocblas-day.txt", "testdata/h200-mamf-msmf.txt"} {
		b := read(f, p)
		if len(b) > 8000 { // keep the head and the tail: the fuzzer mutates small inputs best
			b = append(append([]byte{}, b[:3000]...), b[len(b)-1500:]...)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseBytes(data, "fuzz")
		if err != nil {
			if res != nil {
				t.Fatal("result with error")
			}
			return
		}
		if res.Shapes <= 0 || res.Dtype == "" || (res.MAMF == nil && res.Max.M <= 0) || (res.MAMF != nil && res.MAMF.M <= 0) {
			t.Fatalf("bad result accepted: %+v", res)
		}
	})
}
