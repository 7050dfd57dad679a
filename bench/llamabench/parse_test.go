package llamabench

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func formatOf(path string) Format {
	switch {
	case strings.HasSuffix(path, ".jsonl"):
		return FormatJSONL
	case strings.HasSuffix(path, ".json"):
		return FormatJSON
	case strings.HasSuffix(path, ".csv"):
		return FormatCSV
	case strings.HasSuffix(path, ".sql"):
		return FormatSQL
	case strings.HasSuffix(path, ".md"):
		return FormatMD
	}
	return FormatAuto
}

func outputs(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"testdata/bench*", "testdata/mid2025/bench*"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if !strings.HasSuffix(f, ".log") {
				files = append(files, f)
			}
		}
	}
	if len(files) < 15 {
		t.Fatalf("only %d fixtures found", len(files))
	}
	return files
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file %s; if the change is intended rerun with -update\ngot:\n%s", name, path, got)
	}
}

// TestGolden parses every real fixture with its declared format and with
// auto-detection and compares the records to golden files.
func TestGolden(t *testing.T) {
	for _, path := range outputs(t) {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := Parse(bytes.NewReader(data), formatOf(path), path)
			if err != nil {
				t.Fatal(err)
			}
			auto, err := ParseBytes(data, FormatAuto, path)
			if err != nil {
				t.Fatalf("auto-detect: %v", err)
			}
			if f, _ := Detect(data); f != formatOf(path) {
				t.Errorf("Detect = %q, want %q", f, formatOf(path))
			}
			a, _ := json.MarshalIndent(recs, "", "  ")
			b, _ := json.MarshalIndent(auto, "", "  ")
			if !bytes.Equal(a, b) {
				t.Error("auto-detected parse differs")
			}
			for i, r := range recs {
				if r.AvgTS <= 0 {
					t.Errorf("record %d: avg_ts %v", i, r.AvgTS)
				}
				if r.Format != FormatMD && len(r.Order) != len(r.Fields) {
					t.Errorf("record %d: %d fields but order has %d", i, len(r.Fields), len(r.Order))
				}
			}
			golden(t, strings.ReplaceAll(strings.TrimPrefix(path, "testdata/"), "/", "_")+".golden.json", append(a, '\n'))
		})
	}
}

