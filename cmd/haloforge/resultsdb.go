package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/report"
	"github.com/haloforge/haloforge/bench/store"
	"github.com/haloforge/haloforge/recipes"
)

// loadWholeRuns tunes the garbage collector for a command that loads whole
// runs and exits: a 20,000-test run is some 100 MB of records that all stay
// live until the output is written, and collecting at 400 % growth instead
// of 100 % spends about a fifth less CPU for some 15 % more peak memory
// (measured on compare of two such runs). GOGC, when set, wins.
func loadWholeRuns() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// resultsFlags are the flags every results command shares.
type resultsFlags struct {
	home string
	db   string
}

func (f *resultsFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.home, "home", "", "haloforge data directory (default: $HALOFORGE_HOME, else $XDG_DATA_HOME/haloforge, else ~/.local/share/haloforge)")
	cmd.Flags().StringVar(&f.db, "db", "", "results database: a SQLite file, or a PostgreSQL DSN postgres://USER:PASS@HOST:PORT/DB shared by a fleet (default: $HALOFORGE_DB, else HOME/results.db)")
}

// dbEnv names the results database when --db is not given: a SQLite path or
// a postgres:// DSN.
const dbEnv = "HALOFORGE_DB"

func (f *resultsFlags) path() string {
	return resultsLocation(f.db, homeOr(f.home))
}

// homeOr is the haloforge data directory: a --home flag's value, else
// bench.Home().
func homeOr(flag string) string {
	if flag != "" {
		return flag
	}
	return bench.Home()
}

// resultsLocation is where results go: --db, else $HALOFORGE_DB, else the
// SQLite file under home.
func resultsLocation(flag, home string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(dbEnv); env != "" {
		return env
	}
	return bench.DBPath(home)
}

// open opens the results store; with mustExist (the readers: report,
// compare, history) an absent SQLite file is an error rather than a new
// empty one, and the file is opened read-only, so a read-only home or mount
// still reads.
func (f *resultsFlags) open(mustExist bool) (store.Results, error) {
	return openResults(context.Background(), f.path(), mustExist)
}

// openResults is the one place the CLI opens a results store: a postgres://
// DSN is a PostgreSQL database, anything else a SQLite file, opened
// read-only when mustExist.
func openResults(ctx context.Context, where string, mustExist bool) (store.Results, error) {
	if mustExist && !store.IsDSN(where) {
		if _, err := os.Stat(where); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no results database at %s: run `haloforge bench` or `haloforge import FILE...` first, or pass --db/--home (or set %s)", where, dbEnv)
		}
		return store.OpenReadOnly(where)
	}
	return store.OpenAny(ctx, where)
}

// targetFlags pick the peaks efficiency is measured against.
type targetFlags struct {
	name   string
	tflops float64
	gbs    float64
}

func (t *targetFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.name, "target", "", "GPU target whose peaks to use (default: the run's target; known: "+strings.Join(recipes.TargetNames(), ", ")+")")
	cmd.Flags().Float64Var(&t.tflops, "peak-tflops", 0, "peak FP16/BF16 TFLOPS (overrides the target's)")
	cmd.Flags().Float64Var(&t.gbs, "peak-gbs", 0, "peak memory bandwidth in GB/s (overrides the target's)")
}

func (t *targetFlags) resolve(runTarget string, warn io.Writer) report.Target {
	name := t.name
	if name == "" {
		name = runTarget
	}
	if name == "" {
		name = report.DefaultTarget.Name
	}
	tg, _ := report.TargetOf(name)
	if t.tflops > 0 {
		tg.PeakTFLOPS = t.tflops
	}
	if t.gbs > 0 {
		tg.PeakGBs = t.gbs
	}
	if tg.PeakTFLOPS == 0 || tg.PeakGBs == 0 {
		_, _ = fmt.Fprintf(warn, "haloforge: no peak figures for target %q: efficiency columns left out (pass --peak-tflops and --peak-gbs)\n", name)
	}
	return tg
}

// output opens -o FILE, or returns stdout.
func output(cmd *cobra.Command, path string) (io.Writer, func() error, error) {
	// Buffered: a report is written in many small pieces (an HTML page of a
	// 20,000-test run is some 100,000 writes), one system call each without.
	if path == "" || path == "-" {
		b := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
		return b, b.Flush, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", path, err)
	}
	b := bufio.NewWriterSize(f, 64<<10)
	return b, func() error {
		err := b.Flush()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}, nil
}
