package llamabench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Format is a llama-bench output format (its -o / -oe argument).
type Format string

// The formats llama-bench prints. FormatAuto asks Parse to detect it.
const (
	FormatAuto  Format = ""
	FormatJSON  Format = "json"
	FormatJSONL Format = "jsonl"
	FormatCSV   Format = "csv"
	FormatMD    Format = "md"
	FormatSQL   Format = "sql"
)

// MaxInput bounds how much of one output Parse reads (llama-bench outputs
// are a few KiB per test).
const MaxInput = 64 << 20

// ErrNoOutput is returned when the input holds no llama-bench output at all.
var ErrNoOutput = errors.New("no llama-bench output found")

// ErrTruncated marks output that ends early (a killed or crashed run).
var ErrTruncated = errors.New("output is truncated")

// ParseError locates a problem in an output. It unwraps to ErrTruncated or
// ErrNoOutput where those apply.
type ParseError struct {
	Name   string // the input: case id or file path
	Line   int    // 1-based; 0 when unknown
	Format Format
	Msg    string
	Err    error // optional sentinel or cause
}

func (e *ParseError) Error() string {
	loc := e.Name
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.Name, e.Line)
	}
	f := ""
	if e.Format != "" {
		f = "llama-bench " + string(e.Format) + ": "
	} else {
		f = "llama-bench: "
	}
	msg := e.Msg
	redundant := e.Err == ErrTruncated && strings.Contains(msg, "truncated")
	if e.Err != nil && !strings.Contains(msg, e.Err.Error()) && !redundant {
		msg += ": " + e.Err.Error()
	}
	return loc + ": " + f + msg
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads one llama-bench output in the given format (FormatAuto to
// detect it) and returns its records. name (a case id or file path) is used
// in errors. An output with no test at all is an error.
func Parse(r io.Reader, format Format, name string) ([]Record, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read llama-bench output: %w", name, err)
	}
	if len(data) > MaxInput {
		return nil, &ParseError{Name: name, Format: format, Msg: fmt.Sprintf("output larger than %d bytes; is this really llama-bench output?", MaxInput)}
	}
	return ParseBytes(data, format, name)
}

// ParseBytes is Parse on a byte slice.
func ParseBytes(data []byte, format Format, name string) ([]Record, error) {
	if format == FormatAuto {
		f, err := Detect(data)
		if err != nil {
			return nil, &ParseError{Name: name, Msg: "cannot tell the output format (expected json, jsonl, csv, md or sql as printed by llama-bench -o)", Err: ErrNoOutput}
		}
		format = f
	}
	var (
		recs []Record
		err  error
	)
	switch format {
	case FormatJSON:
		recs, err = parseJSON(data, name, 1, false)
	case FormatJSONL:
		recs, err = parseJSONL(data, name, 1)
	case FormatCSV:
		recs, err = parseCSV(data, name, 1)
	case FormatMD:
		recs, err = parseMD(data, name, 1)
	case FormatSQL:
		recs, err = parseSQL(data, name, 1)
	default:
		return nil, fmt.Errorf("%s: unknown llama-bench format %q: use one of json, jsonl, csv, md, sql", name, format)
	}
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, &ParseError{Name: name, Format: format, Msg: "no test results in output", Err: ErrNoOutput}
	}
	return recs, nil
}

// Detect tells the format of a llama-bench output from its first
// non-blank line.
func Detect(data []byte) (Format, error) {
	for _, line := range strings.Split(string(data), "\n") {
		if f, ok := startFormat(strings.TrimSpace(line)); ok {
			return f, nil
		}
		if strings.TrimSpace(line) != "" {
			break
		}
	}
	return FormatAuto, ErrNoOutput
}

// startFormat reports whether a (trimmed) line is the first line of a
// llama-bench output and of which format.
func startFormat(line string) (Format, bool) {
	switch {
	case line == "[" || line == "[]" || strings.HasPrefix(line, "[{") || strings.HasPrefix(line, "[ {"):
		return FormatJSON, true
	case strings.HasPrefix(line, `{"`):
		return FormatJSONL, true
	case strings.HasPrefix(line, "|") && strings.Contains(line, "t/s"):
		return FormatMD, true
	case strings.HasPrefix(line, "CREATE TABLE") && strings.Contains(line, "llama_bench"),
		strings.HasPrefix(line, "INSERT INTO llama_bench"),
		// Builds before 2025-08-02 name the table "test" (renamed in
		// ggml-org/llama.cpp PR #15003, commit 3025b621d12a).
		line == "CREATE TABLE IF NOT EXISTS test (", strings.HasPrefix(line, "INSERT INTO test ("):
		return FormatSQL, true
	case strings.HasPrefix(line, "build_commit,") || (strings.Contains(line, ",") && strings.Contains(line, "avg_ts") && !strings.ContainsAny(line, "{|")):
		return FormatCSV, true
	}
	return FormatAuto, false
}

