package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"dagger.io/dagger"
	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/bisect"
	"github.com/haloforge/haloforge/bench/report"
	"github.com/haloforge/haloforge/bench/session"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/images"
	"github.com/haloforge/haloforge/internal/mirror"
	"github.com/haloforge/haloforge/recipes"
)

func init() { addCommand(newBisectCmd()) }

type bisectOpts struct {
	good, bad   string
	caseID      string
	test        string
	component   string
	sources     []string
	mirror      string
	maxSteps    int
	resume      bool
	threshold   string
	alpha       float64
	reps        int
	maxReps     int
	image       string
	base        string
	baseTarball string
	engine      string
	jobs        int
	plain       bool
}

func newBisectCmd() *cobra.Command {
	var o bisectOpts
	cmd := &cobra.Command{
		Use:   "bisect --good RUN --bad RUN",
		Short: "Find the component and the commit that made a case slower between two runs",
		Long: `bisect finds what made a llama-bench case slower between two stored runs:

  1. it picks the case (--case, else the largest regression compare finds) and
     checks compare judges it a regression (threshold and Welch's t-test, as
     ` + "`haloforge compare`" + `); then it rebuilds both ends from the runs' own locks
     and re-measures them here: if the regression does not reproduce, it stops;
  2. it diffs the two locks; when several components moved, it builds the
     good lock with one component moved to its bad pin at a time, cheapest
     rebuild first, until one is slow: the guilty component;
  3. it lists that component's first-parent commits between the two pins,
     from a local git repository (--source COMPONENT=DIR) or a mirror of bare
     repositories (--mirror DIR), and binary-searches them: each step builds
     the commit (a git archive of it, as a --source tree) through the same
     pipeline as haloforge build, reruns the case and classifies it against
     both ends: good, bad, unclear (measured again with more repetitions,
     then skipped) or skipped when it does not build, like git bisect skip;
  4. it prints the first bad commit with its subject and author date and the
     table of every step, or, when skipped commits hide it, the commits one of
     which is the first bad one.

Every finished build and measurement is appended to
$HALOFORGE_HOME/bisect/ID/log.jsonl as it finishes: after Ctrl-C or a crash,
the same command with --resume continues without rebuilding or rerunning any
finished step. Images are exported as haloforge-bisect/IMAGE:ID-KEY.

Builds need the dagger CLI and an engine as haloforge build does (--engine,
$HALOFORGE_ENGINE); the case runs on the local Docker daemon.

Examples:
  haloforge bisect --good 20261120-020000-nightly --bad 20261121-020000-nightly \
      --source llama.cpp=$HOME/src/llama.cpp
  haloforge bisect --good latest~1 --bad latest --case llama/tiny-q4_0/cpu/fa0/pp64-tg16 --test pp64 \
      --mirror /srv/haloforge-mirror --base-tarball trixie.tar
  haloforge bisect --good latest~1 --bad latest --source llama.cpp=./llama.cpp --resume

Exit status: 0 a first bad commit (or guilty component) found, 3 no single
guilty commit or component (the message says which ones remain), 1 the
regression does not reproduce or bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			b, err := newBisector(cmd, o)
			if err != nil {
				return err
			}
			defer b.close()
			return b.run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.good, "good", "", "the run before the regression (run id, unique prefix, latest~N)")
	f.StringVar(&o.bad, "bad", "", "the run with the regression")
	f.StringVar(&o.caseID, "case", "", "the case id to bisect (default: the case with the largest regression)")
	f.StringVar(&o.test, "test", "", "the llama-bench test of the case (pp512, tg128, ...; default: its largest regression)")
	f.StringVar(&o.component, "component", "", "skip the component search: bisect this component's commits")
	f.StringArrayVar(&o.sources, "source", nil, "COMPONENT=DIR: a local git repository of the component to list and build its commits from (repeatable)")
	f.StringVar(&o.mirror, "mirror", "", "mirror of bare repositories (DIR/HOST/OWNER/NAME.git) to list and build commits from (default $"+mirror.EnvVar+")")
	f.IntVar(&o.maxSteps, "max-steps", 0, "stop after this many commit builds (0: until found)")
	f.BoolVar(&o.resume, "resume", false, "continue the bisection of the same --good/--bad/--case/--test from its log")
	f.StringVar(&o.threshold, "threshold", "5%", "smallest change that counts, as in compare")
	f.Float64Var(&o.alpha, "alpha", 0.05, "significance level of Welch's t-test, as in compare")
	f.IntVar(&o.reps, "reps", 5, "llama-bench repetitions per measurement")
	f.IntVar(&o.maxReps, "max-reps", 20, "repetitions an unclear step is measured up to (doubling) before it is skipped")
	f.StringVar(&o.image, "image", "", "the stack image the case runs in (default: the one whose reference the case used)")
	f.StringVar(&o.base, "base", "", "base image reference pinned by digest, as in haloforge build")
	f.StringVar(&o.baseTarball, "base-tarball", "", "base image as a docker-save/OCI tarball, as in haloforge build")
	f.StringVar(&o.engine, "engine", "", "Dagger engine to build on, as in haloforge build")
	f.IntVar(&o.jobs, "jobs", 0, "compile jobs, as in haloforge build")
	f.BoolVar(&o.plain, "plain", false, "plain progress lines even on a terminal")
	return cmd
}

// bisector drives one bisection: it owns the log, the Dagger client and
// the two ends' measurements.
type bisector struct {
	cmd       *cobra.Command
	o         bisectOpts
	out, errw io.Writer
	home      string
	stats     bisect.Stats
	reps      bisect.Repetitions

	goodRun, badRun bench.Run
	key             report.CaseKey
	kase            suite.Case
	goodLock        *recipes.Lock
	badLock         *recipes.Lock
	set             *recipes.Set
	target, profile string
	repos           map[string]string // component -> local git repository
	gm              *images.GitMirror
	mirror          mirror.Mirror
	haveMirror      bool

	log    *bisect.Log
	dir    string
	client *dagger.Client
}

func (b *bisector) close() {
	if b.client != nil {
		_ = b.client.Close()
	}
}

// bisectID names a bisection by what it bisects, so --resume finds it.
func bisectID(good, bad, caseID, test, component string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{good, bad, caseID, test, component}, "\x00")))
	return "bisect-" + hex.EncodeToString(sum[:])[:12]
}

func newBisector(cmd *cobra.Command, o bisectOpts) (*bisector, error) {
	if o.good == "" || o.bad == "" {
		return nil, errors.New("bisect needs --good RUN and --bad RUN: the runs before and with the regression (see haloforge history)")
	}
	th, err := parsePercent(o.threshold)
	if err != nil {
		return nil, err
	}
	if o.alpha <= 0 || o.alpha >= 1 {
		return nil, fmt.Errorf("bad --alpha %v: give a significance level between 0 and 1, e.g. 0.05", o.alpha)
	}
	if o.reps < 2 {
		return nil, fmt.Errorf("bad --reps %d: Welch's t-test needs at least 2 repetitions per measurement", o.reps)
	}
	if o.maxReps < o.reps {
		return nil, fmt.Errorf("bad --max-reps %d: it must be at least --reps (%d)", o.maxReps, o.reps)
	}
	if o.maxSteps < 0 {
		return nil, fmt.Errorf("bad --max-steps %d: give 0 (no limit) or more", o.maxSteps)
	}
	b := &bisector{cmd: cmd, o: o, out: cmd.OutOrStdout(), errw: cmd.ErrOrStderr(), home: bench.Home(),
		stats: bisect.Stats{Threshold: th, Alpha: o.alpha}, reps: bisect.Repetitions{Min: o.reps, Max: o.maxReps},
		repos: map[string]string{}}
	srcs, err := recipes.ParseSourceFlags(o.sources)
	if err != nil {
		return nil, err
	}
	for _, s := range srcs {
		if err := bisect.IsRepo(s.Dir); err != nil {
			return nil, fmt.Errorf("--source %s=%s: not a git repository (%v): bisect lists the commits between the pins from it", s.Component, s.Dir, err)
		}
		b.repos[s.Component] = s.Dir
	}
	if m, ok := mirror.FromEnv(o.mirror); ok {
		if err := m.Open(); err != nil {
			return nil, err
		}
		b.mirror, b.haveMirror = m, true
		b.gm = &images.GitMirror{Mirror: m, CacheDir: filepath.Join(b.home, "cache", "sources")}
	}
	return b, nil
}

func (b *bisector) progress(format string, args ...any) {
	_, _ = fmt.Fprintf(b.out, "bisect: "+format+"\n", args...)
}

func (b *bisector) run(ctx context.Context) error {
	if err := b.load(ctx); err != nil {
		return err
	}
	b.progress("log %s", b.log.Path)
	moves, _ := bisect.Diff(b.goodLock, b.badLock)
	// a local repository must hold the pins it builds, before any build
	for _, m := range moves {
		repo, ok := b.repos[m.Component]
		for _, c := range []string{m.Good.Commit, m.Bad.Commit} {
			if ok && c != "" && !bisect.HasCommit(repo, c) {
				return fmt.Errorf("--source %s=%s has no commit %s (pinned by run %s or %s): fetch it into that repository", m.Component, repo, c, b.goodRun.ID, b.badRun.ID)
			}
		}
	}
	d := &bisect.Driver{Exec: b, Log: b.log, Stats: b.stats, Reps: b.reps, Good: b.goodLock, Bad: b.badLock,
		Repos: b.repos, Component: b.o.component, MaxSteps: b.o.maxSteps, Cost: b.rebuildCost,
		Case: b.kase.ID + " " + b.key.Test(), Progress: b.out}
	if b.haveMirror {
		d.Mirror = b.mirror.Path
	}
	res, err := d.Run(ctx)
	var unfinished *bisect.ErrUnfinished
	if errors.As(err, &unfinished) {
		b.log.WriteTable(b.out)
		return &exitError{code: 3, err: fmt.Errorf("bisection not finished after --max-steps %d (%s): %w", b.o.maxSteps, b.log.Path, err)}
	}
	if err != nil {
		return err
	}
	return b.report(res)
}

func sideText(s *report.Side) string {
	if s == nil || s.Stat == nil {
		return "—"
	}
	return report.FormatStat(*s.Stat)
}

// load resolves the runs, picks and confirms the case from the stored
// results, and opens (or creates) the log.
func (b *bisector) load(ctx context.Context) error {
	db, err := openResults(ctx, resultsLocation("", b.home), false)
	if err != nil {
		return fmt.Errorf("results database: %w", err)
	}
	defer func() { _ = db.Close() }()
	ids := [2]string{}
	for i, ref := range []string{b.o.good, b.o.bad} {
		if ids[i], err = db.Resolve(ctx, ref); err != nil {
			return err
		}
	}
	if b.goodRun, err = db.Run(ctx, ids[0]); err != nil {
		return err
	}
	if b.badRun, err = db.Run(ctx, ids[1]); err != nil {
		return err
	}
	cmp := report.Compare(b.goodRun, b.badRun, report.CompareOptions{Threshold: b.stats.Threshold, Alpha: b.stats.Alpha})
	d, err := pickDelta(cmp, b.o.caseID, b.o.test)
	if err != nil {
		return err
	}
	b.key = d.Key
	_, cases, err := session.Original(b.home, b.badRun.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cases, func(c suite.Case) bool { return c.ID == d.New.Case })
	if i < 0 {
		return fmt.Errorf("run %s has no case %s in its stored cases: it cannot be rerun", b.badRun.ID, d.New.Case)
	}
	b.kase = cases[i]
	b.progress("%s %s: %s -> %s t/s (%+.1f %%, %s) from %s to %s", b.kase.ID, d.Key.Test(), sideText(d.Base), sideText(d.New), *d.ChangePct, d.Verdict, b.goodRun.ID, b.badRun.ID)
	for _, r := range []bench.Run{b.goodRun, b.badRun} {
		if r.Stack == nil {
			return fmt.Errorf("run %s recorded no build plan (imported, or made by an older haloforge): bisect cannot rebuild it", r.ID)
		}
	}
	if b.badRun.Target != b.goodRun.Target || b.badRun.Stack.Profile != b.goodRun.Stack.Profile {
		return fmt.Errorf("runs %s and %s are for different targets or profiles (%s/%q, %s/%q): bisect runs of one stack", b.goodRun.ID, b.badRun.ID,
			b.goodRun.Target, b.goodRun.Stack.Profile, b.badRun.Target, b.badRun.Stack.Profile)
	}
	b.target, b.profile = b.badRun.Target, b.badRun.Stack.Profile
	if b.goodLock, err = runLock(b.home, b.goodRun.ID); err != nil {
		return err
	}
	if b.badLock, err = runLock(b.home, b.badRun.ID); err != nil {
		return err
	}
	if b.set, err = (recipes.Request{}).LoadSet(); err != nil {
		return err
	}

	id := bisectID(b.goodRun.ID, b.badRun.ID, b.kase.ID, d.Key.Test(), b.o.component)
	b.dir = filepath.Join(b.home, "bisect", id)
	path := filepath.Join(b.dir, "log.jsonl")
	if b.o.resume {
		if b.log, err = bisect.Load(path); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("no bisection of %s %s between %s and %s to resume (%s): run it without --resume", b.kase.ID, d.Key.Test(), b.goodRun.ID, b.badRun.ID, path)
			}
			return err
		}
		b.progress("resuming %s: %d finished step(s) are kept", id, len(b.log.Steps))
		return nil
	}
	b.log, err = bisect.Create(path, bisect.Header{ID: id, Started: time.Now().UTC(), GoodRun: b.goodRun.ID, BadRun: b.badRun.ID,
		Case: b.kase.ID + " " + d.Key.Test(), Threshold: b.stats.Threshold, Alpha: b.stats.Alpha, Args: os.Args[1:]})
	return err
}

// pickDelta is the case to bisect: caseID/test when given (it must be a
// regression), else the largest significant slowdown.
func pickDelta(c report.Comparison, caseID, test string) (report.Delta, error) {
	var best *report.Delta
	var seen []string
	for i := range c.Deltas {
		d := &c.Deltas[i]
		if d.Base == nil || d.New == nil || d.Key.Check != "" {
			continue
		}
		if caseID != "" && d.New.Case != caseID || test != "" && d.Key.Test() != test {
			continue
		}
		seen = append(seen, fmt.Sprintf("%s %s: %s", d.New.Case, d.Key.Test(), d.Verdict))
		if d.Verdict != report.Regression || d.ChangePct == nil {
			continue
		}
		if best == nil || *d.ChangePct < *best.ChangePct {
			best = d
		}
	}
	if best != nil {
		return *best, nil
	}
	what := "any case"
	if caseID != "" || test != "" {
		what = strings.TrimSpace(caseID + " " + test)
	}
	if len(seen) == 0 {
		return report.Delta{}, fmt.Errorf("no llama-bench result of %s in both %s and %s (see haloforge compare %s %s)", what, c.Base, c.New, c.Base, c.New)
	}
	return report.Delta{}, fmt.Errorf("compare finds no regression of %s from %s to %s (%s): nothing to bisect", what, c.Base, c.New, strings.Join(seen, "; "))
}

// rebuildCost is how many plan steps change key when a component moves,
// heavy steps counting ten.
func (b *bisector) rebuildCost(moves []bisect.Move) map[string]int {
	cost := map[string]int{}
	base, err := b.plan(b.goodLock, nil)
	if err != nil {
		return cost
	}
	keys := map[string]string{}
	for _, s := range base.Steps {
		keys[s.ID] = s.Key
	}
	for _, m := range moves {
		lock, err := bisect.WithPin(b.goodLock, m.Bad)
		if err != nil {
			continue
		}
		p, err := b.plan(lock, nil)
		if err != nil {
			continue
		}
		n := 0
		for _, s := range p.Steps {
			if keys[s.ID] != s.Key {
				n++
				if s.Heavy {
					n += 9
				}
			}
		}
		cost[m.Component] = n
	}
	return cost
}

// align makes the recipe set agree with lock: each locked component's
// recipe takes the lock's source, so the plan of a past or moved lock is
// made with this checkout's build steps and the lock's pins.
func align(set *recipes.Set, lock *recipes.Lock) {
	for _, c := range lock.Components {
		r, ok := set.Recipe(c.Name)
		if !ok {
			continue
		}
		r.Version = c.Version
		r.Source.Git, r.Source.Commit, r.Source.Tarball, r.Source.SHA256 = c.Git, c.Commit, c.Tarball, c.SHA256
	}
}

// plan is the build plan of lock (the recipes aligned with it) for the
// runs' target and profile, with src as a source override.
func (b *bisector) plan(lock *recipes.Lock, srcs []recipes.SourceDir) (*recipes.Plan, error) {
	align(b.set, lock)
	t, err := recipes.LookupTarget(b.target)
	if err != nil {
		return nil, err
	}
	ov, err := recipes.Overrides(srcs)
	if err != nil {
		return nil, err
	}
	return recipes.MakePlan(b.set, lock, t, recipes.Selection{Profile: b.profile}, ov)
}

// Build builds the case's image of p through the pipeline and exports it
// to Docker (bisect.Executor).
func (b *bisector) Build(ctx context.Context, pt bisect.Point) (bisect.Step, error) {
	st := bisect.Step{Phase: pt.Phase, Key: pt.Key}
	var srcs []recipes.SourceDir
	if pt.Source != nil {
		dir, err := pt.Source.Tree(b.dir)
		if err != nil {
			return st, err
		}
		srcs = append(srcs, recipes.SourceDir{Component: pt.Source.Component, Dir: dir})
	}
	p, err := b.plan(pt.Lock, srcs)
	if err != nil {
		return st, err
	}
	spec, err := images.FromPlan(p)
	if err != nil {
		return st, err
	}
	name, err := b.imageName(spec)
	if err != nil {
		return st, err
	}
	if b.client == nil {
		logw := io.Discard
		if !b.o.plain {
			logw = b.errw
		}
		if b.client, _, err = images.Connect(ctx, b.o.engine, logw); err != nil {
			return st, err
		}
	}
	base, bases, from, err := images.HostBase(b.client, spec, b.o.base, b.o.baseTarball)
	if err != nil {
		return st, err
	}
	start := time.Now()
	stack, err := images.Execute(ctx, b.client, spec, images.Execution{Base: base, Bases: bases, BaseFrom: from,
		Sources: images.HostSources(b.client, spec), Jobs: b.o.jobs, Images: []string{name}, Mirror: b.gm})
	if err != nil {
		return st, err
	}
	if err := stack.Sync(ctx); err != nil {
		var se *images.StepError
		if errors.As(err, &se) && ctx.Err() == nil {
			st.BuildSec = time.Since(start).Seconds()
			st.BuildError = se.Error()
			return st, nil
		}
		return st, err
	}
	ref := fmt.Sprintf("haloforge-bisect/%s:%s-%s", name, strings.TrimPrefix(b.log.Header.ID, "bisect-"), phaseTag(pt.Phase, pt.Key))
	if _, err := stack.ExportImage(ctx, name, ref); err != nil {
		return st, err
	}
	st.Image, st.BuildSec = ref, time.Since(start).Seconds()
	return st, nil
}

func phaseTag(phase, key string) string {
	k := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(key[:min(len(key), 12)]))
	return phase + "-" + k
}

// imageName is the stack image the case runs in: --image, else the one
// whose reference the case used.
func (b *bisector) imageName(spec images.Spec) (string, error) {
	var names []string
	repo := func(ref string) string { r, _, _ := strings.Cut(ref, ":"); return r }
	for _, im := range spec.Images {
		names = append(names, im.Name)
		// the tag carries the step key, which moves with the pin
		if b.o.image == im.Name || b.o.image == "" && repo(im.Ref) == repo(b.kase.Image) {
			return im.Name, nil
		}
	}
	if b.o.image != "" {
		return "", fmt.Errorf("--image %s: the %s plan for %s has no such image (it has %s)", b.o.image, cmp.Or(b.profile, "whole"), b.target, strings.Join(names, ", "))
	}
	return "", fmt.Errorf("case %s ran in %s, which is no image of the stack: name the image to build with --image (one of %s)", b.kase.ID, b.kase.Image, strings.Join(names, ", "))
}

// withReps sets llama-bench's repetitions in argv.
func withReps(argv []string, n int) []string {
	out := slices.Clone(argv)
	for i := 0; i < len(out); i++ {
		switch a := out[i]; {
		case (a == "-r" || a == "--repetitions") && i+1 < len(out):
			out[i+1] = strconv.Itoa(n)
			return out
		case strings.HasPrefix(a, "--repetitions="):
			out[i] = "--repetitions=" + strconv.Itoa(n)
			return out
		}
	}
	return append(out, "-r", strconv.Itoa(n))
}

// Measure reruns the case in image with reps repetitions as a run of its
// own and returns its samples of the bisected test (bisect.Executor).
func (b *bisector) Measure(ctx context.Context, pt bisect.Point, image string, reps int) (bisect.Step, error) {
	st := bisect.Step{Phase: pt.Phase, Key: pt.Key, Reps: reps}
	lock := pt.Lock
	c := b.kase
	c.Image = image
	c.Argv = withReps(c.Argv, reps)
	so, err := benchOpts{plain: b.o.plain, target: b.target, containerPrefix: "haloforge-bisect-"}.session(b.cmd)
	if err != nil {
		return st, err
	}
	so.Suite, so.Cases, so.Lock = session.SuiteFile(b.home, b.badRun.ID), []suite.Case{c}, lock
	so.Bar = false
	w := benchWiring()
	w.Provenance = func(target, profile string, l *recipes.Lock) (bench.StackInfo, string, map[string][]byte, error) {
		align(b.set, l)
		info, err := planInfo(b.set, l, target, profile)
		if err != nil {
			return info, "", nil, err
		}
		return info, l.Digest(), map[string][]byte{stackFile: l.Marshal()}, nil
	}
	next, err := session.Run(ctx, so, w)
	if ctx.Err() != nil {
		// interrupted: nothing is logged, --resume measures the step again
		return st, ctx.Err()
	}
	if next == nil {
		if err == nil {
			err = errors.New("the bench session returned no run")
		}
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		return st, err
	}
	st.Run = next.ID
	cmpr := report.Compare(b.badRun, *next, report.CompareOptions{Threshold: b.stats.Threshold, Alpha: b.stats.Alpha})
	for _, d := range cmpr.Deltas {
		if d.Key == b.key && d.New != nil {
			if d.New.Stat == nil {
				st.RunErr = "no numbers: " + cmp.Or(d.New.Note, string(d.New.Status))
			} else {
				st.Samples = slices.Clone(d.New.Stat.Samples)
				if len(st.Samples) == 0 {
					st.Samples = []float64{d.New.Stat.Mean}
				}
			}
			return st, nil
		}
	}
	st.RunErr = fmt.Sprintf("run %s has no result of %s %s", next.ID, b.kase.ID, b.key.Test())
	return st, nil
}

// report prints the table of every step and the result.
func (b *bisector) report(r bisect.Result) error {
	_, _ = fmt.Fprintf(b.out, "\n## bisect %s: %s between %s and %s\n\n", b.log.Header.ID, b.log.Header.Case, b.log.Header.GoodRun, b.log.Header.BadRun)
	b.log.WriteTable(b.out)
	_, _ = fmt.Fprintf(b.out, "\n%s\n", r.Message)
	if r.FirstBad != nil {
		_, _ = fmt.Fprintf(b.out, "\n%s is the first bad commit\nsubject: %s\ndate:    %s\n", r.FirstBad.Hash, r.FirstBad.Subject, r.FirstBad.Date)
		return nil
	}
	if r.Component != "" && len(r.Candidates) == 0 && !strings.HasPrefix(r.Message, "no single") {
		return nil // the guilty component, without commits to bisect
	}
	msg, _, _ := strings.Cut(r.Message, "\n")
	return &exitError{code: 3, err: errors.New(msg)}
}