// TestValues pins values read off the fixtures by eye.
func TestValues(t *testing.T) {
	tests := []struct {
		file  string
		i     int
		label string
		ts    float64
		fa    int
		check func(t *testing.T, r Record)
	}{
		{"testdata/bench.json", 0, "pp512", 570.614333, -1, func(t *testing.T, r Record) {
			if r.NThreads != 2 || r.ModelSize != 11019264 || r.BuildNumber != 11669 || len(r.SamplesTS) != 3 {
				t.Errorf("got %+v", r)
			}
			if r.Fields["n_cpu_moe"] != float64(0) || r.Fields["repack"] != true || r.Fields["load_mode"] != "auto" {
				t.Errorf("newer fields not kept: %v", r.Fields)
			}
		}},
		{"testdata/bench-fa1.json", 1, "tg128", 0, 1, nil},
		{"testdata/bench-faon.json", 0, "pp512", 0, 1, nil},
		{"testdata/bench-d512.json", 0, "pp512 @ d512", 0, -1, nil},
		{"testdata/bench-pg.md", 2, "pp512+tg128", 24.84, 0, func(t *testing.T, r Record) {
			if r.Has("flash_attn") || r.Has("avg_ns") || !r.Has("n_threads") || r.BuildCommit != "Debian" || r.ModelSize != 11020534 {
				t.Errorf("md record: %+v", r)
			}
		}},
		{"testdata/bench.csv", 1, "tg128", 124.953494, -1, func(t *testing.T, r Record) {
			if r.Fields["no_host"] != "0" || r.AvgNS != 1817699637 {
				t.Errorf("csv: %+v", r)
			}
		}},
		{"testdata/bench.sql", 0, "pp512", 344.651473, -1, nil},
		{"testdata/mid2025/bench.json", 0, "pp512", 348.909414, 1, func(t *testing.T, r Record) {
			if r.Fields["use_mmap"] != false || r.Has("n_cpu_moe") == false || r.NGPULayers != 99 {
				t.Errorf("mid-2025: %+v", r)
			}
			if _, ok := r.Fields["devices"]; ok {
				t.Error("mid-2025 output has no devices field")
			}
		}},
		{"testdata/mid2025/bench.md", 1, "tg128", 48.70, 1, func(t *testing.T, r Record) {
			if r.Fields["use_mmap"] != "0" || r.NGPULayers != 99 || r.Backends != "ROCm" || r.ModelNParams != 6740000000 {
				t.Errorf("mid-2025 md: %+v", r)
			}
		}},
		{"testdata/mid2025/bench.csv", 0, "pp512", 348.909414, 1, nil},
		{"testdata/mid2025/bench.sql", 1, "tg128", 48.700819, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := ParseBytes(data, FormatAuto, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			r := recs[tc.i]
			if r.Label() != tc.label {
				t.Errorf("label %q, want %q", r.Label(), tc.label)
			}
			if tc.ts != 0 && r.AvgTS != tc.ts {
				t.Errorf("avg_ts %v, want %v", r.AvgTS, tc.ts)
			}
			if r.Has("flash_attn") && r.FlashAttn != tc.fa {
				t.Errorf("flash_attn %d, want %d", r.FlashAttn, tc.fa)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// TestMid2025Consistent checks that the five formats of one run agree.
func TestMid2025Consistent(t *testing.T) {
	var ref []Record
	for _, f := range []string{"bench.json", "bench.jsonl", "bench.csv", "bench.sql", "bench.md"} {
		data, err := os.ReadFile(filepath.Join("testdata/mid2025", f))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := ParseBytes(data, FormatAuto, f)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = recs
			continue
		}
		if len(recs) != len(ref) {
			t.Fatalf("%s: %d records, want %d", f, len(recs), len(ref))
		}
		for i := range recs {
			if recs[i].Label() != ref[i].Label() || !sameTS(recs[i], ref[i]) || recs[i].FlashAttn != ref[i].FlashAttn {
				t.Errorf("%s record %d: %s %v fa=%d vs %s %v fa=%d", f, i, recs[i].Label(), recs[i].AvgTS, recs[i].FlashAttn, ref[i].Label(), ref[i].AvgTS, ref[i].FlashAttn)
			}
		}
	}
}

// TestOE parses the -oe fixture: markdown on stdout, JSON after log lines on
// stderr. The JSON copy is richer and is returned.
func TestOE(t *testing.T) {
	out, err := os.ReadFile("testdata/bench-oe.md")
	if err != nil {
		t.Fatal(err)
	}
	errb, err := os.ReadFile("testdata/bench-oe.md.stderr.log")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ParseOutputs("bench-oe.md", out, "bench-oe.md.stderr.log", errb)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Format != FormatJSON || recs[0].AvgTS != 242.433670 || recs[1].Label() != "tg128" {
		t.Fatalf("got %+v", recs)
	}
	// Log noise before the output is skipped; a plain stderr without -oe gives the stdout copy.
	plain, err := os.ReadFile("testdata/bench.md.stderr.log")
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile("testdata/bench.md")
	recs, err = ParseOutputs("bench.md", md, "bench.md.stderr.log", plain)
	if err != nil || recs[0].Format != FormatMD {
		t.Fatalf("without -oe: %v %+v", err, recs)
	}
	// Copies from different runs are refused.
	if _, err := ParseOutputs("bench.md", md, "bench-oe.md.stderr.log", errb); err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Fatalf("mismatched copies: %v", err)
	}
	// A truncated stderr copy is an error naming stderr.
	cut := errb[:len(errb)-300]
	if _, err := ParseOutputs("bench-oe.md", out, "case7.stderr", cut); err == nil || !strings.Contains(err.Error(), "case7.stderr:") || !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated stderr: %v", err)
	}
}

// TestBroken feeds truncated and garbled variants of real outputs: each
// must be an error naming the input and a line, never records.
func TestBroken(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	jsonS, md, csvS, sqlS, jsonl := read("testdata/bench.json"), read("testdata/bench.md"), read("testdata/bench.csv"), read("testdata/bench.sql"), read("testdata/bench.jsonl")
	tests := []struct {
		name  string
		in    string
		f     Format
		line  int
		trunc bool
		msg   string
	}{
		{"json cut mid-object", jsonS[:strings.Index(jsonS, `"avg_ts": 35`)], FormatJSON, 89, true, "ends inside result 2"},
		{"json cut mid-number", jsonS[:strings.Index(jsonS, `"avg_ns": 1015`)+12], FormatJSON, 41, true, "ends inside"},
		{"json missing close", strings.TrimSuffix(strings.TrimSpace(jsonS), "]"), FormatJSON, 94, true, "the result array"},
		{"json garbled value", strings.Replace(jsonS, `"avg_ts": 570.614333`, `"avg_ts": 570.61#4333`, 1), FormatJSON, 43, false, "garbled JSON"},
		{"json avg_ts string", strings.Replace(jsonS, `"avg_ts": 570.614333`, `"avg_ts": "fast"`, 1), FormatJSON, 2, false, `"avg_ts"`},
		{"json avg_ts missing", strings.Replace(jsonS, `"avg_ts": 570.614333,`, ``, 1), FormatJSON, 2, false, `"avg_ts" missing`},
		{"json flash_attn 7", strings.Replace(jsonS, `"flash_attn": -1`, `"flash_attn": 7`, 1), FormatJSON, 2, false, "flash_attn"},
		{"jsonl cut last line", jsonl[:len(jsonl)-200], FormatJSONL, 2, true, "ends inside"},
		{"jsonl garbage line", jsonl + "Segmentation fault\n", FormatJSONL, 3, false, ""},
		{"md row missing t/s", strings.Replace(md, "85.44 ± 112.61", "", 1), FormatMD, 4, false, "t/s cell"},
		{"md row cut", md[:strings.Index(md, "85.44")], FormatMD, 4, true, "truncated"},
		{"md row cut mid-cell", md[:strings.Index(md, "85.44")+3], FormatMD, 4, true, "cut short"},
		{"md no footer", md[:strings.Index(md, "build:")], FormatMD, 4, true, "footer"},
		{"md bad label", strings.Replace(md, "tg128", "tgXYZ", 1), FormatMD, 4, false, "test label"},
		{"md bad footer", strings.Replace(md, "build: Debian (11669)", "build: Debian", 1), FormatMD, 6, false, "footer"},
		{"csv wrong column count", csvS[:strings.LastIndex(csvS, `,"1817699637"`)] + "\n", FormatCSV, 3, true, "number of columns"},
		{"csv cut inside quote", csvS[:strings.LastIndex(csvS, `"124.95`)+4], FormatCSV, 3, false, "quote"},
		{"csv not a number", strings.Replace(csvS, `"1254.201952"`, `"n/a"`, 1), FormatCSV, 2, false, `"avg_ts"`},
		{"sql cut mid-insert", sqlS[:len(sqlS)-120], FormatSQL, 47, true, "truncated"},
		{"sql cut after values", strings.TrimSuffix(strings.TrimSpace(sqlS), ";"), FormatSQL, 47, true, "cut short"},
		{"sql values count", strings.Replace(sqlS, "'295.646535', ", "", 1), FormatSQL, 47, false, "values"},
		{"empty", "", FormatAuto, 0, false, "cannot tell"},
		{"log only", "load_backend: loaded CPU backend\n", FormatAuto, 0, false, "cannot tell"},
		{"empty json array", "[\n]\n", FormatJSON, 0, false, "no test results"},
	}
	lineRE := regexp.MustCompile(`^case-x:(\d+): `)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := ParseBytes([]byte(tc.in), tc.f, "case-x")
			if err == nil {
				t.Fatalf("no error; got %d records", len(recs))
			}
			if recs != nil {
				t.Errorf("records returned with an error")
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, "case-x") {
				t.Errorf("error does not name the input: %s", msg)
			}
			if tc.line > 0 {
				m := lineRE.FindStringSubmatch(msg)
				if m == nil || m[1] != itoa(tc.line) {
					t.Errorf("want line %d in %q", tc.line, msg)
				}
			}
			if tc.trunc != errors.Is(err, ErrTruncated) {
				t.Errorf("errors.Is(err, ErrTruncated) = %v, want %v", !tc.trunc, tc.trunc)
			}
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("error %q lacks %q", msg, tc.msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
