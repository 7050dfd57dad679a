package bisect

import (
	"fmt"
	"strings"
)

// Commit is one first-parent commit of the range.
type Commit struct {
	Hash    string `json:"hash"`
	Subject string `json:"subject"`
	Date    string `json:"date"` // author date, ISO 8601
}

// Short is the commit's abbreviated hash.
func (c Commit) Short() string {
	if len(c.Hash) > 12 {
		return c.Hash[:12]
	}
	return c.Hash
}

// Outcome is where a search stands.
type Outcome struct {
	// Next is the index of the commit to test next, or -1 when done.
	Next int
	// FirstBad is the index of the first bad commit once found, else -1.
	FirstBad int
	// Candidates, when the search ended without a single guilty commit,
	// are the indices of the commits one of which is the first bad one
	// (skipped commits and the first bad commit after them).
	Candidates []int
	// Remaining is how many commits may still be the first bad one.
	Remaining int
}

// Done reports whether the search has ended.
func (o Outcome) Done() bool { return o.Next < 0 }

// Search picks the next commit of range r to test from the verdicts so far.
// r runs oldest to newest, first-parent: r[0] is the good pin, r[len-1] the
// bad pin (both known, whatever verdicts says about them). Verdicts are by
// commit hash. Like git bisect, the next commit is the untested, unskipped
// one nearest the middle of the range still in doubt, and a search whose
// only remaining commits are skipped ends with those as Candidates.
func Search(r []Commit, verdicts map[string]Verdict) (Outcome, error) {
	if len(r) < 2 {
		return Outcome{}, fmt.Errorf("a range needs the good and the bad commit, got %d commit(s)", len(r))
	}
	lo, hi := 0, len(r)-1
	for i := 1; i < len(r)-1; i++ {
		if verdicts[r[i].Hash] == Good {
			lo = max(lo, i)
		}
	}
	for i := len(r) - 2; i > 0; i-- {
		if verdicts[r[i].Hash] == Bad {
			hi = min(hi, i)
		}
	}
	if lo > hi {
		return Outcome{}, fmt.Errorf("commit %s is good but the older %s is bad: the range has more than one regression; bisect a smaller range (--good/--bad runs closer together)", r[lo].Short(), r[hi].Short())
	}
	var open []int
	for i := lo + 1; i < hi; i++ {
		if v := verdicts[r[i].Hash]; v == "" {
			open = append(open, i)
		}
	}
	out := Outcome{Next: -1, FirstBad: -1, Remaining: hi - lo}
	if len(open) == 0 {
		if hi == lo+1 {
			out.FirstBad = hi
			return out, nil
		}
		for i := lo + 1; i <= hi; i++ {
			out.Candidates = append(out.Candidates, i)
		}
		return out, nil
	}
	mid := float64(lo+hi) / 2
	best := open[0]
	for _, i := range open[1:] {
		if abs(float64(i)-mid) < abs(float64(best)-mid) {
			best = i
		}
	}
	out.Next = best
	return out, nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// ParseLog reads `git log --first-parent --format=%H%x1f%aI%x1f%s`
// output (newest first) into a range oldest first.
func ParseLog(out string) ([]Commit, error) {
	var cs []Commit
	for n, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "\x1f", 3)
		if len(f) != 3 || len(f[0]) < 7 {
			return nil, fmt.Errorf("git log line %d: %q is not HASH<US>DATE<US>SUBJECT", n+1, line)
		}
		cs = append(cs, Commit{Hash: f[0], Date: f[1], Subject: f[2]})
	}
	for i, j := 0, len(cs)-1; i < j; i, j = i+1, j-1 {
		cs[i], cs[j] = cs[j], cs[i]
	}
	return cs, nil
}
