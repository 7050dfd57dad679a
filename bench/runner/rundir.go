package runner

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/internal/atomicfile"
)

// Files of a run directory (see bench.Home for the layout).
const (
	runFile   = "run.json"   // bench.Run header, Cases empty; Finished set at the end
	planFile  = "plan.json"  // the expanded cases, so --resume runs exactly the same ones
	suiteFile = "suite.yaml" // the suite file as given, for provenance
	casesDir  = "cases"
	logsDir   = "logs"
)

// ErrNoUnfinished is returned by LatestUnfinished when every run finished.
var ErrNoUnfinished = errors.New("no unfinished run to resume")

// RunDir is one run's directory: header, plan, one file per finished case
// and the logs of every case. Every file is written atomically.
type RunDir struct {
	Path string
	// lock is held while this process runs the run (CreateRun, Runner.Resume).
	lock *RunLock
}

// Unlock releases the run's lock, if this process holds it.
func (d *RunDir) Unlock() {
	if d != nil {
		d.lock.Unlock()
	}
}

// WriteFileAtomic writes data to path atomically (see internal/atomicfile):
// a reader or a resume after kill -9 sees the old file or the new one.
func WriteFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o644)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// NewRunID names a run by its UTC start time and suite.
func NewRunID(now time.Time, suiteName string) string {
	return now.UTC().Format("20060102-150405") + "-" + suiteName
}

// FleetRunID names a new run so that runners sharing one results database
// (PostgreSQL) never produce the same id, even when they start the same
// suite in the same second: NewRunID's UTC time and suite first (ids still
// sort by time and match date prefixes such as 20261126), then the host's
// short name and eight random hex digits (two processes on one host with
// different HALOFORGE_HOMEs, or hosts whose short names agree), e.g.
// 20261126-130405-smoke-strix1-3fa9c2d0. The results store refuses to merge
// two runs that still drew the same id (store.ErrIDTaken).
// Older ids (NewRunID's form) stay valid everywhere.
func FleetRunID(now time.Time, suiteName, hostname string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	id := NewRunID(now, suiteName)
	if h := hostTag(hostname); h != "" {
		id += "-" + h
	}
	return id + "-" + hex.EncodeToString(b[:])
}

// hostTag is a host name's first label, lower-cased, reduced to [a-z0-9-]
// and at most 20 characters.
func hostTag(hostname string) string {
	h, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(hostname)), ".")
	var b strings.Builder
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		}
		if b.Len() == 20 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// CreateRun makes the directory of a new run and writes its header, plan and
// suite. If the id is taken (two runs in one second) a numeric suffix is added.
func CreateRun(home string, run *bench.Run, raw []byte, cases []suite.Case) (*RunDir, error) {
	base := run.ID
	for i := 2; ; i++ {
		dir := bench.RunDir(home, run.ID)
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, fmt.Errorf("create runs directory: %w", err)
		}
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, os.ErrExist) {
			run.ID = fmt.Sprintf("%s-%d", base, i)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create run directory: %w", err)
		}
		// Locked before run.json exists: a --resume elsewhere never sees
		// the new run unlocked.
		lock, err := LockRun(dir, run.ID)
		if err != nil {
			return nil, err
		}
		d := &RunDir{Path: dir, lock: lock}
		for _, sub := range []string{casesDir, logsDir} {
			if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
				return nil, err
			}
		}
		if err := WriteFileAtomic(SuitePath(home, run.ID), raw); err != nil {
			return nil, err
		}
		if err := writeJSON(filepath.Join(dir, planFile), cases); err != nil {
			return nil, err
		}
		return d, d.WriteHeader(*run)
	}
}

// SuitePath is the suite file a run recorded as given (CreateRun), which
// --resume and reproduce read back.
func SuitePath(home, id string) string { return filepath.Join(bench.RunDir(home, id), suiteFile) }

// OpenRun opens an existing run for resuming.
func OpenRun(home, id string) (*RunDir, bench.Run, []suite.Case, error) {
	d := &RunDir{Path: bench.RunDir(home, id)}
	var run bench.Run
	if err := readJSON(filepath.Join(d.Path, runFile), &run); err != nil {
		return nil, run, nil, fmt.Errorf("run %s: %w (list runs under %s)", id, err, filepath.Join(home, "runs"))
	}
	var cases []suite.Case
	if err := readJSON(filepath.Join(d.Path, planFile), &cases); err != nil {
		return nil, run, nil, fmt.Errorf("run %s: %w", id, err)
	}
	return d, run, cases, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// LatestUnfinished returns the id of the most recently started run that has
// no finish time.
func LatestUnfinished(home string) (string, error) {
	ents, err := os.ReadDir(filepath.Join(home, "runs"))
	if err != nil && !os.IsNotExist(err) {
		return "", err
	}
	var best string
	var bestT time.Time
	for _, e := range ents {
		var run bench.Run
		if !e.IsDir() || readJSON(filepath.Join(home, "runs", e.Name(), runFile), &run) != nil {
			continue
		}
		if run.Finished.IsZero() && (best == "" || run.Started.After(bestT)) {
			best, bestT = run.ID, run.Started
		}
	}
	if best == "" {
		return "", ErrNoUnfinished
	}
	return best, nil
}

// WriteHeader writes run.json (without cases).
func (d *RunDir) WriteHeader(run bench.Run) error {
	run.Cases = nil
	return writeJSON(filepath.Join(d.Path, runFile), run)
}

// caseName is the file name stem of a case: its index and slug.
func caseName(c suite.Case) string { return fmt.Sprintf("%03d-%s", c.Index, c.Slug()) }

// LogPaths are the stdout and stderr log paths of a case, relative to the run directory.
func LogPaths(c suite.Case) (stdout, stderr string) {
	n := caseName(c)
	return filepath.Join(logsDir, n+".stdout.log"), filepath.Join(logsDir, n+".stderr.log")
}

// WriteCase records a finished case atomically.
func (d *RunDir) WriteCase(c suite.Case, r bench.CaseResult) error {
	return writeJSON(filepath.Join(d.Path, casesDir, caseName(c)+".json"), r)
}

// Results returns the recorded results by case index. Temporary files of an
// interrupted write are removed.
func (d *RunDir) Results() (map[int]bench.CaseResult, error) {
	dir := filepath.Join(d.Path, casesDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[int]bench.CaseResult{}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		idx, _, ok := strings.Cut(name, "-")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil || !strings.HasSuffix(name, ".json") {
			continue
		}
		var r bench.CaseResult
		if err := readJSON(filepath.Join(dir, name), &r); err != nil {
			return nil, fmt.Errorf("case file corrupt (remove it to rerun that case): %w", err)
		}
		if _, dup := out[n]; dup {
			return nil, fmt.Errorf("two result files for case %d in %s: remove the stale one", n, dir)
		}
		out[n] = r
	}
	return out, nil
}

// Ordered returns results in case order.
func Ordered(m map[int]bench.CaseResult) []bench.CaseResult {
	out := make([]bench.CaseResult, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}
