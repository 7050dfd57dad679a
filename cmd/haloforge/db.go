package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/store"
)

func init() { addCommand(newDBCmd()) }

func newDBCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Results database chores: copy a SQLite history into a fleet's PostgreSQL",
		Long: `Results live in an embedded SQLite file (HOME/results.db) by default. A fleet
of runners can share one PostgreSQL database instead: give every command
--db postgres://USER:PASSWORD@HOST:PORT/DB, or set HALOFORGE_DB to it.
report, compare, history, import and bench then read and write there; runs of
different runners never collide (run ids carry the host and a random tag).

Examples:
  export HALOFORGE_DB=postgres://haloforge:secret@db.lab:5432/haloforge?sslmode=require
  haloforge db migrate --from ~/.local/share/haloforge/results.db
  haloforge history`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDBMigrateCmd())
	return cmd
}

// migrateCounts is what db migrate did.
type migrateCounts struct {
	Runs, Skipped, Updated, Cases, LlamaRows int
	// Clashes are runs not copied because the destination holds another
	// run (other start time or host) under the same id.
	Clashes []string
}

func newDBMigrateCmd() *cobra.Command {
	var from, to, home string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "migrate --from SQLITE_FILE --to postgres://...",
		Short: "Copy every run of a SQLite results database into PostgreSQL (idempotent)",
		Long: `Copy the runs of a SQLite results database (headers, cases with their logs'
paths, peaks, llama-bench rows in llama-bench's own columns, mamf-finder and
bandwidth results) into a PostgreSQL results database, creating its tables on
first use. Each run is copied in one transaction: all of it or none.

Rerunning is safe: a run already in the target with the same cases and
finish time is skipped, so nothing is copied twice. A run that has grown
since (it was copied while still running, or resumed later) is replaced by
the source's version. Runs only in the target are left alone, so several
boxes can migrate their histories into one database.

--from defaults to HOME/results.db; --to defaults to $HALOFORGE_DB.

Examples:
  haloforge db migrate --from ~/.local/share/haloforge/results.db \
      --to postgres://haloforge:secret@db.lab:5432/haloforge
  haloforge db migrate --to "$HALOFORGE_DB" --dry-run     # count what would be copied
  HALOFORGE_DB=postgres://... haloforge history            # then read the fleet's runs

Prints: runs copied, updated and skipped, and the cases and llama-bench rows copied.
A run whose id the destination holds for another run (other start time or
host) is never copied over it: it is named, and migrate exits non-zero.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				from = bench.DBPath(homeOr(home))
			}
			if to == "" {
				to = os.Getenv(dbEnv)
			}
			if !store.IsDSN(to) {
				return fmt.Errorf("--to %q: give the PostgreSQL database as postgres://USER:PASSWORD@HOST:PORT/DB (or set %s)", to, dbEnv)
			}
			if store.IsDSN(from) {
				return fmt.Errorf("--from %s: give the SQLite file to copy from (HOME/results.db)", store.RedactDSN(from))
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if _, err := os.Stat(from); err != nil {
				return fmt.Errorf("--from %s: %w (give the SQLite results database to copy, e.g. ~/.local/share/haloforge/results.db)", from, err)
			}
			src, err := openResults(ctx, from, true)
			if err != nil {
				return err
			}
			defer func() { _ = src.Close() }()
			dst, err := openResults(ctx, to, false)
			if err != nil {
				return err
			}
			defer func() { _ = dst.Close() }()
			n, err := migrateRuns(ctx, src, dst, dryRun, cmd.ErrOrStderr())
			verb := "copied"
			if dryRun {
				verb = "would copy"
			}
			_, _ = fmt.Fprintf(cmd.OutOrStdout(), "%s %d run(s) (%d case(s), %d llama-bench row(s)), updated %d, skipped %d already present: %s -> %s\n",
				verb, n.Runs, n.Cases, n.LlamaRows, n.Updated, n.Skipped, src.Path(), dst.Path())
			return err
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "SQLite results database to copy (default: HOME/results.db)")
	cmd.Flags().StringVar(&to, "to", "", "PostgreSQL DSN to copy into (default: $"+dbEnv+")")
	cmd.Flags().StringVar(&home, "home", "", "haloforge data directory whose results.db is the default --from")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be copied, write nothing")
	return cmd
}

// migrateRuns copies every run of src missing from (or grown since in) dst,
// oldest first, each in one transaction, printing progress to log.
func migrateRuns(ctx context.Context, src, dst store.Results, dryRun bool, log io.Writer) (migrateCounts, error) {
	var n migrateCounts
	list, err := src.Runs(ctx, store.RunFilter{})
	if err != nil {
		return n, fmt.Errorf("list runs of %s: %w", src.Path(), err)
	}
	for i := len(list) - 1; i >= 0; i-- { // Runs is newest first
		id := list[i].ID
		run, err := src.Run(ctx, id)
		if err != nil {
			return n, fmt.Errorf("read run %s from %s: %w", id, src.Path(), err)
		}
		have, err := dst.Run(ctx, id)
		replace := false
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return n, fmt.Errorf("look up run %s in %s: %w", id, dst.Path(), err)
		case !store.SameRun(have, run):
			_, _ = fmt.Fprintf(log, "haloforge db migrate: run %s not copied: %s holds another run under that id (started %s on %q; this one started %s on %q)\n",
				id, dst.Path(), have.Started.UTC().Format(time.RFC3339), have.Host.Hostname, run.Started.UTC().Format(time.RFC3339), run.Host.Hostname)
			n.Clashes = append(n.Clashes, id)
			continue
		case len(have.Cases) >= len(run.Cases) && have.Finished.Equal(run.Finished):
			n.Skipped++
			continue
		default:
			replace = true
		}
		if !dryRun {
			if err := dst.PutRunWithCases(ctx, run, replace); err != nil {
				if errors.Is(err, store.ErrExists) { // another migrator copied it just now
					n.Skipped++
					continue
				}
				return n, fmt.Errorf("copy run %s: %w (runs before it were copied; rerun to continue)", id, err)
			}
		}
		if replace {
			n.Updated++
		} else {
			n.Runs++
		}
		n.Cases += len(run.Cases)
		for _, c := range run.Cases {
			n.LlamaRows += len(c.Llama)
		}
		if done := len(list) - i; done%50 == 0 {
			_, _ = fmt.Fprintf(log, "haloforge db migrate: %d/%d runs\n", done, len(list))
		}
	}
	if len(n.Clashes) > 0 {
		return n, fmt.Errorf("%d run(s) not copied because %s holds other runs under their ids: %s; they stay in %s (read them with --db %s)",
			len(n.Clashes), dst.Path(), strings.Join(n.Clashes, ", "), src.Path(), src.Path())
	}
	return n, nil
}
