package rbt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// ErrTruncated marks output that ends early.
var ErrTruncated = errors.New("output is truncated")

// ErrNoResults marks input with no bandwidth result at all.
var ErrNoResults = errors.New("no rocm_bandwidth_test results")

// Error locates a problem in an output.
type Error struct {
	Name string
	Line int
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	loc := e.Name
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.Name, e.Line)
	}
	s := loc + ": rocm_bandwidth_test: " + e.Msg
	redundant := e.Err == ErrTruncated && strings.Contains(e.Msg, "truncated")
	if e.Err != nil && !redundant {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

var (
	reVersion = regexp.MustCompile(`RocmBandwidthTest Version: (\S+)`)
	reDevice  = regexp.MustCompile(`^Device: (\d+),\s+(.*)$`)
	reBDF     = regexp.MustCompile(`^[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,2})?:[0-9a-fA-F]{1,2}\.[0-9a-fA-F]$`)
	reBWTitle = regexp.MustCompile(`^(Unidirectional|Bidirectional|Bdirectional) copy (peak|average) bandwidth GB/s$`)
	reIdx     = regexp.MustCompile(`^\d+$`)
	num       = `([0-9]+(?:\.[0-9]+)?)`
	sep       = `\s*\|\s*`
	reExec    = regexp.MustCompile(`^\s*Executor:\s+(\S+ \d+)` + sep + num + ` GB/s` + sep + num + ` ms` + sep + `(\d+) bytes` + sep + `(.*)$`)
	reXfer    = regexp.MustCompile(`^\s*Transfer (\d+)` + sep + num + ` GB/s` + sep + num + ` ms` + sep + `(\d+) bytes` + sep + `(\S+) -> (\S+) -> (\S+)\s*$`)
	reAgg     = regexp.MustCompile(`^\s*Aggregate \((\w+)\)` + sep + num + ` GB/s` + sep + num + ` ms` + sep + `(\d+) bytes` + sep + `(.*)$`)
	reTest    = regexp.MustCompile(`^Test (\d+):\s*$`)
)

// MaxInput bounds the output read.
const MaxInput = 16 << 20

// Parse reads a rocm_bandwidth_test output (2.6 or RBT-NG). name (case id or
// file path) is used in errors.
func Parse(r io.Reader, name string) (*Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read rocm_bandwidth_test output: %w", name, err)
	}
	if len(data) > MaxInput {
		return nil, &Error{Name: name, Msg: fmt.Sprintf("output larger than %d bytes", MaxInput)}
	}
	return ParseBytes(data, name)
}

type matrixState struct {
	m       Matrix
	kind    string // Unidirectional/Bidirectional
	peak    bool
	bw      bool // a bandwidth matrix (others: access, numa distance)
	header  int  // line of the D/D header
	nextRow int
}

