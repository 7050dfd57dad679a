package mamf

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
	"time"
)

// ErrTruncated marks an output without the final best-outcomes block.
var ErrTruncated = errors.New("output is truncated")

// Error locates a problem in a mamf-finder output. For a truncated output
// Progress holds the best values from the progress lines (partial data).
type Error struct {
	Name     string
	Line     int
	Msg      string
	Err      error
	Progress *Progress
}

func (e *Error) Error() string {
	loc := e.Name
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.Name, e.Line)
	}
	if e.Err != nil && e.Msg == "" {
		return loc + ": mamf-finder: " + e.Err.Error()
	}
	redundant := e.Err == ErrTruncated && strings.Contains(e.Msg, "truncated")
	if e.Err != nil && !redundant {
		return loc + ": mamf-finder: " + e.Msg + ": " + e.Err.Error()
	}
	return loc + ": mamf-finder: " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

var (
	reDtype    = regexp.MustCompile(`^\*\* Dtype: (\S+)`)
	reDevice   = regexp.MustCompile(`\bname='([^']*)'`)
	reArch     = regexp.MustCompile(`\bgcnArchName='([^']*)'`)
	reTorch    = regexp.MustCompile(`^torch=(\S+)`)
	reVersion  = regexp.MustCompile(`^benchmark version: (\d+)`)
	reTried    = regexp.MustCompile(`Tried\s+(\d+) shapes => the best outcomes were:\s*$`)
	reBest     = regexp.MustCompile(`^(mean|median|max):\s+(\d+(?:\.\d+)?) TFLOPS @ (\d+)x(\d+)x(\d+) \(MxNxK\)\s*$`)
	reHeadline = regexp.MustCompile(`^(MAMF|MSMF) \([^)]*\):\s+(\d+(?:\.\d+)?) TFLOPS @ (\d+)x(\d+)x(\d+) \(MxNxK\)`)
	reArith    = regexp.MustCompile(`^arithmetic mean:\s+(\d+(?:\.\d+)?) TFLOPS`)
	reGeomean  = regexp.MustCompile(`^(?:geomean|geometric mean):\s+(\d+(?:\.\d+)?) TFLOPS`)
	reElapsed  = regexp.MustCompile(`^Elapsed time: (?:(\d+) days?, )?(\d+):(\d\d):(\d\d)(?:\.\d+)?\s*$`)
	reProgress = regexp.MustCompile(`^\s*(\d+) \|\s+(\d+(?:\.\d+)?)\(mean\)\s+(\d+(?:\.\d+)?)\(median\)\s+(\d+(?:\.\d+)?)\(max\) @ (\d+)x(\d+)x(\d+)\s+\|`)
)

// MaxInput bounds the output read (a full sweep is a few hundred KiB).
const MaxInput = 64 << 20

// Parse reads a mamf-finder output. name (case id or file path) is used in
// errors.
func Parse(r io.Reader, name string) (*Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read mamf-finder output: %w", name, err)
	}
	if len(data) > MaxInput {
		return nil, &Error{Name: name, Msg: fmt.Sprintf("output larger than %d bytes", MaxInput)}
	}
	return ParseBytes(data, name)
}

