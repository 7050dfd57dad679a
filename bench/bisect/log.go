package bisect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// LogVersion is the version of the log's records.
const LogVersion = 1

// Header is the first record of a bisection log: what is bisected.
type Header struct {
	Version   int       `json:"version"`
	ID        string    `json:"id"`
	Started   time.Time `json:"started"`
	GoodRun   string    `json:"good_run"`
	BadRun    string    `json:"bad_run"`
	Case      string    `json:"case"`
	Threshold float64   `json:"threshold"`
	Alpha     float64   `json:"alpha"`
	// Args are the command's flags, so --resume continues the same bisection.
	Args []string `json:"args,omitempty"`
}

// Phases of a bisection step.
const (
	PhaseEnd       = "end"       // re-measuring the good or the bad end (Key: good, bad)
	PhaseComponent = "component" // the good lock with one component moved (Key: component)
	PhaseCommit    = "commit"    // a commit of the guilty component (Key: commit hash)
)

// Step is one finished piece of work: a build (Image set or BuildError) or
// a measurement (Samples, Verdict). A resumed bisection neither rebuilds a
// step whose build is logged nor reruns a measurement that is logged.
type Step struct {
	Phase string `json:"phase"`
	Key   string `json:"key"`
	// Build
	Image      string  `json:"image,omitempty"`
	BuildSec   float64 `json:"build_sec,omitempty"`
	BuildError string  `json:"build_error,omitempty"`
	// Measurement
	Run     string    `json:"run,omitempty"` // the bench run id
	Reps    int       `json:"reps,omitempty"`
	Samples []float64 `json:"samples,omitempty"`
	RunErr  string    `json:"run_error,omitempty"`
	Verdict Verdict   `json:"verdict,omitempty"`
	Time    time.Time `json:"time"`
}

// IsBuild reports whether the step records a build.
func (s Step) IsBuild() bool { return s.Image != "" || s.BuildError != "" }

// Result is the last record of a finished bisection.
type Result struct {
	Component  string   `json:"component"`
	FirstBad   *Commit  `json:"first_bad,omitempty"`
	Candidates []Commit `json:"candidates,omitempty"`
	Message    string   `json:"message"`
}

// record is one line of the log.
type record struct {
	Header *Header `json:"header,omitempty"`
	Step   *Step   `json:"step,omitempty"`
	Result *Result `json:"result,omitempty"`
	// Range is the commit range of the guilty component, once known.
	Range *Range `json:"range,omitempty"`
}

// Range is the guilty component's commits, oldest (the good pin) first.
type Range struct {
	Component string   `json:"component"`
	Commits   []Commit `json:"commits"`
}

// Log is a bisection's state as read back from its file.
type Log struct {
	Path   string
	Header Header
	Steps  []Step
	Range  *Range
	Result *Result
}

// Create starts a log at path with its header; an existing log is an error
// (resume it or remove it).
func Create(path string, h Header) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%s exists: continue that bisection with --resume, or remove it", path)
		}
		return nil, err
	}
	_ = f.Close()
	h.Version = LogVersion
	l := &Log{Path: path, Header: h}
	return l, l.append(record{Header: &h})
}

// Load reads a log. A last line cut short by a crash is dropped from the
// file (its step is redone); any other bad line is an error naming the
// file and line.
func Load(path string) (*Log, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	l := &Log{Path: path}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n, haveHeader := 0, false
	lines := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		lines++
	}
	for sc.Scan() {
		n++
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			if n == lines && len(data) > 0 && data[len(data)-1] != '\n' {
				// a write torn by a crash: drop it so the next record starts a line
				if err := os.Truncate(path, int64(bytes.LastIndexByte(data, '\n')+1)); err != nil {
					return nil, fmt.Errorf("%s: dropping the torn last line: %w", path, err)
				}
				break
			}
			return nil, fmt.Errorf("%s:%d: %v: the bisection log is damaged; remove the line or start again without --resume", path, n, err)
		}
		switch {
		case r.Header != nil:
			if haveHeader {
				return nil, fmt.Errorf("%s:%d: a second header: the file holds two bisections; start again without --resume", path, n)
			}
			if r.Header.Version != LogVersion {
				return nil, fmt.Errorf("%s:%d: log version %d, this haloforge reads %d", path, n, r.Header.Version, LogVersion)
			}
			l.Header, haveHeader = *r.Header, true
		case !haveHeader:
			return nil, fmt.Errorf("%s:%d: a record before the header: not a bisection log", path, n)
		case r.Step != nil:
			l.Steps = append(l.Steps, *r.Step)
		case r.Range != nil:
			l.Range = r.Range
		case r.Result != nil:
			l.Result = r.Result
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !haveHeader {
		return nil, fmt.Errorf("%s: empty or without a header: not a bisection log", path)
	}
	return l, nil
}

