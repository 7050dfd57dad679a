package bisect

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/haloforge/haloforge/bench/report"
	"github.com/haloforge/haloforge/recipes"
)

// Point is one thing a bisection builds and measures: the good or bad end,
// the good lock with one component moved, or a commit of the guilty one.
type Point struct {
	Phase string // PhaseEnd, PhaseComponent, PhaseCommit
	Key   string // good/bad, the component, the commit hash
	Lock  *recipes.Lock
	// Source, when set, is the tree of one component to build instead of
	// its pin: a commit of a local repository.
	Source *Source
}

// Source is a commit of a component's local git repository.
type Source struct{ Component, Repo, Commit string }

// Executor builds and measures points: haloforge's build pipeline and
// benchmark runner.
type Executor interface {
	// Build builds p's image; a build that fails in a build step is a
	// Step with BuildError (skipped), any other failure an error.
	Build(ctx context.Context, p Point) (Step, error)
	// Measure runs the case in image with reps repetitions: a Step with
	// Samples, or RunErr when the case produced no numbers.
	Measure(ctx context.Context, p Point, image string, reps int) (Step, error)
}

// Driver runs a bisection: both ends, the guilty component, its commits.
// Every finished build and measurement goes to Log first, and a Driver
// started on a resumed Log does again nothing that is logged.
type Driver struct {
	Exec  Executor
	Log   *Log
	Stats Stats
	Reps  Repetitions
	// Good and Bad are the two runs' locks.
	Good, Bad *recipes.Lock
	// Repos are local git repositories by component: every build of such
	// a component is a commit of its repository.
	Repos map[string]string
	// Mirror returns the mirror's repository of a git URL; nil without one.
	Mirror func(gitURL string) (string, error)
	// Component, when set, skips the component search.
	Component string
	// MaxSteps stops the commit search after this many steps (0: none).
	MaxSteps int
	// Cost estimates what rebuilding each move costs (Order).
	Cost func([]Move) map[string]int
	// Case names what is bisected, in messages.
	Case     string
	Progress io.Writer

	ends map[string][]float64
}

// ErrUnfinished is returned when MaxSteps stopped the search.
type ErrUnfinished struct{ Remaining int }

func (e *ErrUnfinished) Error() string {
	return fmt.Sprintf("stopped with %d commit(s) in doubt: continue with --resume", e.Remaining)
}

func (d *Driver) progress(format string, args ...any) {
	if d.Progress != nil {
		_, _ = fmt.Fprintf(d.Progress, "bisect: "+format+"\n", args...)
	}
}

// Run bisects and logs the result; an error means it could not finish
// (the regression does not reproduce, an executor failure, MaxSteps).
func (d *Driver) Run(ctx context.Context) (Result, error) {
	if d.Log.Result != nil {
		d.progress("this bisection already finished")
		return *d.Log.Result, nil
	}
	d.ends = map[string][]float64{}
	moves, other := Diff(d.Good, d.Bad)
	// 1. both ends, rebuilt from the runs' locks and re-measured here
	for _, end := range []string{"good", "bad"} {
		s, err := d.Visit(ctx, d.endPoint(end), endVerdict(end))
		if err != nil {
			return Result{}, fmt.Errorf("the %s end: %w", end, err)
		}
		if len(s) == 0 {
			return Result{}, fmt.Errorf("the %s end did not build or run here: see the table; nothing to bisect", end)
		}
		d.ends[end] = s
	}
	delta, err := d.Stats.Confirm(d.ends["good"], d.ends["bad"])
	for err != nil && delta.Verdict == report.Noise {
		// within the spread: both ends again with more repetitions
		n, more := d.Reps.Next(min(len(d.ends["good"]), len(d.ends["bad"])))
		if !more {
			break
		}
		d.progress("the ends differ within their spread: measuring both again with %d repetitions", n)
		for _, end := range []string{"good", "bad"} {
			st, err := d.measureAgain(ctx, d.endPoint(end), n, endVerdict(end))
			if err != nil {
				return Result{}, err
			}
			if st.RunErr != "" {
				return Result{}, fmt.Errorf("the %s end did not run: %s", end, st.RunErr)
			}
			d.ends[end] = st.Samples
		}
		delta, err = d.Stats.Confirm(d.ends["good"], d.ends["bad"])
	}
	if err != nil {
		return Result{}, fmt.Errorf("the regression of %s does not reproduce on this machine: %w", d.Case, err)
	}
	p := math.NaN()
	if delta.PValue != nil {
		p = *delta.PValue
	}
	d.progress("reproduced: %s %+.1f %% (welch p=%.3g)", d.Case, *delta.ChangePct, p)

	// 2. which component
	for _, o := range other {
		d.progress("also changed, not bisected: %s", o)
	}
	if len(moves) == 0 {
		return d.finish(Result{Message: "the two runs' locks pin the same component sources: the regression comes from " + orText(other, "outside the stack (host, drivers, suite)")})
	}
	move, err := d.guiltyComponent(ctx, moves)
	if err != nil {
		return Result{}, err
	}
	if move == nil {
		return d.finish(Result{Message: "no single component: each of " + moveNames(moves) + " alone at its bad pin performs like the good end; the regression needs several of them together, or comes from " + orText(other, "outside the component pins")})
	}
	// 3. which commit
	return d.commits(ctx, *move)
}

