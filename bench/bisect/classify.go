package bisect

import (
	"fmt"
	"math"

	"github.com/haloforge/haloforge/bench/report"
)

// Verdict is the outcome of one bisection step.
type Verdict string

// Verdicts.
const (
	Good    Verdict = "good"    // performs like the good end
	Bad     Verdict = "bad"     // performs like the bad end
	Unclear Verdict = "unclear" // neither, even with the most repetitions: skipped
	Skip    Verdict = "skip"    // did not build or did not run: skipped (git bisect skip)
)

// Skipped reports whether the verdict takes the commit out of the search.
func (v Verdict) Skipped() bool { return v == Unclear || v == Skip }

// Stats are the tuning of the comparisons: the same threshold and
// significance level compare uses.
type Stats struct {
	Threshold float64 // relative change that counts (0.05 = 5 %)
	Alpha     float64 // Welch's t-test significance level
}

func (s Stats) opts() report.CompareOptions {
	a := s.Alpha
	if a <= 0 {
		a = 0.05
	}
	return report.CompareOptions{Threshold: s.Threshold, Alpha: a}
}

// Judge compares two sample sets of one case exactly as compare does
// (report.JudgeSamples): a regression is a slowdown beyond the threshold
// that Welch's t-test finds significant.
func (s Stats) Judge(base, next []float64) report.Delta {
	return report.JudgeSamples(base, next, s.opts())
}

// Confirm checks that bad is a regression from good; the error says why not.
func (s Stats) Confirm(good, bad []float64) (report.Delta, error) {
	d := s.Judge(good, bad)
	if d.Verdict != report.Regression {
		ch := "no numbers"
		if d.ChangePct != nil {
			ch = fmt.Sprintf("%+.1f %%", *d.ChangePct)
		}
		return d, fmt.Errorf("the bad end is not a regression from the good end (%s, %s): nothing to bisect", ch, d.Verdict)
	}
	return d, nil
}

// Classify judges a step's samples against both ends: bad when it is a
// regression from the good end and not an improvement over the bad end,
// good when it is an improvement over the bad end and not a regression from
// the good end. When it is both (it differs from each end, as a step
// measured in another moment of a busy machine can), its place between the
// ends decides, on a log scale: in the third nearest the bad end it is bad,
// in the third nearest the good end good. Anything else is unclear (more
// repetitions, then skip). No samples at all (the case failed) is Skip.
func (s Stats) Classify(good, bad, step []float64) Verdict {
	if len(step) == 0 {
		return Skip
	}
	fromGood := s.Judge(good, step).Verdict
	fromBad := s.Judge(bad, step).Verdict
	slower := fromGood == report.Regression
	faster := fromBad == report.Improvement
	switch {
	case slower && !faster:
		return Bad
	case faster && !slower:
		return Good
	case slower && faster:
		g, _ := MeanStd(good)
		b, _ := MeanStd(bad)
		m, _ := MeanStd(step)
		if g > b && b > 0 && m > 0 {
			switch p := math.Log(m/b) / math.Log(g/b); {
			case p < 1.0/3:
				return Bad
			case p > 2.0/3:
				return Good
			}
		}
	}
	return Unclear
}

// Repetitions is the policy for unclear steps: start with Min repetitions
// and, while a step is unclear, measure again with twice as many until Max.
type Repetitions struct{ Min, Max int }

// Next returns how many repetitions to measure an unclear step with after
// one measured with done, and false when Max was reached (the step is then
// skipped as unclear).
func (r Repetitions) Next(done int) (int, bool) {
	if done >= r.Max {
		return 0, false
	}
	n := 2 * done
	if n < r.Min {
		n = r.Min
	}
	return min(n, r.Max), true
}

// MeanStd is the mean and sample standard deviation of x (std 0 with one sample).
func MeanStd(x []float64) (mean, std float64) {
	if len(x) == 0 {
		return 0, 0
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	if len(x) < 2 {
		return mean, 0
	}
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(x)-1))
}