// ParseBytes is Parse on a byte slice.
func ParseBytes(data []byte, name string) (*Result, error) {
	res := &Result{}
	var (
		n       int
		title   string
		cur     *matrixState
		testNum int
		sawNG   bool
	)
	fail := func(line int, msg string, err error) error { return &Error{Name: name, Line: line, Msg: msg, Err: err} }
	closeMatrix := func() error {
		if cur == nil {
			return nil
		}
		c := cur
		cur = nil
		if c.nextRow != len(c.m.Devices) {
			return fail(n, fmt.Sprintf("matrix %q has %d of %d rows: output truncated", c.m.Title, c.nextRow, len(c.m.Devices)), ErrTruncated)
		}
		if !c.bw {
			return nil
		}
		res.Matrices = append(res.Matrices, c.m)
		if c.peak {
			m := &res.Matrices[len(res.Matrices)-1]
			cp := *m
			if c.kind == "Unidirectional" {
				res.Unidirectional = &cp
			} else {
				res.Bidirectional = &cp
			}
		}
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		n++
		raw := strings.TrimRight(sc.Text(), "\r")
		t := strings.TrimSpace(raw)
		if t == "" {
			continue
		}
		fields := strings.Fields(t)
		// Matrix rows and headers.
		if fields[0] == "D/D" {
			if err := closeMatrix(); err != nil {
				return nil, err
			}
			ms := &matrixState{m: Matrix{Title: title}, header: n}
			if m := reBWTitle.FindStringSubmatch(title); m != nil {
				ms.bw = true
				ms.kind = m[1]
				if ms.kind == "Bdirectional" { // spelling of some 2.x releases
					ms.kind = "Bidirectional"
				}
				ms.peak = m[2] == "peak"
			}
			for _, f := range fields[1:] {
				if !reIdx.MatchString(f) {
					return nil, fail(n, fmt.Sprintf("matrix header cell %q is not a device index", f), nil)
				}
				d, _ := strconv.Atoi(f)
				ms.m.Devices = append(ms.m.Devices, d)
			}
			if len(ms.m.Devices) == 0 {
				return nil, fail(n, "matrix header lists no device", nil)
			}
			cur = ms
			continue
		}
		if cur != nil && reIdx.MatchString(fields[0]) {
			want := cur.m.Devices[cur.nextRow%len(cur.m.Devices)]
			if cur.nextRow >= len(cur.m.Devices) {
				return nil, fail(n, fmt.Sprintf("matrix %q has more rows than devices", cur.m.Title), nil)
			}
			if fields[0] != strconv.Itoa(want) {
				return nil, fail(n, fmt.Sprintf("matrix %q: row for device %s where device %d was expected", cur.m.Title, fields[0], want), nil)
			}
			cells := fields[1:]
			if len(cells) != len(cur.m.Devices) {
				return nil, fail(n, fmt.Sprintf("matrix %q row %s has %d cells, want %d: truncated or garbled", cur.m.Title, fields[0], len(cells), len(cur.m.Devices)), ErrTruncated)
			}
			var row []*float64
			for _, c := range cells {
				if !cur.bw {
					row = append(row, nil)
					continue
				}
				if c == "N/A" {
					row = append(row, nil)
					continue
				}
				v, err := strconv.ParseFloat(c, 64)
				if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					return nil, fail(n, fmt.Sprintf("matrix %q: cell %q is not a bandwidth in GB/s or N/A", cur.m.Title, c), nil)
				}
				row = append(row, &v)
			}
			if cur.bw {
				cur.m.Cells = append(cur.m.Cells, row)
			}
			cur.nextRow++
			continue
		}
		if err := closeMatrix(); err != nil {
			return nil, err
		}
		switch {
		case reVersion.MatchString(t):
			res.Version = reVersion.FindStringSubmatch(t)[1]
		case reDevice.MatchString(t):
			m := reDevice.FindStringSubmatch(t)
			idx, _ := strconv.Atoi(m[1])
			d := Device{Index: idx}
			parts := strings.Split(m[2], ",")
			for i := range parts {
				parts[i] = strings.TrimSpace(parts[i])
			}
			d.Name = parts[0]
			if last := parts[len(parts)-1]; len(parts) > 1 && reBDF.MatchString(last) {
				d.GPU, d.BDF = true, last
			}
			res.Devices = append(res.Devices, d)
		case reTest.MatchString(t):
			testNum, _ = strconv.Atoi(reTest.FindStringSubmatch(t)[1])
		case strings.HasPrefix(t, "Executor:"):
			m := reExec.FindStringSubmatch(raw)
			if m == nil {
				return nil, fail(n, "garbled Executor line (want 'Executor: DMA 00 | X GB/s | Y ms | N bytes | ...')", ErrTruncated)
			}
			l, err := ngLine(testNum, "Executor", m[1], m[2], m[3], m[4], m[5])
			if err != nil {
				return nil, fail(n, err.Error(), nil)
			}
			res.Lines = append(res.Lines, l)
			sawNG = true
		case strings.HasPrefix(t, "Transfer "):
			m := reXfer.FindStringSubmatch(raw)
			if m == nil {
				return nil, fail(n, "garbled Transfer line (want 'Transfer 00 | X GB/s | Y ms | N bytes | SRC -> EXE -> DST')", ErrTruncated)
			}
			l, err := ngLine(testNum, "Transfer", m[1], m[2], m[3], m[4], m[5]+" -> "+m[6]+" -> "+m[7])
			if err != nil {
				return nil, fail(n, err.Error(), nil)
			}
			l.Src, l.Dst = m[5], m[7]
			res.Lines = append(res.Lines, l)
			sawNG = true
		case strings.HasPrefix(t, "Aggregate ("):
			m := reAgg.FindStringSubmatch(raw)
			if m == nil {
				return nil, fail(n, "garbled Aggregate line", ErrTruncated)
			}
			l, err := ngLine(testNum, "Aggregate", m[1], m[2], m[3], m[4], m[5])
			if err != nil {
				return nil, fail(n, err.Error(), nil)
			}
			res.Lines = append(res.Lines, l)
			sawNG = true
		case strings.HasPrefix(t, "[ERROR]"):
			return nil, fail(n, "tool reported an error: "+clip(t), nil)
		default:
			title = t
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fail(n, "cannot read output", err)
	}
	if err := closeMatrix(); err != nil {
		return nil, err
	}
	switch {
	case len(res.Matrices) > 0:
		if res.Version == "" {
			res.Version = "2.x"
		}
		if res.Unidirectional == nil && res.Bidirectional == nil {
			return nil, fail(n, "no peak bandwidth matrix (only averages)", ErrNoResults)
		}
		summarizeMatrices(res)
	case sawNG:
		res.Version = "ng"
		if last := res.Lines[len(res.Lines)-1]; last.Kind != "Aggregate" {
			return nil, fail(n, "last test has no 'Aggregate (CPU)' line: output truncated", ErrTruncated)
		}
		summarizeLines(res)
	case res.Version != "":
		return nil, fail(n, "version banner but no bandwidth matrix: output truncated (run killed?)", ErrTruncated)
	default:
		return nil, fail(n, "no bandwidth matrix and no Executor/Transfer lines: not rocm_bandwidth_test output", ErrNoResults)
	}
	return res, nil
}