func (d *Driver) endPoint(end string) Point {
	lock := d.Good
	if end == "bad" {
		lock = d.Bad
	}
	return Point{Phase: PhaseEnd, Key: end, Lock: lock}
}

func orText(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	return strings.Join(xs, "; ")
}

func moveNames(ms []Move) string {
	var n []string
	for _, m := range ms {
		n = append(n, m.Component)
	}
	return strings.Join(n, ", ")
}

func (d *Driver) classify(s []float64) Verdict {
	return d.Stats.Classify(d.ends["good"], d.ends["bad"], s)
}

// guiltyComponent returns the moved component whose bad pin alone makes
// the good lock slow, trying the cheapest rebuild first; nil when none does.
func (d *Driver) guiltyComponent(ctx context.Context, moves []Move) (*Move, error) {
	if d.Component != "" {
		for _, m := range moves {
			if m.Component == d.Component {
				return &m, nil
			}
		}
		return nil, fmt.Errorf("--component %s: its pin is the same in both runs' locks (moved: %s)", d.Component, moveNames(moves))
	}
	if len(moves) == 1 {
		d.progress("only %s moved (%s -> %s)", moves[0].Component, short(Pin(moves[0].Good)), short(Pin(moves[0].Bad)))
		return &moves[0], nil
	}
	var cost map[string]int
	if d.Cost != nil {
		cost = d.Cost(moves)
	}
	ordered := Order(moves, cost)
	for i, m := range ordered {
		d.progress("component %d/%d: %s at its bad pin %s (rebuild cost %d)", i+1, len(ordered), m.Component, short(Pin(m.Bad)), m.Cost)
		lock, err := WithPin(d.Good, m.Bad)
		if err != nil {
			return nil, err
		}
		s, err := d.Visit(ctx, Point{Phase: PhaseComponent, Key: m.Component, Lock: lock}, d.classify)
		if err != nil {
			return nil, err
		}
		if len(s) > 0 && d.classify(s) == Bad {
			d.progress("guilty component: %s", m.Component)
			return &m, nil
		}
	}
	return nil, nil
}

// repoOf is the git repository m's commits are listed and archived from.
func (d *Driver) repoOf(m Move) (string, error) {
	if r, ok := d.Repos[m.Component]; ok {
		return r, nil
	}
	if m.Good.Commit == "" || m.Bad.Commit == "" {
		return "", fmt.Errorf("it is pinned by tarball, not git commit: there are no commits to bisect")
	}
	if d.Mirror != nil {
		return d.Mirror(m.Bad.Git)
	}
	return "", fmt.Errorf("to bisect its commits give --source %s=DIR (a git repository holding both pins) or --mirror DIR", m.Component)
}

// commits binary-searches the moved component's first-parent commits.
func (d *Driver) commits(ctx context.Context, m Move) (Result, error) {
	repo, err := d.repoOf(m)
	if err != nil {
		return d.finish(Result{Component: m.Component, Message: fmt.Sprintf("the guilty component is %s (%s -> %s); %v", m.Component, short(Pin(m.Good)), short(Pin(m.Bad)), err)})
	}
	if d.Log.Range == nil || d.Log.Range.Component != m.Component {
		r, err := FirstParentRange(repo, m.Good.Commit, m.Bad.Commit)
		if err != nil {
			return Result{}, err
		}
		if err := d.Log.SetRange(Range{Component: m.Component, Commits: r}); err != nil {
			return Result{}, err
		}
	}
	r := d.Log.Range.Commits
	d.progress("%s: %d commit(s) between %s and %s (first-parent, %s)", m.Component, len(r)-1, short(m.Good.Commit), short(m.Bad.Commit), repo)
	steps := 0
	for {
		out, err := Search(r, d.Log.Verdicts(PhaseCommit))
		if err != nil {
			return d.finish(Result{Component: m.Component, Message: err.Error()})
		}
		if out.Done() {
			res := Result{Component: m.Component}
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
			return d.finish(res)
		}
		if d.MaxSteps > 0 && steps >= d.MaxSteps {
			return Result{}, &ErrUnfinished{Remaining: out.Remaining}
		}
		c := r[out.Next]
		d.progress("step %d (about %d left): %s %s %q", steps+1, int(math.Ceil(math.Log2(float64(out.Remaining)))), m.Component, c.Short(), c.Subject)
		pin := m.Bad
		pin.Commit = c.Hash
		lock, err := WithPin(d.Good, pin)
		if err != nil {
			return Result{}, err
		}
		src := &Source{Component: m.Component, Repo: repo, Commit: c.Hash}
		if _, err := d.Visit(ctx, Point{Phase: PhaseCommit, Key: c.Hash, Lock: lock, Source: src}, d.classify); err != nil {
			return Result{}, err
		}
		steps++
	}
}

