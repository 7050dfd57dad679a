// Package session is the workflow of one `haloforge bench` invocation: load
// the suite (or reopen a run to resume), make sure its images and models are
// there, run the cases through the runner into the run directory and the
// results store, and print the table. The command in cmd/haloforge only
// parses flags and calls Run; reproduce reuses the same workflow with the
// original run's cases.
package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/models"
	"github.com/haloforge/haloforge/bench/runner"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/recipes"
)

// RunIDPattern is what a run id may look like: it names a directory.
var RunIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Options are one bench invocation's choices (the command's flags).
type Options struct {
	Home            string
	Suite           string // built-in suite name or suite file
	Full            bool
	Timeout         time.Duration
	Resume          string // run id, "latest", or "" for a new run
	List            bool
	Bar             bool // draw a progress bar (a terminal) instead of lines
	NoBuild         bool
	Target          string
	ContainerPrefix string
	DB              string // results database location as given (--db), resolved by Wiring.Results
	RunID           string
	// AllowModelDirs are more host directories path: models may be in.
	AllowModelDirs []string
	// GPUProbe and GPURecovery are host commands (runner.Runner).
	GPUProbe, GPURecovery string
	// Cases, when set, are run instead of the suite's expansion (reproduce).
	Cases   []suite.Case
	ReproOf string
	// Lock, when set, is the stack the run's images belong to (reproduce:
	// the original run's lock); else the lock of the plan the suite's
	// images were resolved through, else the lock in effect here.
	Lock *recipes.Lock
	// Images are --image BACKEND=REF: the image each backend runs instead
	// of the suite's.
	Images map[string]string
	// Stack makes the plan suite image aliases resolve through (see
	// ResolveImages) for the suite's profile; nil resolves none.
	Stack func(profile string) (*StackImages, error)

	Out, Err io.Writer
}

// Results is the results store a session records into.
type Results interface {
	runner.Recorder
	Close() error
}

// Wiring are the parts of haloforge a session uses but does not own: the
// results store, the build plan's provenance, host facts, the tiny model
// generator and the memory sampler.
type Wiring struct {
	Results func(ctx context.Context, where string) (Results, error)
	// Provenance returns the stack the images belong to (from lock, or the
	// lock in effect when nil), and the lock's bytes to keep with the run.
	Provenance func(target, profile string, lock *recipes.Lock) (bench.StackInfo, string, map[string][]byte, error)
	Host       func(ctx context.Context, d *client.Client) bench.HostFacts
	Tiny       models.TinyWriter
	Sampler    func() runner.MemorySampler
}

// CasesFailedError is returned when the run finished but some case produced
// no numbers (exit status 2).
type CasesFailedError struct{ Failed, Total int }

func (e *CasesFailedError) Error() string {
	return fmt.Sprintf("%d of %d cases did not produce numbers (see the table and the logs)", e.Failed, e.Total)
}

