package runner

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/haloforge/haloforge/bench"
)

// WriteTable prints a run's results: one row per llama-bench test (or per
// case for other tools and failed cases).
func WriteTable(w io.Writer, run *bench.Run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintf(tw, "case\tstatus\ttest\tt/s\twall\n")
	for _, c := range run.Cases {
		wall := fmt.Sprintf("%.1fs", c.Finished.Sub(c.Started).Seconds())
		switch {
		case c.Status == bench.StatusOK && len(c.Llama) > 0:
			for _, l := range c.Llama {
				_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f ± %.2f\t%s\n", c.ID, statusLabel(c), l.Label(), l.AvgTS, l.StddevTS, wall)
			}
		case c.Correct != nil && (c.Status == bench.StatusOK || c.Status == bench.StatusWrong):
			_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Status, "KLD vs CPU", c.Correct.Summary(), wall)
		case c.Status == bench.StatusOK && c.Mamf != nil:
			_, _ = fmt.Fprintf(tw, "%s\t%s\tmax TFLOPS\t%.1f\t%s\n", c.ID, c.Status, c.Mamf.Max.TFLOPS, wall)
		case c.Status == bench.StatusOK && c.Bandwidth != nil && c.Bandwidth.GPUCopyGBs != nil:
			_, _ = fmt.Fprintf(tw, "%s\t%s\tGPU copy GB/s\t%.1f\t%s\n", c.ID, c.Status, *c.Bandwidth.GPUCopyGBs, wall)
		default:
			label := bench.FailureLabel(c)
			msg := c.Error
			if len(msg) > 80 {
				msg = msg[:77] + "..."
			}
			_, _ = fmt.Fprintf(tw, "%s\t%s\t-\t%s\t%s\n", c.ID, label, strings.ReplaceAll(msg, "\t", " "), wall)
		}
	}
	return tw.Flush()
}

// Failed counts the cases that did not finish with numbers.
func Failed(run *bench.Run) int {
	n := 0
	for _, c := range run.Cases {
		if c.Status != bench.StatusOK {
			n++
		}
	}
	return n
}
