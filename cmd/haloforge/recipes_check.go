package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/images"
	"github.com/haloforge/haloforge/internal/mirror"
	"github.com/haloforge/haloforge/recipes"
	"github.com/haloforge/haloforge/recipes/check"
	"github.com/spf13/cobra"
)

func init() { addCommand(newRecipesCmd()) }

func newRecipesCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "recipes",
		Short: "Inspect recipes against their upstream sources",
	}
	c.AddCommand(newRecipesCheckCmd())
	return c
}

func newRecipesCheckCmd() *cobra.Command {
	var dir, mirrorDir, target string
	var only []string
	var jsonOut bool
	c := &cobra.Command{
		Use:   "check [--mirror DIR] [--only C] [--json]",
		Short: "Prove pins, refs, versions, CMake options and named files against a source mirror",
		Long: `check reads every component's upstream repository from a local mirror of bare
git repositories (nothing is fetched) and proves, at the pinned commit:

  - the commit exists and the recipe's source.ref (tag or branch) contains it;
  - the version is what the source says (a tag at the pin, version.json,
    project(VERSION), git describe, or haloforge's REF+HEX / git-YYYYMMDD forms);
  - every -DNAME= a cmake configure step passes is declared (option(),
    cmake_dependent_option(), set(... CACHE ...)) or read in the CMake files;
    a renamed or removed option is an error naming the closest match;
  - every script or file a step names (and each -S directory's CMakeLists.txt)
    is in the tree;
  - the GPU target is in upstream's target lists where it has them.

The mirror is --mirror DIR, else $HALOFORGE_MIRROR. A URL https://HOST/PATH
maps to DIR/HOST/PATH.git (a bare repository or a link to one), e.g.
https://github.com/ROCm/TheRock.git -> DIR/github.com/ROCm/TheRock.git.
Components whose repository is absent are reported "not in mirror".

Each finding is one line, FILE:LINE: COMPONENT: SEVERITY: WHAT; fix: FIX.
Exit status: 0 no errors, 1 errors found, 2 bad input (no mirror, unknown component).

Examples:
  haloforge recipes check --recipes recipes --mirror /srv/haloforge-mirror
  HALOFORGE_MIRROR=/srv/m haloforge recipes check --only llama.cpp,therock
  haloforge recipes check --mirror /srv/m --json > check.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, ok := mirror.FromEnv(mirrorDir)
			if !ok {
				return &exitError{code: 2, err: fmt.Errorf("no mirror: pass --mirror DIR or set %s (see haloforge recipes check --help)", mirror.EnvVar)}
			}
			set, err := recipes.Request{Recipes: dir}.LoadSet()
			if err != nil {
				return inputExit(err)
			}
			if _, err := recipes.LookupTarget(target); err != nil {
				return inputExit(err)
			}
			rep, err := check.Run(set, m, check.Options{Only: only, Target: target})
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if jsonOut {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else if err := writeCheckReport(cmd.OutOrStdout(), rep); err != nil {
				return err
			}
			if n := rep.Count(check.Error); n > 0 {
				return &exitError{code: 1, err: fmt.Errorf("recipes check: %d error(s)", n)}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&dir, "recipes", "", "recipes directory (default: the recipes built into haloforge)")
	fl.StringVar(&mirrorDir, "mirror", "", "mirror directory of bare git repositories (default $"+mirror.EnvVar+")")
	fl.StringSliceVar(&only, "only", nil, "check only these components (comma-separated)")
	fl.StringVarP(&target, "target", "t", recipes.DefaultTarget, "GPU target to look for in upstream target lists")
	fl.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	return c
}

func writeCheckReport(w io.Writer, rep *check.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "mirror %s, target %s\n", rep.Mirror, rep.Target)
	for _, c := range rep.Components {
		fmt.Fprintf(&b, "%-20s %s", c.Name, c.Status)
		if c.Commit != "" {
			fmt.Fprintf(&b, " at %s", c.Commit[:min(12, len(c.Commit))])
		}
		b.WriteString("\n")
		for _, p := range c.Passed {
			fmt.Fprintf(&b, "  ok: %s\n", p)
		}
	}
	for _, f := range rep.Findings {
		b.WriteString(f.String() + "\n")
	}
	fmt.Fprintf(&b, "%d error(s), %d warning(s), %d note(s)\n", rep.Count(check.Error), rep.Count(check.Warning), rep.Count(check.Note))
	_, err := io.WriteString(w, b.String())
	return err
}

// gitMirror is the source mirror of --mirror or $HALOFORGE_MIRROR for the
// executor (nil when neither is set); its checkouts live under
// $HALOFORGE_HOME/cache/sources.
func gitMirror(flag string) (*images.GitMirror, error) {
	m, ok := mirror.FromEnv(flag)
	if !ok {
		return nil, nil
	}
	if err := m.Open(); err != nil {
		return nil, err
	}
	return &images.GitMirror{Mirror: m, CacheDir: filepath.Join(bench.Home(), "cache", "sources")}, nil
}