// Run executes one bench invocation and returns the finished run (nil with
// List). A run whose cases partly failed returns the run and a
// *CasesFailedError.
func Run(ctx context.Context, o Options, w Wiring) (*bench.Run, error) {
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	errw := o.Err
	if errw == nil {
		errw = io.Discard
	}
	home := o.Home
	var s *suite.Suite
	var cases []suite.Case
	var runLock *runner.RunLock
	var err error
	if o.RunID != "" && !RunIDPattern.MatchString(o.RunID) {
		return nil, fmt.Errorf("--run-id %q: use letters, digits, '.', '_' and '-' only (it names a directory), e.g. nightly-20261126", o.RunID)
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("--timeout %s: give a positive time limit such as 10m", o.Timeout)
	}
	if o.Resume == "" {
		if s, err = suite.Load(o.Suite); err != nil {
			return nil, err
		}
		if o.Cases != nil {
			cases = o.Cases
		} else if cases, err = s.Expand(suite.Options{Timeout: o.Timeout, FullSweep: o.Full}); err != nil {
			return nil, err
		}
		if o.List && o.Cases != nil {
			return nil, ListCases(out, cases)
		}
	} else {
		if o.Resume == "latest" {
			if o.Resume, err = runner.LatestUnfinished(home); err != nil {
				return nil, fmt.Errorf("%w under %s: start a new run with haloforge bench --suite NAME", err, filepath.Join(home, "runs"))
			}
		}
		if !RunIDPattern.MatchString(o.Resume) {
			return nil, fmt.Errorf("--resume %q is not a run id (letters, digits, '.', '_' and '-'; no path): list runs under %s", o.Resume, filepath.Join(home, "runs"))
		}
		_, _, cases, err = runner.OpenRun(home, o.Resume)
		if err != nil {
			return nil, err
		}
		// Refuse a live run before touching anything of it.
		if runLock, err = runner.LockRun(bench.RunDir(home, o.Resume), o.Resume); err != nil {
			return nil, err
		}
		defer runLock.Unlock()
		raw, err := os.ReadFile(runner.SuitePath(home, o.Resume))
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", o.Resume, err)
		}
		if s, err = suite.Parse(runner.SuitePath(home, o.Resume), raw); err != nil {
			return nil, err
		}
	}

	var how map[string]Resolved
	if o.Resume == "" && o.Cases == nil {
		// A new run: pick the exact images now; the run keeps them, so
		// --resume runs the same ones.
		if cases, how, err = ResolveImages(s, cases, o.Target, o.Images, o.Stack); err != nil {
			return nil, err
		}
		if o.List {
			return nil, ListCases(out, cases)
		}
	}
	for id, h := range runner.LiveRuns(home) {
		_, _ = fmt.Fprintf(errw, "warning: run %s is running in this home at the same time (%s): both measure on this machine, so each disturbs the other's numbers\n", id, h)
	}

	docker, err := runner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = docker.Close() }()

	// Containers of dead runs (kill -9 of their haloforge) keep running
	// past their time limit and take CPU and GPU from this run's cases.
	orphans, err := runner.ReapOrphans(ctx, docker, home)
	if err != nil {
		_, _ = fmt.Fprintf(errw, "warning: %v: could not look for orphaned case containers\n", err)
	}
	for _, o := range orphans {
		_, _ = fmt.Fprintf(errw, "%s\n", o)
	}

	images, err := EnsureImages(ctx, docker, home, cases, how, o.NoBuild, errw)
	if err != nil {
		return nil, err
	}
	cache := &models.Cache{Dir: bench.ModelDir(home), Tiny: w.Tiny, AllowDirs: o.AllowModelDirs,
		Log: func(format string, a ...any) { _, _ = fmt.Fprintf(errw, format+"\n", a...) }}
	binds, modelInfo, err := cache.Prepare(ctx, s, cases)
	if err != nil {
		return nil, err
	}

	db, err := w.Results(ctx, o.DB)
	if err != nil {
		return nil, fmt.Errorf("results database: %w", err)
	}
	defer func() { _ = db.Close() }()

	var progress runner.Progress = &runner.Lines{W: out}
	if o.Bar {
		progress = &runner.Bar{W: out}
	}
	r := &runner.Runner{
		Docker: docker, Home: home, Binds: binds, NamePrefix: o.ContainerPrefix,
		Recorder: db, Progress: progress, Lock: runLock,
		KernelLog: runner.KmsgLog{}, GPUProbe: o.GPUProbe, GPURecovery: o.GPURecovery,
	}
	if w.Sampler != nil {
		r.NewSampler = w.Sampler
	}
	var run *bench.Run
	if o.Resume != "" {
		run, err = r.Resume(ctx, o.Resume)
	} else {
		hdr := bench.Run{
			ID:      o.RunID,
			Suite:   s.Name,
			Target:  o.Target,
			Images:  images,
			Models:  modelInfo,
			ReproOf: o.ReproOf,
		}
		if w.Host != nil {
			hdr.Host = w.Host(ctx, docker)
		}
		lock := o.Lock
		if lock == nil {
			lock = lockOf(how)
		}
		stack, digest, files, perr := w.Provenance(o.Target, s.Profile, lock)
		if perr != nil {
			return nil, fmt.Errorf("recording the stack's provenance: %w", perr)
		}
		hdr.Stack, hdr.LockDigest = &stack, digest
		if st := stackOf(how); st != nil && st.Info != nil && o.Lock == nil {
			// The plan the images came from, --source overrides included.
			hdr.Stack = st.Info
		}
		r.Files = files
		run, err = r.Start(ctx, hdr, s.Raw, cases)
	}
	if err != nil {
		return nil, interrupted(err)
	}
	_, _ = fmt.Fprintln(out)
	if err := runner.WriteTable(out, run); err != nil {
		return run, err
	}
	_, _ = fmt.Fprintf(out, "\nrun %s: %d cases, results in %s\n", run.ID, len(run.Cases), bench.RunDir(home, run.ID))
	if p, ok := db.(interface{ Path() string }); ok && !strings.Contains(p.Path(), "://") {
		if _, err := os.Stat(p.Path()); errors.Is(err, os.ErrNotExist) {
			return run, fmt.Errorf("the results database %s was removed while the run was going: run %s is complete on disk in %s; put it back into a database with haloforge db rebuild", p.Path(), run.ID, bench.RunDir(home, run.ID))
		}
	}
	if n := runner.Failed(run); n > 0 {
		return run, &CasesFailedError{Failed: n, Total: len(run.Cases)}
	}
	return run, nil
}