// Visit builds (unless logged) and measures (unless logged) one point,
// measuring again with more repetitions while classify says unclear. It
// returns the last samples; none when the build or the run failed (logged
// as a skip).
func (d *Driver) Visit(ctx context.Context, p Point, classify func([]float64) Verdict) ([]float64, error) {
	if p.Source == nil {
		// a component with a local repository is always built from it
		for comp, repo := range d.Repos {
			if c, ok := p.Lock.Component(comp); ok && c.Commit != "" {
				p.Source = &Source{Component: comp, Repo: repo, Commit: c.Commit}
			}
		}
	}
	built, ok := d.Log.Build(p.Phase, p.Key)
	if !ok {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d.progress("building %s %s", p.Phase, short(p.Key))
		st, err := d.Exec.Build(ctx, p)
		if err != nil {
			return nil, err
		}
		st.Phase, st.Key = p.Phase, p.Key
		if err := d.Log.AddStep(st); err != nil {
			return nil, err
		}
		built = st
		if st.BuildError != "" {
			d.progress("%s %s does not build: skipped (%s)", p.Phase, short(p.Key), firstLine(st.BuildError))
		} else {
			d.progress("built %s in %s", st.Image, secs(st.BuildSec))
		}
	}
	if built.BuildError != "" {
		return nil, nil
	}
	reps := d.Reps.Min
	if logged := d.Log.Measurements(p.Phase, p.Key); len(logged) > 0 {
		// the last measurement of the step says where it stands
		m := logged[len(logged)-1]
		d.progress("%s %s: %s (logged)", p.Phase, short(p.Key), Describe(m))
		if m.RunErr != "" || classify == nil || m.Verdict != Unclear {
			return m.Samples, nil
		}
		n, more := d.Reps.Next(m.Reps)
		if !more {
			return m.Samples, nil
		}
		d.progress("%s %s unclear: measuring again with %d repetitions", p.Phase, short(p.Key), n)
		reps = n
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st, err := d.measure(ctx, p, built.Image, reps, classify)
		if err != nil {
			return nil, err
		}
		if st.Verdict != Unclear {
			return st.Samples, nil
		}
		n, more := d.Reps.Next(st.Reps)
		if !more {
			d.progress("%s %s still unclear with %d repetitions: skipped", p.Phase, short(p.Key), st.Reps)
			return st.Samples, nil
		}
		reps = n
	}
}

// measure measures a built point, classifies and logs the measurement.
func (d *Driver) measure(ctx context.Context, p Point, image string, reps int, classify func([]float64) Verdict) (Step, error) {
	d.progress("measuring %s %s: %d repetitions", p.Phase, short(p.Key), reps)
	st, err := d.Exec.Measure(ctx, p, image, reps)
	if err != nil {
		return st, err
	}
	if err := ctx.Err(); err != nil {
		return st, err // interrupted: not logged, measured again on resume
	}
	st.Phase, st.Key, st.Reps = p.Phase, p.Key, reps
	switch {
	case st.RunErr != "":
		st.Verdict = Skip
	case classify != nil:
		st.Verdict = classify(st.Samples)
	}
	if err := d.Log.AddStep(st); err != nil {
		return st, err
	}
	d.progress("%s %s: %s", p.Phase, short(p.Key), Describe(st))
	return st, nil
}

// measureAgain measures a built point once more with reps.
func (d *Driver) measureAgain(ctx context.Context, p Point, reps int, classify func([]float64) Verdict) (Step, error) {
	built, ok := d.Log.Build(p.Phase, p.Key)
	if !ok || built.Image == "" {
		return Step{}, fmt.Errorf("%s %s has no built image", p.Phase, p.Key)
	}
	if logged := d.Log.Measurements(p.Phase, p.Key); len(logged) > 0 && logged[len(logged)-1].Reps >= reps {
		return logged[len(logged)-1], nil // measured before an interruption
	}
	return d.measure(ctx, p, built.Image, reps, classify)
}

// endVerdict labels the ends' measurements in the log and the table.
func endVerdict(end string) func([]float64) Verdict {
	v := Good
	if end == "bad" {
		v = Bad
	}
	return func([]float64) Verdict { return v }
}

// Describe is a measurement in words: mean ± std over n repetitions: verdict.
func Describe(s Step) string {
	if s.RunErr != "" {
		return "did not run: " + s.RunErr
	}
	m, sd := MeanStd(s.Samples)
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

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func (d *Driver) finish(r Result) (Result, error) {
	if err := d.Log.Finish(r); err != nil {
		return r, err
	}
	return r, nil
}
