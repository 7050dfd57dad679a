package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/ingest"
)

// db rebuild hangs under db (db.go's init runs first: files initialise in
// name order).
func init() {
	for _, c := range subcommands {
		if c.Name() == "db" {
			c.AddCommand(newDBRebuildCmd())
		}
	}
}

func newDBRebuildCmd() *cobra.Command {
	var f resultsFlags
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "rebuild",
		Short: "Rebuild the results database from the run directories on disk",
		Long: `rebuild reads every run directory under HOME/runs (run.json and the
cases/*.json the runner writes atomically, case by case) and writes each run
with its cases into the results database, creating it when it is missing.
Use it when results.db was deleted, lost or restored from an old backup, or
when a run finished while the database was unreachable. Writes are
idempotent upserts: rerunning changes nothing. A run whose id the database
holds for another host or start time is reported and left alone.

Examples:
  haloforge db rebuild
  haloforge db rebuild --home /mnt/old-home
  haloforge db rebuild --db postgres://haloforge@db.lab/haloforge`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			home := f.home
			if home == "" {
				home = bench.Home()
			}
			runs, problems, err := ingest.RunDirs(home)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, p := range problems {
				_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "skipped: %s\n", p)
			}
			if dryRun {
				for _, r := range runs {
					_, _ = fmt.Fprintf(out, "%s  %d cases\n", r.Run.ID, len(r.Run.Cases))
				}
				return nil
			}
			db, err := openResults(ctx, resultsLocation(f.db, home), false)
			if err != nil {
				return fmt.Errorf("results database: %w", err)
			}
			defer func() { _ = db.Close() }()
			nRuns, nCases := 0, 0
			for _, r := range runs {
				hdr := r.Run
				hdr.Cases = nil
				if err := db.PutRun(ctx, hdr); err != nil {
					problems = append(problems, r.Run.ID)
					_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "skipped: run %s: %v\n", r.Run.ID, err)
					continue
				}
				for _, c := range r.Run.Cases {
					if err := db.PutCase(ctx, r.Run.ID, c); err != nil {
						return fmt.Errorf("run %s case %s: %w", r.Run.ID, c.ID, err)
					}
					nCases++
				}
				nRuns++
			}
			_, _ = fmt.Fprintf(out, "rebuilt %d run(s), %d case(s) into %s from %s/runs\n", nRuns, nCases, db.Path(), home)
			if len(problems) > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d run(s) skipped (see above)", len(problems))}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list the runs that would be written")
	return cmd
}
