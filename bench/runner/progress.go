package runner

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/suite"
)

// Progress reports a run as it goes.
type Progress interface {
	Begin(runID string, total, done int)
	CaseStart(c suite.Case)
	CaseDone(c suite.Case, r bench.CaseResult)
	Note(msg string)
	End()
}

var (
	_ Progress = nopProgress{}
	_ Progress = (*Lines)(nil)
	_ Progress = (*Bar)(nil)
)

type nopProgress struct{}

func (nopProgress) Begin(string, int, int)                {}
func (nopProgress) CaseStart(suite.Case)                  {}
func (nopProgress) CaseDone(suite.Case, bench.CaseResult) {}
func (nopProgress) Note(string)                           {}
func (nopProgress) End()                                  {}

// Summary is a one-line summary of a case result: status, wall time and
// each llama-bench test's t/s.
func Summary(r bench.CaseResult) string {
	var b strings.Builder
	_, _ = fmt.Fprintf(&b, "%s %.1fs", r.Status, r.Finished.Sub(r.Started).Seconds())
	for _, l := range r.Llama {
		_, _ = fmt.Fprintf(&b, "  %s %.2f±%.2f t/s", l.Label(), l.AvgTS, l.StddevTS)
	}
	if r.Status != bench.StatusOK && r.Error != "" {
		b.WriteString("  " + r.Error)
	}
	return b.String()
}

// Lines prints plain lines, for logs and pipes.
type Lines struct {
	W     io.Writer
	total int
	n     int
	start time.Time
}

// Begin prints the run header.
func (l *Lines) Begin(runID string, total, done int) {
	l.total, l.n, l.start = total, done, time.Now()
	if done > 0 {
		_, _ = fmt.Fprintf(l.W, "run %s: %d cases, %d already done, resuming\n", runID, total, done)
	} else {
		_, _ = fmt.Fprintf(l.W, "run %s: %d cases\n", runID, total)
	}
}

// CaseStart prints the case about to run.
func (l *Lines) CaseStart(c suite.Case) {
	_, _ = fmt.Fprintf(l.W, "[%d/%d] %s ...\n", l.n+1, l.total, c.ID)
}

// CaseDone prints the case's outcome.
func (l *Lines) CaseDone(c suite.Case, r bench.CaseResult) {
	l.n++
	_, _ = fmt.Fprintf(l.W, "[%d/%d] %s: %s\n", l.n, l.total, c.ID, Summary(r))
}

// Note prints a note.
func (l *Lines) Note(msg string) { _, _ = fmt.Fprintln(l.W, "note:", msg) }

// End prints the elapsed time.
func (l *Lines) End() {
	_, _ = fmt.Fprintf(l.W, "%d/%d cases done in %s\n", l.n, l.total, time.Since(l.start).Round(time.Second))
}

// Bar is the live terminal display: cases done/total, the current case,
// elapsed time and ETA, with finished cases printed above the bar.
type Bar struct {
	W       io.Writer
	mu      sync.Mutex
	p       *mpb.Progress
	bar     *mpb.Bar
	current string
	started time.Time
}

// Begin draws the bar.
func (b *Bar) Begin(runID string, total, done int) {
	b.p = mpb.New(mpb.WithOutput(b.W), mpb.WithAutoRefresh(), mpb.WithRefreshRate(200*time.Millisecond))
	b.bar = b.p.New(int64(total), mpb.BarStyle(),
		mpb.PrependDecorators(
			decor.Name(runID+" ", decor.WCSyncSpaceR),
			decor.CountersNoUnit("%d/%d cases", decor.WCSyncSpace),
		),
		mpb.AppendDecorators(
			decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace),
			decor.Name(" ETA "),
			decor.EwmaETA(decor.ET_STYLE_GO, 30, decor.WCSyncSpace),
			decor.Any(func(decor.Statistics) string {
				b.mu.Lock()
				defer b.mu.Unlock()
				if b.current == "" {
					return ""
				}
				return "  " + b.current
			}),
		),
	)
	b.bar.SetCurrent(int64(done))
	_ = b.bar.DecoratorAverageAdjust(time.Now())
}

// CaseStart shows the current case.
func (b *Bar) CaseStart(c suite.Case) {
	b.mu.Lock()
	b.current, b.started = c.ID, time.Now()
	b.mu.Unlock()
}

// CaseDone advances the bar and prints the case's outcome above it.
func (b *Bar) CaseDone(c suite.Case, r bench.CaseResult) {
	b.mu.Lock()
	b.current = ""
	started := b.started
	b.mu.Unlock()
	_, _ = fmt.Fprintf(b.p, "%s: %s\n", c.ID, Summary(r))
	b.bar.EwmaIncrement(time.Since(started))
}

// Note prints a note above the bar.
func (b *Bar) Note(msg string) { _, _ = fmt.Fprintf(b.p, "note: %s\n", msg) }

// End finishes the display.
func (b *Bar) End() {
	if b.bar != nil && !b.bar.Completed() {
		b.bar.Abort(false)
	}
	if b.p != nil {
		b.p.Wait()
	}
}
