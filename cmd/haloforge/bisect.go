package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
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
	ends   map[string][]float64
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
		repos: map[string]string{}, ends: map[string][]float64{}}
	srcs, err := recipes.ParseSourceFlags(o.sources)
	if err != nil {
		return nil, err
	}
	for _, s := range srcs {
		if _, err := gitOut(s.Dir, "rev-parse", "--git-dir"); err != nil {
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
	if b.log.Result != nil {
		b.progress("this bisection already finished")
		return b.report(*b.log.Result)
	}
	moves, other := bisect.Diff(b.goodLock, b.badLock)
	// a local repository must hold the pins it builds, before any build
	for _, m := range moves {
		repo, ok := b.repos[m.Component]
		for _, c := range []string{m.Good.Commit, m.Bad.Commit} {
			if ok && c != "" {
				if _, err := gitOut(repo, "cat-file", "-e", c+"^{commit}"); err != nil {
					return fmt.Errorf("--source %s=%s has no commit %s (pinned by run %s or %s): fetch it into that repository", m.Component, repo, c, b.goodRun.ID, b.badRun.ID)
				}
			}
		}
	}
	// 1. both ends, rebuilt from the runs' locks and re-measured here
	for _, end := range []string{"good", "bad"} {
		lock := b.goodLock
		if end == "bad" {
			lock = b.badLock
		}
		s, err := b.measureUntilClear(ctx, bisect.PhaseEnd, end, lock, nil, endVerdict(end))
		if err != nil {
			return fmt.Errorf("the %s end: %w", end, err)
		}
		if len(s) == 0 {
			return fmt.Errorf("the %s end (run %s) did not build or run here: see the table above; nothing to bisect", end, b.runOf(end))
		}
		b.ends[end] = s
	}
	d, err := b.stats.Confirm(b.ends["good"], b.ends["bad"])
	for err != nil && d.Verdict == report.Noise {
		// within the spread: both ends again with more repetitions
		n, more := b.reps.Next(min(len(b.ends["good"]), len(b.ends["bad"])))
		if !more {
			break
		}
		b.progress("the ends differ within their spread: measuring both again with %d repetitions", n)
		for _, end := range []string{"good", "bad"} {
			lock := b.goodLock
			if end == "bad" {
				lock = b.badLock
			}
			st, err := b.measureLogged(ctx, bisect.PhaseEnd, end, lock, n, endVerdict(end))
			if err != nil {
				return err
			}
			if st.RunErr != "" {
				return fmt.Errorf("the %s end did not run: %s", end, st.RunErr)
			}
			b.ends[end] = st.Samples
		}
		d, err = b.stats.Confirm(b.ends["good"], b.ends["bad"])
	}
	if err != nil {
		return fmt.Errorf("the regression of %s %s does not reproduce on this machine: %w", b.kase.ID, b.key.Test(), err)
	}
	b.progress("reproduced: %s %s %+.1f %% (welch p=%.3g)", b.kase.ID, b.key.Test(), *d.ChangePct, pval(d))

	// 2. which component
	for _, o := range other {
		b.progress("also changed, not bisected: %s", o)
	}
	if len(moves) == 0 {
		return b.finish(bisect.Result{Message: "the two runs' locks pin the same component sources: the regression comes from " + orText(other, "outside the stack (host, drivers, suite)")})
	}
	move, err := b.guiltyComponent(ctx, moves)
	if err != nil {
		return err
	}
	if move == nil {
		return b.finish(bisect.Result{Message: "no single component: each of " + moveNames(moves) + " alone at its bad pin performs like the good end; the regression needs several of them together, or comes from " + orText(other, "outside the component pins")})
	}
	// 3. which commit
	return b.commits(ctx, *move)
}

func sideText(s *report.Side) string {
	if s == nil || s.Stat == nil {
		return "—"
	}
	return report.FormatStat(*s.Stat)
}

func pval(d report.Delta) float64 {
	if d.PValue == nil {
		return math.NaN()
	}
	return *d.PValue
}

func orText(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	return strings.Join(xs, "; ")
}

func moveNames(ms []bisect.Move) string {
	var n []string
	for _, m := range ms {
		n = append(n, m.Component)
	}
	return strings.Join(n, ", ")
}

func (b *bisector) runOf(end string) string {
	if end == "good" {
		return b.goodRun.ID
	}
	return b.badRun.ID
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

// guiltyComponent returns the moved component whose bad pin alone makes
// the good lock slow, trying the cheapest rebuild first; nil when none does.
func (b *bisector) guiltyComponent(ctx context.Context, moves []bisect.Move) (*bisect.Move, error) {
	if b.o.component != "" {
		for _, m := range moves {
			if m.Component == b.o.component {
				return &m, nil
			}
		}
		return nil, fmt.Errorf("--component %s: its pin is the same in both runs' locks (moved: %s)", b.o.component, moveNames(moves))
	}
	if len(moves) == 1 {
		b.progress("only %s moved (%s -> %s)", moves[0].Component, short(bisect.Pin(moves[0].Good)), short(bisect.Pin(moves[0].Bad)))
		return &moves[0], nil
	}
	ordered := bisect.Order(moves, b.rebuildCost(moves))
	for i, m := range ordered {
		b.progress("component %d/%d: %s at its bad pin %s (rebuild cost %d)", i+1, len(ordered), m.Component, short(bisect.Pin(m.Bad)), m.Cost)
		lock, err := bisect.WithPin(b.goodLock, m.Bad)
		if err != nil {
			return nil, err
		}
		s, err := b.measureUntilClear(ctx, bisect.PhaseComponent, m.Component, lock, nil, b.classifier())
		if err != nil {
			return nil, err
		}
		if len(s) > 0 && b.stats.Classify(b.ends["good"], b.ends["bad"], s) == bisect.Bad {
			b.progress("guilty component: %s", m.Component)
			return &m, nil
		}
	}
	return nil, nil
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

// commits binary-searches the moved component's first-parent commits.
func (b *bisector) commits(ctx context.Context, m bisect.Move) error {
	repo, err := b.repoOf(m)
	if err != nil {
		return b.finish(bisect.Result{Component: m.Component, Message: fmt.Sprintf("the guilty component is %s (%s -> %s); %v", m.Component, short(bisect.Pin(m.Good)), short(bisect.Pin(m.Bad)), err)})
	}
	if b.log.Range == nil || b.log.Range.Component != m.Component {
		r, err := firstParentRange(repo, m.Good.Commit, m.Bad.Commit)
		if err != nil {
			return err
		}
		if err := b.log.SetRange(bisect.Range{Component: m.Component, Commits: r}); err != nil {
			return err
		}
	}
	r := b.log.Range.Commits
	b.progress("%s: %d commit(s) between %s and %s (first-parent, %s)", m.Component, len(r)-1, short(m.Good.Commit), short(m.Bad.Commit), repo)
	steps := 0
	for {
		out, err := bisect.Search(r, b.log.Verdicts(bisect.PhaseCommit))
		if err != nil {
			return b.finish(bisect.Result{Component: m.Component, Message: err.Error()})
		}
		if out.Done() {
			res := bisect.Result{Component: m.Component}
			if out.FirstBad >= 0 {
				c := r[out.FirstBad]
				res.FirstBad = &c
				res.Message = fmt.Sprintf("first bad commit of %s: %s %q (%s)", m.Component, c.Hash, c.Subject, c.Date)
			} else {
				var hs []string
				for _, i := range out.Candidates {
					res.Candidates = append(res.Candidates, r[i])
					hs = append(hs, r[i].Short())
				}
				res.Message = fmt.Sprintf("no single guilty commit of %s: skipped commits hide it; the first bad one is among %s", m.Component, strings.Join(hs, " "))
			}
			return b.finish(res)
		}
		if b.o.maxSteps > 0 && steps >= b.o.maxSteps {
			b.progress("stopped after --max-steps %d with %d commit(s) in doubt; continue with --resume", b.o.maxSteps, out.Remaining)
			b.log.WriteTable(b.out)
			return &exitError{code: 3, err: fmt.Errorf("bisection of %s not finished (%s)", m.Component, b.log.Path)}
		}
		c := r[out.Next]
		b.progress("step %d (about %d left): %s %s %q", steps+1, int(math.Ceil(math.Log2(float64(out.Remaining)))), m.Component, c.Short(), c.Subject)
		pin := m.Bad
		pin.Commit = c.Hash
		lock, err := bisect.WithPin(b.goodLock, pin)
		if err != nil {
			return err
		}
		if _, err := b.measureUntilClear(ctx, bisect.PhaseCommit, c.Hash, lock, &commitSource{component: m.Component, repo: repo, commit: c.Hash}, b.classifier()); err != nil {
			return err
		}
		steps++
	}
}

func (b *bisector) classifier() func([]float64) bisect.Verdict {
	return func(s []float64) bisect.Verdict { return b.stats.Classify(b.ends["good"], b.ends["bad"], s) }
}

// repoOf is the git repository m's commits are listed and archived from.
func (b *bisector) repoOf(m bisect.Move) (string, error) {
	if r, ok := b.repos[m.Component]; ok {
		return r, nil
	}
	if m.Good.Commit == "" || m.Bad.Commit == "" {
		return "", fmt.Errorf("it is pinned by tarball, not git commit: there are no commits to bisect")
	}
	if b.haveMirror {
		return b.mirror.Path(m.Bad.Git)
	}
	return "", fmt.Errorf("to bisect its commits give --source %s=DIR (a git repository holding both pins) or --mirror DIR", m.Component)
}

// firstParentRange lists good and the first-parent commits up to bad,
// oldest first.
func firstParentRange(repo, good, bad string) ([]bisect.Commit, error) {
	for _, c := range []string{good, bad} {
		if _, err := gitOut(repo, "cat-file", "-e", c+"^{commit}"); err != nil {
			return nil, fmt.Errorf("%s has no commit %s: fetch it into the repository (or the mirror)", repo, c)
		}
	}
	if _, err := gitOut(repo, "merge-base", "--is-ancestor", good, bad); err != nil {
		return nil, fmt.Errorf("in %s, the good pin %s is not an ancestor of the bad pin %s: no range to bisect", repo, short(good), short(bad))
	}
	fp, err := gitOut(repo, "rev-list", "--first-parent", bad)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(strings.Fields(fp), resolveFull(repo, good)) {
		return nil, fmt.Errorf("in %s, %s is not on the first-parent history of %s: bisect the merged branch with its own pins", repo, short(good), short(bad))
	}
	const format = "--format=%H%x1f%aI%x1f%s"
	tail, err := gitOut(repo, "log", "--first-parent", format, good+".."+bad)
	if err != nil {
		return nil, err
	}
	head, err := gitOut(repo, "log", "-1", format, good)
	if err != nil {
		return nil, err
	}
	r, err := bisect.ParseLog(tail + head)
	if err != nil {
		return nil, err
	}
	if len(r) < 2 {
		return nil, fmt.Errorf("in %s, %s and %s are the same commit: no range to bisect", repo, short(good), short(bad))
	}
	return r, nil
}

func resolveFull(repo, rev string) string {
	s, _ := gitOut(repo, "rev-parse", rev+"^{commit}")
	return strings.TrimSpace(s)
}

func gitOut(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// commitSource is a commit of a component built from a local repository.
type commitSource struct{ component, repo, commit string }

// tree writes the commit's tree (git archive: no .git) under dir once.
func (c commitSource) tree(dir string) (string, error) {
	dest := filepath.Join(dir, "src", c.component+"-"+short(c.commit))
	if _, err := os.Stat(filepath.Join(dest, ".complete")); err == nil {
		return dest, nil
	}
	_ = os.RemoveAll(dest)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return "", err
	}
	archive := exec.Command("git", "-C", c.repo, "archive", "--format=tar", c.commit)
	untar := exec.Command("tar", "-x", "-C", dest)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	untar.Stdin = pipe
	var e1, e2 strings.Builder
	archive.Stderr, untar.Stderr = &e1, &e2
	if err := untar.Start(); err != nil {
		return "", err
	}
	if err := archive.Run(); err != nil {
		_ = untar.Wait()
		return "", fmt.Errorf("git archive %s in %s: %v: %s", c.commit, c.repo, err, strings.TrimSpace(e1.String()))
	}
	if err := untar.Wait(); err != nil {
		return "", fmt.Errorf("unpacking %s: %v: %s", c.commit, err, strings.TrimSpace(e2.String()))
	}
	return dest, os.WriteFile(filepath.Join(dest, ".complete"), nil, 0o644)
}

// measureUntilClear builds (unless logged) and measures (unless logged)
// one step, measuring again with more repetitions while classify says
// unclear. It returns the last samples; none when the build or the run
// failed (logged as a skip).
func (b *bisector) measureUntilClear(ctx context.Context, phase, key string, lock *recipes.Lock, src *commitSource, classify func([]float64) bisect.Verdict) ([]float64, error) {
	if src == nil {
		// a component with a local repository is always built from it
		for comp, repo := range b.repos {
			if c, ok := lock.Component(comp); ok && c.Commit != "" {
				src = &commitSource{component: comp, repo: repo, commit: c.Commit}
			}
		}
	}
	built, ok := b.log.Build(phase, key)
	if !ok {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.progress("building %s %s", phase, short(key))
		st, err := b.build(ctx, phase, key, lock, src)
		if err != nil {
			return nil, err
		}
		if err := b.log.AddStep(st); err != nil {
			return nil, err
		}
		built = st
		if st.BuildError != "" {
			b.progress("%s %s does not build: skipped (%s)", phase, short(key), firstLine(st.BuildError))
		} else {
			b.progress("built %s in %s", st.Image, time.Duration(st.BuildSec*float64(time.Second)).Round(time.Second))
		}
	}
	if built.BuildError != "" {
		return nil, nil
	}
	reps := b.reps.Min
	if logged := b.log.Measurements(phase, key); len(logged) > 0 {
		// the last measurement of the step says where it stands
		m := logged[len(logged)-1]
		b.progress("%s %s: %s (logged)", phase, short(key), describe(m))
		if m.RunErr != "" || classify == nil || m.Verdict != bisect.Unclear {
			return m.Samples, nil
		}
		n, more := b.reps.Next(m.Reps)
		if !more {
			return m.Samples, nil
		}
		b.progress("%s %s unclear: measuring again with %d repetitions", phase, short(key), n)
		reps = n
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st, err := b.measureImage(ctx, phase, key, built.Image, lock, reps, classify)
		if err != nil {
			return nil, err
		}
		if st.Verdict != bisect.Unclear {
			return st.Samples, nil
		}
		n, more := b.reps.Next(st.Reps)
		if !more {
			b.progress("%s %s still unclear with %d repetitions: skipped", phase, short(key), st.Reps)
			return st.Samples, nil
		}
		reps = n
	}
}

// measureImage measures a built step, classifies and logs the measurement.
func (b *bisector) measureImage(ctx context.Context, phase, key, image string, lock *recipes.Lock, reps int, classify func([]float64) bisect.Verdict) (bisect.Step, error) {
	b.progress("measuring %s %s: %d repetitions", phase, short(key), reps)
	st, err := b.measure(ctx, phase, key, image, lock, reps)
	if err != nil {
		return st, err
	}
	switch {
	case st.RunErr != "":
		st.Verdict = bisect.Skip
	case classify != nil:
		st.Verdict = classify(st.Samples)
	}
	if err := b.log.AddStep(st); err != nil {
		return st, err
	}
	b.progress("%s %s: %s", phase, short(key), describe(st))
	return st, nil
}

// measureLogged measures an already built step once more with reps.
func (b *bisector) measureLogged(ctx context.Context, phase, key string, lock *recipes.Lock, reps int, classify func([]float64) bisect.Verdict) (bisect.Step, error) {
	built, ok := b.log.Build(phase, key)
	if !ok || built.Image == "" {
		return bisect.Step{}, fmt.Errorf("%s %s has no built image", phase, key)
	}
	if logged := b.log.Measurements(phase, key); len(logged) > 0 && logged[len(logged)-1].Reps >= reps {
		return logged[len(logged)-1], nil // measured before an interruption
	}
	return b.measureImage(ctx, phase, key, built.Image, lock, reps, classify)
}

// endVerdict labels the ends' measurements in the log and the table.
func endVerdict(end string) func([]float64) bisect.Verdict {
	v := bisect.Good
	if end == "bad" {
		v = bisect.Bad
	}
	return func([]float64) bisect.Verdict { return v }
}

func describe(s bisect.Step) string {
	if s.RunErr != "" {
		return "did not run: " + s.RunErr
	}
	m, sd := bisect.MeanStd(s.Samples)
	v := string(s.Verdict)
	if v == "" {
		v = "measured"
	}
	return fmt.Sprintf("%.2f ± %.2f t/s over %d repetitions: %s", m, sd, len(s.Samples), v)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
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

// build builds the case's image from lock (and src) and exports it.
func (b *bisector) build(ctx context.Context, phase, key string, lock *recipes.Lock, src *commitSource) (bisect.Step, error) {
	st := bisect.Step{Phase: phase, Key: key}
	var srcs []recipes.SourceDir
	if src != nil {
		dir, err := src.tree(b.dir)
		if err != nil {
			return st, err
		}
		srcs = append(srcs, recipes.SourceDir{Component: src.component, Dir: dir})
	}
	p, err := b.plan(lock, srcs)
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
	base, from, err := images.HostBase(b.client, spec, b.o.base, b.o.baseTarball)
	if err != nil {
		return st, err
	}
	start := time.Now()
	stack, err := images.Execute(ctx, b.client, spec, images.Execution{Base: base, BaseFrom: from,
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
	ref := fmt.Sprintf("haloforge-bisect/%s:%s-%s", name, strings.TrimPrefix(b.log.Header.ID, "bisect-"), phaseTag(phase, key))
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
	}, strings.ToLower(short(key)))
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
		return "", fmt.Errorf("--image %s: the %s plan for %s has no such image (it has %s)", b.o.image, orText([]string{b.profile}, "whole"), b.target, strings.Join(names, ", "))
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

// measure reruns the case in image with reps repetitions as a run of its
// own and returns its samples of the bisected test.
func (b *bisector) measure(ctx context.Context, phase, key, image string, lock *recipes.Lock, reps int) (bisect.Step, error) {
	st := bisect.Step{Phase: phase, Key: key, Reps: reps}
	c := b.kase
	c.Image = image
	c.Argv = withReps(c.Argv, reps)
	so := benchOpts{plain: b.o.plain, target: b.target, containerPrefix: "haloforge-bisect-"}.session(b.cmd)
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
	cmp := report.Compare(b.badRun, *next, report.CompareOptions{Threshold: b.stats.Threshold, Alpha: b.stats.Alpha})
	for _, d := range cmp.Deltas {
		if d.Key == b.key && d.New != nil {
			if d.New.Stat == nil {
				st.RunErr = "no numbers: " + orText([]string{d.New.Note}, string(d.New.Status))
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

// finish logs and prints the result.
func (b *bisector) finish(r bisect.Result) error {
	if err := b.log.Finish(r); err != nil {
		return err
	}
	return b.report(r)
}

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
	return &exitError{code: 3, err: errors.New(firstLine(r.Message))}
}
