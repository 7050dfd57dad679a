package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// MigrateCounts is what Migrate did.
type MigrateCounts struct {
	Runs, Skipped, Updated, Cases, LlamaRows int
	// Clashes are runs not copied because the destination holds another
	// run (other start time or host) under the same id.
	Clashes []string
}

// Migrate copies every run of src missing from (or grown since in) dst,
// oldest first, each in one transaction, printing progress to log. A run dst
// already holds with as many cases and the same finish time is skipped, so
// rerunning copies nothing twice; a run that grew since is replaced; a run
// whose id dst holds for another run (SameRun false) is never copied over
// it: it is counted in Clashes and Migrate returns an error naming them
// after copying the rest. With dryRun nothing is written.
func Migrate(ctx context.Context, src, dst Results, dryRun bool, log io.Writer) (MigrateCounts, error) {
	var n MigrateCounts
	list, err := src.Runs(ctx, RunFilter{})
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
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return n, fmt.Errorf("look up run %s in %s: %w", id, dst.Path(), err)
		case !SameRun(have, run):
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
				if errors.Is(err, ErrExists) { // another migrator copied it just now
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