// Extract finds a llama-bench output inside a stream that also carries log
// lines (stderr with -oe: ggml/backend banners come first). It returns the
// format, the output from its first line on, and that line's number.
func Extract(data []byte) (Format, []byte, int, error) {
	off := 0
	for n := 1; off <= len(data); n++ {
		end := bytes.IndexByte(data[off:], '\n')
		var line []byte
		if end < 0 {
			line = data[off:]
		} else {
			line = data[off : off+end]
		}
		if f, ok := startFormat(strings.TrimSpace(string(line))); ok {
			return f, data[off:], n, nil
		}
		if end < 0 {
			break
		}
		off += end + 1
	}
	return FormatAuto, nil, 0, ErrNoOutput
}

// ParseLog parses a llama-bench output embedded in a log (stderr of -oe):
// leading lines that are not part of the output are skipped, and trailing
// log lines after a complete JSON array are ignored. Line numbers in errors
// are those of the log.
func ParseLog(data []byte, name string) ([]Record, error) {
	f, out, first, err := Extract(data)
	if err != nil {
		return nil, &ParseError{Name: name, Msg: "no llama-bench output in log (was it run with -oe json|jsonl|csv|md|sql?)", Err: ErrNoOutput}
	}
	var recs []Record
	switch f {
	case FormatJSON:
		recs, err = parseJSON(out, name, first, true)
	case FormatJSONL:
		recs, err = parseJSONL(keepPrefix(out, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "{") }), name, first)
	case FormatCSV:
		recs, err = parseCSV(keepPrefix(out, func(l string) bool { return strings.HasPrefix(l, `"`) || strings.HasPrefix(l, "build_commit") }), name, first)
	case FormatMD:
		recs, err = parseMD(out, name, first)
	case FormatSQL:
		recs, err = parseSQL(out, name, first)
	}
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, &ParseError{Name: name, Format: f, Line: first, Msg: "no test results in output", Err: ErrNoOutput}
	}
	return recs, nil
}

// keepPrefix returns the leading lines of out for which keep holds (blank
// lines included).
func keepPrefix(out []byte, keep func(string) bool) []byte {
	lines := strings.SplitAfter(string(out), "\n")
	n := 0
	for i, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if i > 0 && t != "" && !keep(t) {
			break
		}
		n += len(l)
	}
	return out[:n]
}

// field kinds of the known llama-bench fields, across generations.
type kind int

const (
	kString kind = iota
	kInt
	kFloat
	kBool    // printed as bool in JSON, 0/1 elsewhere
	kFlash   // bool (mid-2025) or int -1/0/1 (current)
	kSamples // array of numbers
)

var knownKinds = map[string]kind{
	"build_commit": kString, "build_number": kInt, "cpu_info": kString, "gpu_info": kString,
	"backends": kString, "model_filename": kString, "model_type": kString,
	"model_size": kInt, "model_n_params": kInt, "n_batch": kInt, "n_ubatch": kInt,
	"n_threads": kInt, "n_gpu_layers": kInt, "flash_attn": kFlash,
	"n_prompt": kInt, "n_gen": kInt, "n_depth": kInt, "test_time": kString,
	"avg_ns": kFloat, "stddev_ns": kFloat, "avg_ts": kFloat, "stddev_ts": kFloat,
	"samples_ns": kSamples, "samples_ts": kSamples,
}

// typedFields are the Record fields filled from Fields, in schema order.
var typedFields = []string{
	"build_commit", "build_number", "cpu_info", "gpu_info", "backends", "model_filename",
	"model_type", "model_size", "model_n_params", "n_batch", "n_ubatch", "n_threads",
	"n_gpu_layers", "flash_attn", "n_prompt", "n_gen", "n_depth", "test_time",
	"avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts",
}

// required fields: without them a record is not a result.
var required = []string{"n_prompt", "n_gen", "avg_ts"}

