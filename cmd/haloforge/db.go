package main

import (
	"context"
	"fmt"
	"os"

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
			n, err := store.Migrate(ctx, src, dst, dryRun, cmd.ErrOrStderr())
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
