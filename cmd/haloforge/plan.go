package main

import (
	"context"
	"errors"
	"io"
	"strings"

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

Examples:
  haloforge plan                                   # whole stack for gfx1151
  haloforge plan --target gfx1100                  # another GPU
  haloforge plan --only llama.cpp                  # llama.cpp variants + ROCm they need
  haloforge plan --only llama.cpp --variant cpu,vulkan
  haloforge plan --profile smoke --json            # what CI builds, as JSON
  haloforge plan --only llama.cpp --variant hip --source llama.cpp=$HOME/src/llama.cpp
  haloforge plan --commands                        # also print resolved commands

Exit status: 0 ok, 2 bad input (unknown target/component/variant, bad recipe
or lock; the message names the file, line and fix).
` + planCacheHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.Context(), f, cf, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.addSelectionFlags(c, "plan")
	fl := c.Flags()
	fl.BoolVar(&f.jsonOut, "json", false, "print the plan as JSON (everything the executor needs)")
	fl.BoolVar(&f.commands, "commands", false, "also print each step's packages, environment and commands")
	f.addRecipeFlags(c)
	f.addSourceFlag(c)
	cf.register(c)
	return c
}

// runPlan prints the plan of the flags: its keys (--keys), its JSON
// (--json), or its text, with shared-cache marks when --cached-from is set.
func runPlan(ctx context.Context, f *planFlags, cf *cacheFlags, out, stderr io.Writer) error {
	plan, err := f.makePlan(stderr)
	if err != nil {
		return inputExit(err)
	}
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
