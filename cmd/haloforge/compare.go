package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/report"
)

func init() { addCommand(newCompareCmd()) }

// exitRegression is compare's exit code when a significant regression
// beyond the threshold was found.
const exitRegression = 3

// parsePercent reads "5%", "5" (both 5 %) or "0.05" (a fraction).
func parsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad --threshold %q: give a percentage such as 5%%", s)
	}
	if pct || v >= 1 {
		v /= 100
	}
	return v, nil
}

// compareRuns compares base with next and writes the comparison to w (JSON
// with asJSON, else markdown). Regressions are an exitRegression error,
// "N regression(s) beyond T % " followed by what.
func compareRuns(out io.Writer, base, next bench.Run, o report.CompareOptions, asJSON bool, what string) error {
	c := report.Compare(base, next, o)
	w := bufio.NewWriterSize(out, 64<<10) // a large comparison is many small writes
	var err error
	if asJSON {
		err = jsonOut(w, c)
	} else {
		err = c.Markdown(w)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if regs := c.Regressions(); len(regs) > 0 {
		if r := regs[0]; !asJSON && r.New != nil && r.Key.Check == "" {
			_, _ = fmt.Fprintf(out, "\nFind the commit: haloforge bisect --good %s --bad %s --case %s --test %s --source COMPONENT=DIR\n", base.ID, next.ID, r.New.Case, r.Key.Test())
		}
		return &exitError{code: exitRegression, err: fmt.Errorf("%d regression(s) beyond %.1f %% %s", len(regs), o.Threshold*100, what)}
	}
	return nil
}

func newCompareCmd() *cobra.Command {
	var (
		db        resultsFlags
		threshold string
		alpha     float64
		format    string
	)
	cmd := &cobra.Command{
		Use:   "compare BASE NEW",
		Short: "Compare two runs case by case; exit 3 on a significant regression beyond the threshold",
		Long: `Compare the llama-bench results of two stored runs. Cases are matched by model,
backend build (cpu, hip, hip-rocwmma, vulkan), flash attention, -b/-ub,
n_prompt, n_gen and n_depth, and by the other llama-bench key properties
(type_k, n_gpu_layers, ...) wherever both runs' llama-bench printed them, so
runs from llama-bench versions with different field sets still match.

For each case: the change in t/s and whether it is significant. With two or
more samples on each side (json/jsonl output keeps samples_ts) that is
Welch's t-test, p < --alpha; without samples the two runs' mean ± stddev
ranges must not overlap; with no spread at all the threshold alone decides.
A regression is a significant slowdown beyond --threshold, or a case that ran
in BASE and hung or crashed in NEW. Beyond the threshold but not significant
is reported as inconclusive.

BASE and NEW are run ids, unique prefixes, latest or latest~N.
Exit status: 0 no regression, 3 regression(s), 1 error.

Examples:
  haloforge compare latest~1 latest
  haloforge compare 20261120 20261126 --threshold 3%
  haloforge compare latest~1 latest --format json | jq '.deltas[] | select(.verdict=="regression")'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			loadWholeRuns()
			th, err := parsePercent(threshold)
			if err != nil {
				return err
			}
			if alpha <= 0 || alpha >= 1 {
				return fmt.Errorf("bad --alpha %v: give a significance level between 0 and 1, e.g. 0.05", alpha)
			}
			if format != "md" && format != "json" {
				return fmt.Errorf("unknown --format %q: use md or json", format)
			}
			s, err := db.open(true)
			if err != nil {
				return err
			}
			defer func() { _ = s.Close() }()
			ctx := context.Background()
			// The two runs load side by side (each decodes its own results).
			var next bench.Run
			var nextErr error
			done := make(chan struct{})
			go func() {
				defer close(done)
				next, nextErr = loadRunToCompare(ctx, s, args[1])
			}()
			base, err := loadRunToCompare(ctx, s, args[0])
			<-done
			if err != nil {
				return fmt.Errorf("BASE: %w", err)
			}
			if nextErr != nil {
				return fmt.Errorf("NEW: %w", nextErr)
			}
			return compareRuns(cmd.OutOrStdout(), base, next, report.CompareOptions{Threshold: th, Alpha: alpha},
				format == "json", fmt.Sprintf("from %s to %s", base.ID, next.ID))
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&threshold, "threshold", "5%", "smallest change that counts as a regression or improvement")
	cmd.Flags().Float64Var(&alpha, "alpha", 0.05, "significance level of Welch's t-test")
	cmd.Flags().StringVar(&format, "format", "md", "output format: md or json")
	return cmd
}