// ParseBytes is Parse on a byte slice.
func ParseBytes(data []byte, name string) (*Result, error) {
	var (
		res      Result
		prog     = Progress{Partial: true}
		tried    int // line of the Tried block, 0 until seen
		seen     = map[string]bool{}
		elapsed  bool
		n        int
		sawDtype bool
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	fail := func(msg string) error { return &Error{Name: name, Line: n, Msg: msg} }
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		// mamf-finder prints "\033[K" before the final block; strip escapes.
		line = strings.ReplaceAll(line, "\x1b[K", "")
		t := strings.TrimSpace(line)
		if tried == 0 {
			switch {
			case reDtype.MatchString(t):
				res.Dtype = reDtype.FindStringSubmatch(t)[1]
				sawDtype = true
			case strings.Contains(t, "DeviceProperties(") && reDevice.MatchString(t):
				res.Device = reDevice.FindStringSubmatch(t)[1]
				if m := reArch.FindStringSubmatch(t); m != nil {
					res.Arch = m[1]
				}
			case reTorch.MatchString(t):
				res.Torch = reTorch.FindStringSubmatch(t)[1]
			case reVersion.MatchString(t):
				res.Version, _ = strconv.Atoi(reVersion.FindStringSubmatch(t)[1])
			case reProgress.MatchString(line):
				m := reProgress.FindStringSubmatch(line)
				var v [3]float64
				for i := range v {
					v[i], _ = strconv.ParseFloat(m[2+i], 64)
				}
				mm, _ := strconv.Atoi(m[5])
				nn, _ := strconv.Atoi(m[6])
				kk, _ := strconv.Atoi(m[7])
				prog.Done++
				for i, b := range []*Shape{&prog.Mean, &prog.Median, &prog.Max} {
					if v[i] > b.TFLOPS {
						*b = Shape{TFLOPS: v[i], M: mm, N: nn, K: kk}
					}
				}
			case reTried.MatchString(t):
				tried = n
				res.Shapes, _ = strconv.Atoi(reTried.FindStringSubmatch(t)[1])
				res.Interrupted = res.Interrupted || strings.Contains(t, "^C")
			case strings.HasPrefix(t, "^C"):
				res.Interrupted = true // the terminal echoes Ctrl-C before mamf-finder's SIGINT handler prints the block
			}
			continue
		}
		switch {
		case reBest.MatchString(t):
			m := reBest.FindStringSubmatch(t)
			if seen[m[1]] {
				return nil, fail("repeated " + m[1] + ": line")
			}
			seen[m[1]] = true
			s, err := shape(m[2:])
			if err != "" {
				return nil, fail(err)
			}
			switch m[1] {
			case "mean":
				res.Mean = s
			case "median":
				res.Median = s
			case "max":
				res.Max = s
			}
		case reHeadline.MatchString(t):
			m := reHeadline.FindStringSubmatch(t)
			if seen[m[1]] {
				return nil, fail("repeated " + m[1] + " line")
			}
			seen[m[1]] = true
			s, err := shape(m[2:6])
			if err != "" {
				return nil, fail(err)
			}
			if m[1] == "MAMF" {
				res.MAMF = &s
			} else {
				res.MSMF = &s
			}
		case reArith.MatchString(t):
			a, err := strconv.ParseFloat(reArith.FindStringSubmatch(t)[1], 64)
			if err != nil || math.IsInf(a, 0) {
				return nil, fail("garbled arithmetic mean line")
			}
			res.ArithMeanTFLOPS = &a
		case reGeomean.MatchString(t):
			g, err := strconv.ParseFloat(reGeomean.FindStringSubmatch(t)[1], 64)
			if err != nil || math.IsInf(g, 0) {
				return nil, fail("garbled geomean line")
			}
			res.GeomeanTFLOPS = &g
		case strings.HasPrefix(t, "Elapsed time:"):
			m := reElapsed.FindStringSubmatch(t)
			if m == nil {
				return nil, fail("garbled 'Elapsed time: H:MM:SS' line")
			}
			d, _ := strconv.Atoi("0" + m[1])
			h, _ := strconv.Atoi(m[2])
			mi, _ := strconv.Atoi(m[3])
			s, _ := strconv.Atoi(m[4])
			if mi > 59 || s > 59 || d > 10000 || h > 1000000 {
				return nil, fail("garbled elapsed time")
			}
			res.Elapsed = time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second
			elapsed = true
		case strings.HasPrefix(t, "mean:") || strings.HasPrefix(t, "median:") || strings.HasPrefix(t, "max:") ||
			strings.HasPrefix(t, "MAMF (") || strings.HasPrefix(t, "MSMF ("):
			return nil, fail(fmt.Sprintf("garbled best-outcome line %q: want 'X TFLOPS @ MxNxK (MxNxK)'", clip(t)))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{Name: name, Line: n, Msg: "cannot read output", Err: err}
	}
	if tried == 0 {
		e := &Error{Name: name, Line: n, Err: ErrTruncated}
		if prog.Done > 0 {
			p := prog
			e.Progress = &p
			e.Msg = fmt.Sprintf("no final 'Tried N shapes' block (run killed?); %d shapes measured; partial best so far %.1f TFLOPS max @ %dx%dx%d (output truncated)", prog.Done, prog.Max.TFLOPS, prog.Max.M, prog.Max.N, prog.Max.K)
		} else if !sawDtype {
			e.Msg, e.Err = "not mamf-finder output (no '** Dtype:' header and no final 'Tried N shapes' block)", nil
		} else {
			e.Msg = "no final 'Tried N shapes' block and no progress line: the sweep never measured a shape"
		}
		return nil, e
	}
	want := []string{"mean", "median", "max"}
	if seen["MAMF"] || seen["MSMF"] {
		// Newest format: MAMF/MSMF headlines replace mean/median/max.
		want = []string{"MAMF", "MSMF"}
		res.Absent = []string{"mean", "median", "max"}
	}
	for _, k := range want {
		if !seen[k] {
			return nil, &Error{Name: name, Line: n, Msg: fmt.Sprintf("final block (line %d) lacks the %q line: output truncated", tried, k), Err: ErrTruncated}
		}
	}
	if !elapsed {
		return nil, &Error{Name: name, Line: n, Msg: "no 'Elapsed time:' line after the final block: output truncated", Err: ErrTruncated}
	}
	if res.Shapes <= 0 {
		return nil, &Error{Name: name, Line: tried, Msg: "final block says 0 shapes were tried: nothing was measured"}
	}
	if res.Dtype == "" {
		return nil, &Error{Name: name, Line: 1, Msg: "no '** Dtype:' header: not a complete mamf-finder output"}
	}
	return &res, nil
}

func shape(m []string) (Shape, string) {
	f, err := strconv.ParseFloat(m[0], 64)
	if err != nil || math.IsInf(f, 0) {
		return Shape{}, "bad TFLOPS value " + m[0]
	}
	var d [3]int
	for i := range d {
		v, err := strconv.Atoi(m[1+i])
		if err != nil || v <= 0 {
			return Shape{}, "bad shape dimension " + m[1+i]
		}
		d[i] = v
	}
	return Shape{TFLOPS: f, M: d[0], N: d[1], K: d[2]}, ""
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// str renders a shape as mamf-finder's progress lines do: "(max) @ MxNxK".
func (s Shape) str() string { return fmt.Sprintf("%.1f(max) @ %dx%dx%d", s.TFLOPS, s.M, s.N, s.K) }
