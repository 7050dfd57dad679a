package report

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/store"
	"github.com/haloforge/haloforge/internal/testfix"
)

// The 10k database: two runs ("big" and "big2", the second 2 % faster) of
// 10,000 llama-bench cases each (20,000 tests per run with every
// llama-bench field and samples), in SQLite. Built once per test binary.
var (
	bigOnce sync.Once
	bigPath string
	bigErr  error
)

func bigRun(id string, started time.Time, scale float64, recs []bench.CaseResult) bench.Run {
	run := bench.Run{ID: id, Suite: "seed", Target: "gfx1151", Started: started}
	run.Cases = recs
	return run
}

func bigDB(b *testing.B) store.Results {
	b.Helper()
	bigOnce.Do(func() {
		recs := testfix.Llama(b, "bench.json")
		dir, err := os.MkdirTemp("", "report-10k-")
		if err != nil {
			bigErr = err
			return
		}
		bigPath = filepath.Join(dir, "results.db")
		s, err := store.Open(bigPath)
		if err != nil {
			bigErr = err
			return
		}
		defer func() { _ = s.Close() }()
		backends := []string{"cpu", "hip", "hip-rocwmma", "vulkan"}
		t0 := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
		for r, id := range []string{"big", "big2"} {
			var cases []bench.CaseResult
			for i := 0; i < 10000; i++ {
				c := llamaCase(fmt.Sprintf("llama/m%d/%s/fa%d/%d", i%50, backends[i%4], i%2, i), backends[i%4],
					fmt.Sprintf("model-%02d", i%50), []string{"-fa", fmt.Sprint(i % 2)}, scaled(recs, (1+float64(i%7)/100)*(1+0.02*float64(r)))...)
				for j := range c.Llama {
					c.Llama[j].FlashAttn = i % 2
					c.Llama[j].NBatch = 256 << (i / 200 % 4)
				}
				cases = append(cases, c)
			}
			if bigErr = s.PutRunWithCases(context.Background(), bigRun(id, t0.Add(time.Duration(r)*24*time.Hour), 1, cases), false); bigErr != nil {
				return
			}
		}
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	runtime.GC() // the build's garbage is not the benchmark's
	s, err := store.OpenReadOnly(bigPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMetric reports CPU seconds per op next to wall time: on a shared,
// loaded machine wall time measures the neighbours too.
func cpuMetric(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op") }
}

// loadBig loads a run as the command does: report reads typed fields only
// (RunTyped), compare those and the fields it matches on (RunFields).
func loadBig(b *testing.B, s store.Results, ref string, typed bool) bench.Run {
	b.Helper()
	id, err := s.Resolve(context.Background(), ref)
	if err != nil {
		b.Fatal(err)
	}
	load := func(ctx context.Context, id string) (bench.Run, error) { return s.RunFields(ctx, id, CompareFields()) }
	if typed {
		load = s.RunTyped
	}
	r, err := load(context.Background(), id)
	if err != nil {
		b.Fatal(err)
	}
	if len(r.Cases) != 10000 {
		b.Fatalf("%d cases", len(r.Cases))
	}
	return r
}

// BenchmarkReport10k: haloforge report on the 10k database: load the run,
// lay it out, render markdown. The goal is under 2 s.
func BenchmarkReport10k(b *testing.B) {
	s := bigDB(b)
	b.ResetTimer()
	defer cpuMetric(b)()
	for i := 0; i < b.N; i++ {
		r := loadBig(b, s, "big", true)
		if err := Build(r, DefaultTarget).Markdown(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHTML10k: haloforge report --html on the 10k database, plots included.
func BenchmarkHTML10k(b *testing.B) {
	s := bigDB(b)
	b.ResetTimer()
	defer cpuMetric(b)()
	for i := 0; i < b.N; i++ {
		r := loadBig(b, s, "big", true)
		if err := Build(r, DefaultTarget).HTML(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompare10k: haloforge compare big big2: load both runs, match
// 20,000 tests, judge each, render markdown.
func BenchmarkCompare10k(b *testing.B) {
	s := bigDB(b)
	b.ResetTimer()
	defer cpuMetric(b)()
	for i := 0; i < b.N; i++ {
		base, next := loadBig(b, s, "big", false), loadBig(b, s, "big2", false)
		c := Compare(base, next, CompareOptions{Threshold: 0.05})
		if len(c.Deltas) != 20000 {
			b.Fatalf("%d deltas", len(c.Deltas))
		}
		if err := c.Markdown(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHistoryTest10k: haloforge history --test pp512 over the 10k
// database (every llama-bench case of both runs).
func BenchmarkHistoryTest10k(b *testing.B) {
	s := bigDB(b)
	ctx := context.Background()
	b.ResetTimer()
	defer cpuMetric(b)()
	for i := 0; i < b.N; i++ {
		runs, err := s.CaseHistory(ctx, store.HistoryFilter{Tool: bench.ToolLlamaBench})
		if err != nil {
			b.Fatal(err)
		}
		h := BuildHistory(runs, "pp512")
		if len(h.Series) == 0 {
			b.Fatal("no series")
		}
		if err := h.Markdown(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