func ngLine(test int, kind, name, gbs, ms, bytesS, tail string) (Line, error) {
	l := Line{Test: test, Kind: kind, Name: name, RawTails: strings.TrimSpace(tail)}
	var err error
	if l.GBs, err = strconv.ParseFloat(gbs, 64); err != nil {
		return l, fmt.Errorf("bad GB/s %q", gbs)
	}
	if l.Millis, err = strconv.ParseFloat(ms, 64); err != nil {
		return l, fmt.Errorf("bad ms %q", ms)
	}
	if l.Bytes, err = strconv.ParseInt(bytesS, 10, 64); err != nil {
		return l, fmt.Errorf("bad byte count %q", bytesS)
	}
	return l, nil
}

func maxp(cur *float64, v float64) *float64 {
	if cur == nil || v > *cur {
		return &v
	}
	return cur
}

// summarizeMatrices computes the summary figures from the unidirectional
// peak matrix, using the device list to tell CPUs from GPUs.
func summarizeMatrices(res *Result) {
	m := res.Unidirectional
	if m == nil || len(res.Devices) == 0 {
		return
	}
	gpu := map[int]bool{}
	known := map[int]bool{}
	for _, d := range res.Devices {
		gpu[d.Index] = d.GPU
		known[d.Index] = true
	}
	for i, src := range m.Devices {
		for j, dst := range m.Devices {
			c := m.Cells[i][j]
			if c == nil || !known[src] || !known[dst] {
				continue
			}
			switch {
			case gpu[src] && gpu[dst]:
				res.GPUCopyGBs = maxp(res.GPUCopyGBs, *c)
			case !gpu[src] && gpu[dst]:
				res.HostToGPUGBs = maxp(res.HostToGPUGBs, *c)
			case gpu[src] && !gpu[dst]:
				res.GPUToHostGBs = maxp(res.GPUToHostGBs, *c)
			}
		}
	}
}

// memClass classifies TransferBench memory devices ("C0", "G1", "F0G1"):
// host memory types are C (pinned), B (fine-grained host), U (unpinned);
// GPU memory types are G (coarse) and F (fine-grained). Mixed or other
// types give "".
func memClass(s string) string {
	class := ""
	for _, c := range s {
		var k string
		switch c {
		case 'C', 'B', 'U':
			k = "cpu"
		case 'G', 'F':
			k = "gpu"
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			continue
		default:
			return ""
		}
		if class != "" && class != k {
			return ""
		}
		class = k
	}
	return class
}

// summarizeLines computes the summary figures from RBT-NG Transfer lines.
func summarizeLines(res *Result) {
	for _, l := range res.Lines {
		if l.Kind != "Transfer" {
			continue
		}
		switch s, d := memClass(l.Src), memClass(l.Dst); {
		case s == "gpu" && d == "gpu":
			res.GPUCopyGBs = maxp(res.GPUCopyGBs, l.GBs)
		case s == "cpu" && d == "gpu":
			res.HostToGPUGBs = maxp(res.HostToGPUGBs, l.GBs)
		case s == "gpu" && d == "cpu":
			res.GPUToHostGBs = maxp(res.GPUToHostGBs, l.GBs)
		}
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
