package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/report"
	"github.com/haloforge/haloforge/bench/session"
	"github.com/haloforge/haloforge/recipes"
)

func init() { addCommand(newReproduceCmd()) }

type reproduceOpts struct {
	threshold   string
	plain       bool
	noBuild     bool
	planChanged bool
}

func newReproduceCmd() *cobra.Command {
	var o reproduceOpts
	cmd := &cobra.Command{
		Use:   "reproduce RUN",
		Short: "Rebuild a past run's exact stack, rerun the same cases and compare",
		Long: `reproduce takes a stored run's manifest — the stack.lock kept in its run
directory, its target and suite profile, its expanded cases — and:

  1. makes the build plan from that exact lock and checks it is the plan the
     run recorded (same digest: same pins, flags and cache keys);
  2. makes sure the images exist (the smoke image is built if missing; ROCm
     images come from ` + "`haloforge build --lock RUNDIR/stack.lock --export`" + `) and
     reports any image label that differs from what the run recorded;
  3. reruns exactly the same cases (same ids, argv, environment, models) as a
     new run marked as a reproduction of RUN;
  4. compares the original and the new run case by case (see haloforge compare).

RUN is a run id, a unique prefix, latest or latest~N.
Exit status: 0 reproduced, 3 a regression beyond --threshold, 2 some case did
not produce numbers, 1 the run cannot be reproduced (the message says why).

Examples:
  haloforge reproduce latest
  haloforge reproduce 20261126-130405-smoke --threshold 10%`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReproduce(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.threshold, "threshold", "5%", "smallest change that counts as a regression in the comparison")
	f.BoolVar(&o.plain, "plain", false, "plain progress lines even on a terminal")
	f.BoolVar(&o.noBuild, "no-build", false, "do not build a missing smoke image")
	f.BoolVar(&o.planChanged, "allow-plan-change", false, "rerun even when this haloforge's recipes make a different plan from the run's lock")
	return cmd
}

func runReproduce(cmd *cobra.Command, ref string, o reproduceOpts) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	out := cmd.OutOrStdout()
	th, err := parsePercent(o.threshold)
	if err != nil {
		return err
	}
	home := bench.Home()
	db, err := openResults(ctx, resultsLocation("", home), false)
	if err != nil {
		return fmt.Errorf("results database: %w", err)
	}
	id, err := db.Resolve(ctx, ref)
	_ = db.Close()
	if err != nil {
		return err
	}
	orig, cases, err := session.Original(home, id)
	if err != nil {
		return err
	}
	lock, err := checkPlan(out, home, orig, o.planChanged)
	if err != nil {
		return err
	}

	so, err := benchOpts{plain: o.plain, noBuild: o.noBuild, target: orig.Target, containerPrefix: "haloforge-"}.session(cmd)
	if err != nil {
		return err
	}
	so.Suite, so.Cases, so.ReproOf, so.Lock = session.SuiteFile(home, id), cases, id, lock
	_, _ = fmt.Fprintf(out, "rerunning the %d case(s) of %s\n", len(cases), id)
	sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	next, runErr := session.Run(sctx, so, benchWiring())
	stop()
	benchErr := benchExit(runErr)
	if next == nil {
		return benchErr
	}
	session.ImageDrift(out, orig, *next)
	if err := session.SameCases(cases, home, next.ID); err != nil {
		return err
	}

	db, err = openResults(ctx, resultsLocation("", home), false)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	base, err := db.Run(ctx, id)
	if err != nil {
		return err
	}
	newer, err := db.Run(ctx, next.ID)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(out, "\n## %s reproduced as %s\n\n", id, next.ID)
	if err := compareRuns(out, base, newer, report.CompareOptions{Threshold: th, Alpha: 0.05}, false, "reproducing "+id); err != nil {
		return err
	}
	return benchErr
}

// checkPlan rebuilds the plan from the run's own lock and compares it with
// the plan the run recorded; it returns that lock, which the reproduction
// records as its own.
func checkPlan(out io.Writer, home string, run bench.Run, allowChange bool) (*recipes.Lock, error) {
	if run.Stack == nil {
		return nil, fmt.Errorf("run %s recorded no build plan (imported, or made by an older haloforge): it cannot be reproduced exactly", run.ID)
	}
	lock, err := runLock(home, run.ID)
	if err != nil {
		return nil, err
	}
	if lock.Digest() != run.LockDigest {
		return nil, fmt.Errorf("run %s: %s has digest %s but the run recorded %s: the run directory was modified", run.ID, stackFile, lock.Digest(), run.LockDigest)
	}
	set, err := recipes.Request{}.LoadSet() // the checkout's recipes, as bench recorded them
	if err != nil {
		return nil, err
	}
	info, err := planInfo(set, lock, run.Target, run.Stack.Profile)
	if err != nil {
		return nil, fmt.Errorf("run %s: this haloforge's recipes cannot use the run's lock (%w); check out haloforge %s to reproduce it", run.ID, err, run.Stack.Haloforge)
	}
	_, _ = fmt.Fprintf(out, "lock   %s (from %s)\n", lock.Digest(), filepath.Join(bench.RunDir(home, run.ID), stackFile))
	if info.PlanDigest == run.Stack.PlanDigest {
		_, _ = fmt.Fprintf(out, "plan   same as the run: %s, %d steps (profile %q, target %s)\n", info.PlanDigest, len(info.Steps), info.Profile, run.Target)
		return lock, nil
	}
	_, _ = fmt.Fprintf(out, "plan   DIFFERS from the run: %s now, %s then\n", info.PlanDigest, run.Stack.PlanDigest)
	for _, s := range info.Steps {
		if !slices.Contains(run.Stack.Steps, s) {
			_, _ = fmt.Fprintf(out, "  now  %s\n", s)
		}
	}
	for _, s := range run.Stack.Steps {
		if !slices.Contains(info.Steps, s) {
			_, _ = fmt.Fprintf(out, "  then %s\n", s)
		}
	}
	if allowChange {
		return lock, nil
	}
	return nil, fmt.Errorf("the recipes changed since run %s (made by haloforge %s): check out that version to rebuild the same stack, or pass --allow-plan-change", run.ID, run.Stack.Haloforge)
}
