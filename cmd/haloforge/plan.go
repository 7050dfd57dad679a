package main

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/haloforge/haloforge/internal/mirror"
	"github.com/haloforge/haloforge/recipes"
	"github.com/spf13/cobra"
)

func init() { addCommand(newPlanCmd()) }

// planFlags are shared by plan and lock.
type planFlags struct {
	target   string
	only     []string
	variants []string
	profile  string
	jsonOut  bool
	commands bool
	lockFile string
	dir      string
	sources  []string
}

func newPlanCmd() *cobra.Command {
	f := &planFlags{}
	cf := &cacheFlags{}
	var mirrorDir string
	c := &cobra.Command{
		Use:   "plan",
		Short: "Show what build-stack would build: components, exact pins, cache keys, images",
		Long: `plan computes the build plan for a GPU target without any engine: every step
(one component variant) in build order with its exact source pin, its
content-derived cache key, the images it produces and what it needs. The same
recipes and stack.lock give the same plan, byte for byte, on any machine;
this is the plan the Dagger pipeline executes.

Recipes are --recipes DIR, else the checkout's recipes/ (the directory of
stack.lock here or in the nearest parent), else the ones built into the
binary. The lock is --lock FILE, else that stack.lock, else one derived from
the recipes (said on stderr). A lock that disagrees with the recipes is an
error naming both.

Selection: --profile smoke is llama.cpp cpu + vulkan on Debian packages, no
ROCm. --only limits to components (their dependencies always come along),
--variant to some of their variants. --source COMPONENT=DIR builds a local
checkout instead of the pinned source (its content digest goes into the key).

Mirror: with --mirror DIR (or $HALOFORGE_MIRROR), each step built from a
pinned git commit also shows its repository in that mirror of bare
repositories (https://HOST/OWNER/NAME -> DIR/HOST/OWNER/NAME.git, as build
--mirror reads it) and whether the commit is there ("mirror" in --json).
Nothing is fetched and nothing is compiled; the keys are the same as without
a mirror. A repository or commit the mirror lacks is exit status 2 after the
plan is printed, naming the component, URL, commit, the path looked at and
the fix. --source overrides are not from git and are not looked up.

Examples:
  haloforge plan                                   # whole stack for gfx1151
  haloforge plan --target gfx1100                  # another GPU
  haloforge plan --only llama.cpp                  # llama.cpp variants + ROCm they need
  haloforge plan --only llama.cpp --variant cpu,vulkan
  haloforge plan --profile smoke --json            # what CI builds, as JSON
  haloforge plan --only llama.cpp --variant hip --source llama.cpp=$HOME/src/llama.cpp
  haloforge plan --commands                        # also print resolved commands
  haloforge plan --profile smoke --mirror /srv/haloforge-mirror   # are the pins in the mirror?

Exit status: 0 ok, 2 bad input (unknown target/component/variant, bad recipe
or lock, a source the mirror lacks; the message names the file, line and fix).
` + planCacheHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.Context(), f, cf, mirrorDir, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.addSelectionFlags(c, "plan")
	fl := c.Flags()
	fl.BoolVar(&f.jsonOut, "json", false, "print the plan as JSON (everything the executor needs)")
	fl.BoolVar(&f.commands, "commands", false, "also print each step's packages, environment and commands")
	f.addRecipeFlags(c)
	f.addSourceFlag(c)
	fl.StringVar(&mirrorDir, "mirror", "", "show where each pinned git source is in this mirror of bare repositories (DIR/HOST/OWNER/NAME.git) and fail when one is missing (default $"+mirror.EnvVar+")")
	cf.register(c)
	return c
}

// runPlan prints the plan of the flags: its keys (--keys), its JSON
// (--json), or its text, with shared-cache marks when --cached-from is set
// and mirror marks when a mirror is named (flag or $HALOFORGE_MIRROR); a
// source the mirror lacks is exit status 2 after the plan is printed.
func runPlan(ctx context.Context, f *planFlags, cf *cacheFlags, mirrorFlag string, out, stderr io.Writer) error {
	plan, err := f.makePlan(stderr)
	if err != nil {
		return inputExit(err)
	}
	var missing error
	if m, ok := mirror.FromEnv(mirrorFlag); ok {
		if err := m.Open(); err != nil {
			return &exitError{code: 2, err: err}
		}
		if err := plan.MarkMirror(m); err != nil {
			missing = &exitError{code: 2, err: err}
		}
	}
	if err := writePlan(ctx, plan, f, cf, out); err != nil {
		return err
	}
	return missing
}

// writePlan prints plan as the flags ask.
func writePlan(ctx context.Context, plan *recipes.Plan, f *planFlags, cf *cacheFlags, out io.Writer) error {
	var err error
	if cf.keys {
		_, err = out.Write(plan.KeysText())
		return err
	}
	opt := recipes.RenderOptions{Commands: f.commands}
	if len(cf.from) > 0 {
		set, err := cf.load(ctx)
		if err != nil {
			return inputExit(err)
		}
		rep := plan.CheckCache(set)
		if f.jsonOut {
			return jsonOut(out, rep)
		}
		opt.Cache = &rep
	}
	if f.jsonOut {
		_, err = out.Write(plan.JSON())
		return err
	}
	return plan.Render(out, opt)
}

// addSelectionFlags registers the flags that say what to plan or build
// (--target, --only, --variant, --profile); verb is the command's verb in
// --only's help.
func (f *planFlags) addSelectionFlags(c *cobra.Command, verb string) {
	fl := c.Flags()
	fl.StringVarP(&f.target, "target", "t", recipes.DefaultTarget, "GPU target ("+strings.Join(recipes.TargetNames(), ", ")+")")
	fl.StringSliceVar(&f.only, "only", nil, verb+" only these components (comma-separated) and what they need")
	fl.StringSliceVar(&f.variants, "variant", nil, "keep only these variants (comma-separated), e.g. cpu,vulkan")
	fl.StringVar(&f.profile, "profile", "", "named selection, e.g. smoke (llama.cpp cpu+vulkan, no ROCm)")
}

// addRecipeFlags registers the flags that say where recipes and the lock come from.
func (f *planFlags) addRecipeFlags(c *cobra.Command) {
	c.Flags().StringVar(&f.lockFile, "lock", "", "lock file (default: stack.lock here or in a parent directory)")
	c.Flags().StringVar(&f.dir, "recipes", "", "recipes directory (default: the checkout's recipes/ beside stack.lock, else the recipes built into haloforge)")
}

// addSourceFlag registers --source, local source trees that replace pins.
func (f *planFlags) addSourceFlag(c *cobra.Command) {
	c.Flags().StringArrayVar(&f.sources, "source", nil, "COMPONENT=DIR: build a local source tree instead of the pin (repeatable)")
}

// request is the plan request the flags name; recipes.PlanFor turns it
// into the plan (for plan, build and the nightly alike).
func (f *planFlags) request() (recipes.Request, error) {
	srcs, err := recipes.ParseSourceFlags(f.sources)
	if err != nil {
		return recipes.Request{}, err
	}
	return recipes.Request{Recipes: f.dir, Lock: f.lockFile, Target: f.target, Sources: srcs,
		Selection: recipes.Selection{Profile: f.profile, Only: f.only, Variants: f.variants}}, nil
}

// makePlan is the plan of the flags; notices go to stderr.
func (f *planFlags) makePlan(stderr io.Writer) (*recipes.Plan, error) {
	req, err := f.request()
	if err != nil {
		return nil, err
	}
	p, _, err := recipes.PlanFor(req, stderr)
	return p, err
}

// inputExit gives input errors exit status 2.
func inputExit(err error) error {
	var ie *recipes.InputError
	if errors.As(err, &ie) {
		return &exitError{code: 2, err: err}
	}
	return err
}
