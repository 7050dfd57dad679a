package images

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// StepReport is what an incremental step recorded about its run (the file
// at StepReportPath, written by the script IncrementalArgv makes).
type StepReport struct {
	Started, Finished float64 // Unix seconds, engine clock
	BuildKey          string
	Tree              string // new or reused
	BuildDir          string // clean or reused
	Changed, Removed  int    // source files synchronised
	Phases            []PhaseTime
	// CCacheHits and CCacheMisses are this step's compiles through
	// ccache; HasCCache is false when the step recorded none.
	CCacheHits, CCacheMisses int
	HasCCache                bool
}

// PhaseTime is the wall time of one phase (sync, configure, build,
// install, verify): the sum over its commands, in first-run order.
type PhaseTime struct {
	Name    string
	Seconds float64
}

// Duration is the step's wall time.
func (r StepReport) Duration() time.Duration {
	return time.Duration((r.Finished - r.Started) * float64(time.Second))
}

// HitRate is the share of this step's ccache lookups that hit (0..1); ok
// is false when nothing was looked up.
func (r StepReport) HitRate() (rate float64, ok bool) {
	n := r.CCacheHits + r.CCacheMisses
	if !r.HasCCache || n == 0 {
		return 0, false
	}
	return float64(r.CCacheHits) / float64(n), true
}

// ParseStepReport reads a step report (key=value lines; cmd= lines are
// "STEP SECONDS STATUS").
func ParseStepReport(text string) (StepReport, error) {
	var r StepReport
	idx := map[string]int{}
	for i, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return r, fmt.Errorf("step report line %d %q: want KEY=VALUE", i+1, line)
		}
		var err error
		switch k {
		case "started":
			r.Started, err = strconv.ParseFloat(v, 64)
		case "finished":
			r.Finished, err = strconv.ParseFloat(v, 64)
		case "build_key":
			r.BuildKey = v
		case "tree":
			r.Tree = v
		case "build_dir":
			r.BuildDir = v
		case "changed":
			r.Changed, err = strconv.Atoi(v)
		case "removed":
			r.Removed, err = strconv.Atoi(v)
		case "ccache_hits":
			r.CCacheHits, err = strconv.Atoi(v)
			r.HasCCache = true
		case "ccache_misses":
			r.CCacheMisses, err = strconv.Atoi(v)
			r.HasCCache = true
		case "cmd":
			f := strings.Fields(v)
			if len(f) != 3 {
				return r, fmt.Errorf("step report line %d %q: want cmd=STEP SECONDS STATUS", i+1, line)
			}
			var s float64
			if s, err = strconv.ParseFloat(f[1], 64); err == nil {
				j, seen := idx[f[0]]
				if !seen {
					j = len(r.Phases)
					idx[f[0]] = j
					r.Phases = append(r.Phases, PhaseTime{Name: f[0]})
				}
				r.Phases[j].Seconds += s
			}
		}
		if err != nil {
			return r, fmt.Errorf("step report line %d %q: %v", i+1, line, err)
		}
	}
	if r.Started == 0 || r.Finished == 0 {
		return r, fmt.Errorf("step report has no started/finished times: the step did not complete")
	}
	return r, nil
}

// StepSummary is one component step of a build: whether it ran in this
// build or came from the engine's cache, and its report.
type StepSummary struct {
	Key    string
	Ran    bool // ran in this build (false: the engine's cache had it)
	Report StepReport
	Err    error // the report could not be read
}

// BuildSummary is where a build's time went, step by step.
type BuildSummary struct {
	Steps []StepSummary
}

// clockSlack absorbs the rounding between the engine's and the client's
// clocks when deciding whether a step ran in this build.
const clockSlack = 2 * time.Second

