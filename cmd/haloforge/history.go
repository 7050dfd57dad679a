package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/report"
	"github.com/haloforge/haloforge/bench/store"
)

func init() { addCommand(newHistoryCmd()) }

func jsonOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// loadRunTyped resolves a run reference and loads the run with its
// llama-bench records' typed fields only (report reads no other).
func loadRunTyped(ctx context.Context, s store.Results, ref string) (bench.Run, error) {
	id, err := s.Resolve(ctx, ref)
	if err != nil {
		return bench.Run{}, err
	}
	return s.RunTyped(ctx, id)
}

// loadRunToCompare resolves a run reference and loads the run with what
// compare reads of it.
func loadRunToCompare(ctx context.Context, s store.Results, ref string) (bench.Run, error) {
	id, err := s.Resolve(ctx, ref)
	if err != nil {
		return bench.Run{}, err
	}
	return s.RunFields(ctx, id, report.CompareFields())
}

func newHistoryCmd() *cobra.Command {
	var (
		db                   resultsFlags
		model, backend, test string
		suite                string
		format               string
		limit                int
	)
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List stored runs, or show a case's t/s across runs with component version changes marked",
		Long: `Without filters, list the stored runs (newest first) with their case counts.

With --model, --backend or --test, show each matching llama-bench case across
runs, oldest first: t/s (mean ± std), the change from the previous run, the
llama.cpp build, and a ▶ mark on the run where a component version changed:
llama-bench's build_commit/build_number, the image's io.haloforge.* version
labels (and OCI version/revision labels), the kernel or linux-firmware.

Examples:
  haloforge history                                   # the runs
  haloforge history --model llama-2-7b-q4_0 --test pp512
  haloforge history --backend hip-rocwmma --test tg128 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loadWholeRuns()
			if format != "md" && format != "json" {
				return fmt.Errorf("unknown --format %q: use md or json", format)
			}
			s, err := db.open(true)
			if err != nil {
				return err
			}
			defer func() { _ = s.Close() }()
			ctx := context.Background()
			w := cmd.OutOrStdout()
			if model == "" && backend == "" && test == "" {
				runs, err := s.Runs(ctx, store.RunFilter{Suite: suite, Limit: limit})
				if err != nil {
					return err
				}
				if format == "json" {
					return jsonOut(w, runs)
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				_, _ = fmt.Fprintln(tw, "RUN\tSUITE\tTARGET\tSTARTED (UTC)\tCASES\tFAILED")
				for _, r := range runs {
					_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", r.ID, r.Suite, r.Target, r.Started.UTC().Format("2006-01-02 15:04"), r.Cases, r.Failed)
				}
				if len(runs) == 0 {
					_, _ = fmt.Fprintln(tw, "(no runs stored)")
				}
				return tw.Flush()
			}
			hf := store.HistoryFilter{Model: model, Backend: backend, Suite: suite, Tool: bench.ToolLlamaBench}
			if test != "" {
				p, n, d, ok := report.ParseTest(test)
				if !ok {
					return fmt.Errorf("bad --test %q: give a llama-bench test label such as pp512, tg128, pp512+tg128 or pp512 @ d4096", test)
				}
				hf.Test = &store.TestSpec{NPrompt: p, NGen: n, NDepth: d}
			}
			runs, err := s.CaseHistory(ctx, hf)
			if err != nil {
				return err
			}
			h := report.BuildHistory(runs, test)
			if format == "json" {
				return jsonOut(w, h)
			}
			return h.Markdown(w)
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&model, "model", "", "model name as the suite names it (the case's model)")
	cmd.Flags().StringVar(&backend, "backend", "", "backend build: cpu, hip, hip-rocwmma, vulkan")
	cmd.Flags().StringVar(&test, "test", "", "llama-bench test label: pp512, tg128, pp8192, pp512 @ d4096 ...")
	cmd.Flags().StringVar(&suite, "suite", "", "only runs of this suite")
	cmd.Flags().StringVar(&format, "format", "md", "output format: md or json")
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most N runs (0: all)")
	return cmd
}