// fill sets the typed fields of r from r.Fields, checking types and values.
// It returns a message naming the bad field, or "".
func (r *Record) fill() string {
	r.Absent = r.Absent[:0]
	for _, name := range typedFields {
		v, ok := r.Fields[name]
		if !ok {
			r.Absent = append(r.Absent, name)
			continue
		}
		if msg := r.set(name, v); msg != "" {
			return msg
		}
	}
	for _, name := range required {
		if _, ok := r.Fields[name]; !ok {
			return fmt.Sprintf("field %q missing: not a complete llama-bench result", name)
		}
	}
	if len(r.Absent) == 0 {
		r.Absent = nil
	}
	if r.NPrompt < 0 || r.NGen < 0 || r.NDepth < 0 || r.NPrompt+r.NGen == 0 {
		return fmt.Sprintf("n_prompt=%d n_gen=%d n_depth=%d is not a valid test", r.NPrompt, r.NGen, r.NDepth)
	}
	if r.AvgTS < 0 || r.StddevTS < 0 || r.AvgNS < 0 || r.StddevNS < 0 {
		return "negative timing"
	}
	return ""
}

func (r *Record) set(name string, v any) string {
	k := knownKinds[name]
	switch k {
	case kString:
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("field %q: want a string, got %v", name, v)
		}
		switch name {
		case "build_commit":
			r.BuildCommit = s
		case "cpu_info":
			r.CPUInfo = s
		case "gpu_info":
			r.GPUInfo = s
		case "backends":
			r.Backends = s
		case "model_filename":
			r.ModelFile = s
		case "model_type":
			r.ModelType = s
		case "test_time":
			r.TestTime = s
		}
	case kInt, kFlash:
		n, msg := toInt(name, v, k == kFlash)
		if msg != "" {
			return msg
		}
		switch name {
		case "build_number":
			r.BuildNumber = int(n)
		case "model_size":
			r.ModelSize = n
		case "model_n_params":
			r.ModelNParams = n
		case "n_batch":
			r.NBatch = int(n)
		case "n_ubatch":
			r.NUbatch = int(n)
		case "n_threads":
			r.NThreads = int(n)
		case "n_gpu_layers":
			r.NGPULayers = int(n)
		case "flash_attn":
			if n < -1 || n > 1 {
				return fmt.Sprintf("field \"flash_attn\": %d is not -1, 0 or 1", n)
			}
			r.FlashAttn = int(n)
		case "n_prompt":
			r.NPrompt = int(n)
		case "n_gen":
			r.NGen = int(n)
		case "n_depth":
			r.NDepth = int(n)
		}
	case kFloat:
		f, msg := toFloat(name, v)
		if msg != "" {
			return msg
		}
		switch name {
		case "avg_ns":
			r.AvgNS = f
		case "stddev_ns":
			r.StddevNS = f
		case "avg_ts":
			r.AvgTS = f
		case "stddev_ts":
			r.StddevTS = f
		}
	case kSamples:
		arr, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("field %q: want an array of numbers, got %v", name, v)
		}
		out := make([]float64, 0, len(arr))
		for _, e := range arr {
			f, msg := toFloat(name, e)
			if msg != "" {
				return msg
			}
			out = append(out, f)
		}
		if name == "samples_ns" {
			r.SamplesNS = out
		} else {
			r.SamplesTS = out
		}
	case kBool:
	}
	return ""
}

func toInt(name string, v any, boolOK bool) (int64, string) {
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Sprintf("field %q: %v is not an integer", name, x)
		}
		return int64(x), ""
	case bool:
		if boolOK {
			if x {
				return 1, ""
			}
			return 0, ""
		}
	case string:
		s := strings.TrimSpace(x)
		if boolOK {
			switch s {
			case "true", "on", "enabled":
				return 1, ""
			case "false", "off", "disabled":
				return 0, ""
			case "auto":
				return -1, ""
			}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Sprintf("field %q: %q is not an integer", name, x)
		}
		return n, ""
	}
	return 0, fmt.Sprintf("field %q: want an integer, got %v", name, v)
}

func toFloat(name string, v any) (float64, string) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case string:
		var err error
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Sprintf("field %q: %q is not a number", name, x)
		}
	default:
		return 0, fmt.Sprintf("field %q: want a number, got %v", name, v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Sprintf("field %q: %v is not a finite number", name, f)
	}
	return f, ""
}
