package main

import (
	"fmt"
	"runtime/debug"

	"github.com/haloforge/haloforge/bench"
	"github.com/spf13/cobra"
)

func init() {
	addCommand(&cobra.Command{
		Use:   "home",
		Short: "Print haloforge's data directory (results, runs, models)",
		Long: `Print the directory where haloforge keeps its results database, run
directories and model cache: $HALOFORGE_HOME, else $XDG_DATA_HOME/haloforge,
else ~/.local/share/haloforge.

  cd "$(haloforge home)/runs"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), bench.Home())
			return err
		},
	})
}

// version is the module version and VCS revision the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v += " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += "+dirty"
			}
		}
	}
	return v
}