func interrupted(err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted: finished cases are saved; continue with haloforge bench --resume")
	}
	return err
}

// ListCases prints the cases: index, id, image, time limit and argv.
func ListCases(w io.Writer, cases []suite.Case) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "#\tcase\timage\ttimeout\tcommand")
	for _, c := range cases {
		_, _ = fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", c.Index, c.ID, c.Image, c.Timeout, strings.Join(c.Argv, " "))
		if c.RPC != nil {
			for i, w := range c.RPC.Workers {
				_, _ = fmt.Fprintf(tw, "\t  rpc%d %s (%s) %s\t%s\t\tggml RPC server on port %d\n", i, w.Host, w.Endpoint.Docker, w.Backend, w.Image, w.Port)
			}
		}
	}
	return tw.Flush()
}

// Original opens a finished run to reproduce: its header and expanded cases.
func Original(home, id string) (bench.Run, []suite.Case, error) {
	_, orig, cases, err := runner.OpenRun(home, id)
	if err != nil {
		return orig, nil, err
	}
	if orig.Finished.IsZero() {
		return orig, nil, fmt.Errorf("run %s did not finish: finish it with haloforge bench --resume %s before reproducing it", id, id)
	}
	return orig, cases, nil
}

// ImageDrift reports image labels (package versions, component commits)
// that differ between the original run and the reproduction.
func ImageDrift(out io.Writer, orig, next bench.Run) {
	n := 0
	for ref, a := range orig.Images {
		b, ok := next.Images[ref]
		if !ok {
			continue
		}
		for k, v := range a.Labels {
			if w := b.Labels[k]; w != v && !strings.Contains(k, "created") && !strings.Contains(k, "build-date") {
				_, _ = fmt.Fprintf(out, "image  %s: label %s was %q, now %q\n", ref, k, v, w)
				n++
			}
		}
	}
	if n == 0 {
		_, _ = fmt.Fprintln(out, "images same labels as the original run")
	}
}

// SameCases checks the reproduction ran exactly the original cases: the
// same ids, images, argv and environment, in the same order.
func SameCases(want []suite.Case, home, id string) error {
	_, _, got, err := runner.OpenRun(home, id)
	if err != nil {
		return err
	}
	if len(got) != len(want) {
		return fmt.Errorf("reproduction %s ran %d cases, the original %d", id, len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.ID != g.ID || w.Image != g.Image || !slices.Equal(w.Argv, g.Argv) || !maps.Equal(w.Env, g.Env) {
			return fmt.Errorf("reproduction %s case %d is %s %v, the original ran %s %v", id, i, g.ID, g.Argv, w.ID, w.Argv)
		}
	}
	return nil
}

// SuiteFile is the suite file a run recorded as given.
func SuiteFile(home, id string) string { return runner.SuitePath(home, id) }
