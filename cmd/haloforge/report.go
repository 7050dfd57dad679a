package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/report"
)

func init() { addCommand(newReportCmd()) }

func newReportCmd() *cobra.Command {
	var (
		db        resultsFlags
		tgt       targetFlags
		format    string
		html      bool
		out       string
		failWrong bool
	)
	cmd := &cobra.Command{
		Use:   "report [RUN]",
		Short: "Print a run's results as the seed's tables (markdown, json, csv) or one HTML page with plots",
		Long: `Print a stored run as the tables people post: per model,
| Run | pp512 (t/s) | tg128 (t/s) | Max Mem (MiB) | with mean ± std, the best
value of each column in bold (from three rows up; equal lowest memory all
bold), memory as VRAM+GTT MiB (blank when not measured, the column left out
when no row has it) and "GPU Hang" for hung cases; the same for pp8192/tg8192; then efficiency
(tok/TFLOP for prompt processing, % of peak memory bandwidth for generation),
mamf-finder and rocm_bandwidth_test summaries against the target's peaks.

A row is one backend configuration ("HIP + WMMA + FA", "Vulkan b256"); results
that measured the same test again (several files, builds or days in one run)
are rows of their own, labelled by what differs. mamf-finder and bandwidth
figures are given as % of the target's peaks only when measured on that
target's GPU; otherwise the reason is printed.

RUN is a run id, a unique prefix of one, latest (default: the run stored
last) or latest~N.

--format csv writes one line per figure (columns run, tool, model, row,
backend, ..., test, status, note, mean_ts, ..., value, unit, detail):
llama-bench tests, mamf-finder and bandwidth figures, and each reference
check's mean kld, kld p99, same top and ppl with its verdict as the note.

--html writes one self-contained page (inline CSS, plots embedded as PNG: t/s
by backend, t/s by context depth, memory) that opens with no network.

--fail-wrong makes a reference check that came out wrong fail the command
(exit 3) after the output is written: the nightly uses it so that a fast but
wrong build fails the night even with no earlier night to compare with.

Examples:
  haloforge report                         # latest run, markdown
  haloforge report 20261126 --format csv   # by id prefix
  haloforge report latest~1 --format json -o prev.json
  haloforge report --html -o report.html   # then open report.html
  haloforge report --peak-tflops 59.4 --peak-gbs 256   # peaks for an unknown target`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			loadWholeRuns()
			ref := "latest"
			if len(args) == 1 {
				ref = args[0]
			}
			if html {
				format = "html"
			}
			switch format {
			case "md", "markdown", "json", "csv", "html":
			default:
				return fmt.Errorf("unknown --format %q: use md, json, csv or html", format)
			}
			s, err := db.open(true)
			if err != nil {
				return err
			}
			defer func() { _ = s.Close() }()
			ctx := context.Background()
			run, err := loadRunTyped(ctx, s, ref)
			if err != nil {
				return err
			}
			rep := report.Build(run, tgt.resolve(run.Target, cmd.ErrOrStderr()))
			w, closeOut, err := output(cmd, out)
			if err != nil {
				return err
			}
			switch format {
			case "json":
				err = rep.JSON(w)
			case "csv":
				err = rep.CSV(w)
			case "html":
				err = rep.HTML(w, run)
			default:
				err = rep.Markdown(w)
			}
			if cerr := closeOut(); err == nil {
				err = cerr
			}
			if err == nil && out != "" && out != "-" {
				_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", out)
			}
			if err == nil && failWrong {
				var wrong []string
				for _, k := range rep.Correctness {
					if k.Verdict == string(bench.StatusWrong) {
						wrong = append(wrong, k.Case)
					}
				}
				if len(wrong) > 0 {
					return &exitError{code: exitRegression, err: fmt.Errorf("run %s: %d reference check(s) wrong (the backend's output differs from the CPU's): %s",
						run.ID, len(wrong), strings.Join(wrong, ", "))}
				}
			}
			return err
		},
	}
	db.register(cmd)
	tgt.register(cmd)
	cmd.Flags().StringVar(&format, "format", "md", "output format: md, json, csv or html")
	cmd.Flags().BoolVar(&html, "html", false, "write a self-contained HTML page with plots (same as --format html)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	cmd.Flags().BoolVar(&failWrong, "fail-wrong", false, "exit 3 when a reference check of the run is wrong (a backend whose output differs from the CPU's), as compare does for a regression")
	return cmd
}