// AddStep appends a finished step (written and synced before it counts).
func (l *Log) AddStep(s Step) error {
	if s.Time.IsZero() {
		s.Time = time.Now().UTC()
	}
	if err := l.append(record{Step: &s}); err != nil {
		return err
	}
	l.Steps = append(l.Steps, s)
	return nil
}

// SetRange records the guilty component's commit range.
func (l *Log) SetRange(r Range) error {
	if err := l.append(record{Range: &r}); err != nil {
		return err
	}
	l.Range = &r
	return nil
}

// Finish records the result.
func (l *Log) Finish(r Result) error {
	if err := l.append(record{Result: &r}); err != nil {
		return err
	}
	l.Result = &r
	return nil
}

// Build returns the logged build of key in phase.
func (l *Log) Build(phase, key string) (Step, bool) {
	for i := len(l.Steps) - 1; i >= 0; i-- {
		if s := l.Steps[i]; s.Phase == phase && s.Key == key && s.IsBuild() {
			return s, true
		}
	}
	return Step{}, false
}

// Measurements returns the logged measurements of key in phase, oldest first.
func (l *Log) Measurements(phase, key string) []Step {
	var out []Step
	for _, s := range l.Steps {
		if s.Phase == phase && s.Key == key && !s.IsBuild() {
			out = append(out, s)
		}
	}
	return out
}

// Verdicts are the logged verdicts of the commit phase by commit hash (the
// last measurement of each commit with a verdict, and build failures as Skip).
func (l *Log) Verdicts(phase string) map[string]Verdict {
	v := map[string]Verdict{}
	for _, s := range l.Steps {
		if s.Phase != phase {
			continue
		}
		switch {
		case s.BuildError != "":
			v[s.Key] = Skip
		case s.Verdict != "":
			v[s.Key] = s.Verdict
		}
	}
	return v
}

func (l *Log) append(r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(l.Path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// WriteTable prints every measured step: what, t/s mean ± std, repetitions,
// verdict and build time.
func (l *Log) WriteTable(w io.Writer) {
	_, _ = fmt.Fprintf(w, "| Step | Phase | What | t/s | Reps | Verdict | Build |\n|---:|---|---|---:|---:|---|---:|\n")
	n := 0
	builds := map[string]Step{}
	subject := map[string]string{}
	if l.Range != nil {
		for _, c := range l.Range.Commits {
			subject[c.Hash] = c.Short() + " " + c.Subject
		}
	}
	for _, s := range l.Steps {
		if s.IsBuild() {
			builds[s.Phase+"\x00"+s.Key] = s
			if s.BuildError != "" {
				n++
				_, _ = fmt.Fprintf(w, "| %d | %s | %s | — | — | %s (build failed) | %s |\n", n, s.Phase, what(s, subject), Skip, secs(s.BuildSec))
			}
			continue
		}
		n++
		ts := "—"
		if len(s.Samples) > 0 {
			m, sd := MeanStd(s.Samples)
			ts = fmt.Sprintf("%.2f ± %.2f", m, sd)
		}
		v := string(s.Verdict)
		if s.RunErr != "" {
			v += " (" + s.RunErr + ")"
		}
		b := builds[s.Phase+"\x00"+s.Key]
		_, _ = fmt.Fprintf(w, "| %d | %s | %s | %s | %d | %s | %s |\n", n, s.Phase, what(s, subject), ts, s.Reps, v, secs(b.BuildSec))
	}
}

func what(s Step, subject map[string]string) string {
	if t, ok := subject[s.Key]; ok {
		return t
	}
	return s.Key
}

func secs(s float64) string {
	if s <= 0 {
		return "—"
	}
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}
