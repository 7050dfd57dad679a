// Command haloforge is the host CLI of haloforge: it plans and builds the
// ROCm/llama.cpp stack for AMD Strix Halo (gfx1151), runs the benchmark suite
// in containers with the GPU passed through, and turns results into tables,
// plots, history and regression verdicts.
//
// main stays thin: each subcommand lives in its own file and registers itself
// with addCommand from an init function.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var subcommands []*cobra.Command

// addCommand registers a subcommand; called from init functions.
func addCommand(c *cobra.Command) { subcommands = append(subcommands, c) }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "haloforge",
		Short: "Build, benchmark and track the ROCm + llama.cpp stack on AMD Strix Halo (gfx1151)",
		Long: `haloforge builds TheRock (ROCm 6.4), rocWMMA, hipBLASLt, AOTriton, Composable
Kernel, PyTorch and llama.cpp for a GPU target (gfx1151 by default) into cached
container images with every version pinned, runs the benchmark suite in those
images with /dev/kfd and /dev/dri passed through, and turns the results into
the tables people post, plots, a history and regression verdicts.

Typical session:
  haloforge doctor                      # is this host ready to benchmark?
  haloforge plan --target gfx1151       # what would be built, with exact pins
  haloforge bench --suite smoke         # run a suite, print the results table
  haloforge report latest               # the tables again, or --html for plots
  haloforge compare BASE NEW            # regression verdicts between two runs`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, c := range subcommands {
		root.AddCommand(c)
	}
	return root
}

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "haloforge:", err)
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit code (for example a regression verdict or
// a failed doctor check) without printing a usage message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 1
}