// Summary reads the report of every component step of the stack after
// Sync. started is when the build began on this host's clock; the
// engine's clock is read once (an uncached exec) so a remote engine's
// offset does not mistake a step that ran for a cached one.
func (s *Stack) Summary(ctx context.Context, started time.Time) (BuildSummary, error) {
	var keys []string
	for _, n := range s.names {
		im, _ := s.builder.spec.Image(n)
		keys = append(keys, im.Components...)
	}
	comps, err := s.builder.spec.Closure(keys...)
	if err != nil {
		return BuildSummary{}, err
	}
	offset, err := s.builder.engineClockOffset(ctx)
	if err != nil {
		return BuildSummary{}, err
	}
	var sum BuildSummary
	for _, c := range comps {
		st := StepSummary{Key: c.Key()}
		s.builder.mu.Lock()
		ctr := s.builder.steps[c.Key()]
		s.builder.mu.Unlock()
		if ctr == nil {
			st.Err = fmt.Errorf("not defined in this build")
		} else if text, err := ctr.File(StepReportPath).Contents(ctx); err != nil {
			st.Err = err
		} else if st.Report, err = ParseStepReport(text); err != nil {
			st.Err = err
		} else {
			st.Ran = ranSince(st.Report, started, offset)
		}
		sum.Steps = append(sum.Steps, st)
	}
	return sum, nil
}

// ranSince reports whether the step of report r started after started
// (this host's clock), given the engine's clock offset: else the engine
// served the step from its cache and r is the report of an earlier build.
func ranSince(r StepReport, started time.Time, offset time.Duration) bool {
	return r.Started >= float64(started.Add(offset).Add(-clockSlack).UnixNano())/1e9
}

// engineClockOffset is the engine's clock minus this host's.
func (b *Builder) engineClockOffset(ctx context.Context) (time.Duration, error) {
	now := time.Now()
	out, err := b.base.
		WithEnvVariable("HALOFORGE_CLOCK_READ", strconv.FormatInt(now.UnixNano(), 10)).
		WithExec([]string{"date", "+%s.%N"}).Stdout(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the engine's clock: %w", err)
	}
	sec, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
	if err != nil {
		return 0, fmt.Errorf("read the engine's clock: date printed %q", out)
	}
	mid := now.Add(time.Since(now) / 2)
	return time.Duration(sec*1e9) - time.Duration(mid.UnixNano()), nil
}

// Render writes the summary as a table: step, ran or cached, wall time,
// phases, ccache hit rate, build directory and source changes.
func (s BuildSummary) Render(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "STEP\tRESULT\tTIME\tPHASES\tCCACHE\tBUILD DIR\tSOURCE")
	var total time.Duration
	ran, cached := 0, 0
	for _, st := range s.Steps {
		if st.Err != nil {
			_, _ = fmt.Fprintf(tw, "%s\tunknown\t-\t-\t-\t-\tno step report: %v\n", st.Key, oneLineErr(st.Err))
			continue
		}
		r := st.Report
		result, t := "cached", "-"
		if st.Ran {
			result, t = "ran", fmtSeconds(r.Duration().Seconds())
			total += r.Duration()
			ran++
		} else {
			cached++
		}
		var ph []string
		for _, p := range r.Phases {
			ph = append(ph, p.Name+" "+fmtSeconds(p.Seconds))
		}
		cc := "-"
		if rate, ok := r.HitRate(); ok {
			cc = fmt.Sprintf("%d/%d hits (%.0f%%)", r.CCacheHits, r.CCacheHits+r.CCacheMisses, 100*rate)
		} else if r.HasCCache {
			cc = "no compiles"
		}
		if !st.Ran {
			// The numbers are those of the build that made the cached result.
			t = "(" + fmtSeconds(r.Duration().Seconds()) + " when built)"
		}
		src := fmt.Sprintf("%d changed, %d removed", r.Changed, r.Removed)
		if r.Tree == "new" {
			src = fmt.Sprintf("%d files, new tree", r.Changed)
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Key, result, t, strings.Join(ph, ", "), cc, r.BuildDir, src)
	}
	_, _ = fmt.Fprintf(tw, "%d steps ran (%s of step time), %d cached\n", ran, fmtSeconds(total.Seconds()), cached)
	return tw.Flush()
}

func fmtSeconds(s float64) string {
	if s >= 60 {
		return fmt.Sprintf("%dm%04.1fs", int(s)/60, s-60*float64(int(s)/60))
	}
	return fmt.Sprintf("%.1fs", s)
}

func oneLineErr(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
