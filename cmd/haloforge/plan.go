package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

Recipes are built into the binary (--recipes DIR to use a checkout's
recipes/). The lock is --lock FILE, else stack.lock in this directory or the
nearest parent, else one derived from the recipes (said on stderr).

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
			plan, err := f.makePlan(cmd.ErrOrStderr())
			if err != nil {
				return inputExit(err)
			}
			out := cmd.OutOrStdout()
			if cf.keys {
				_, err = out.Write(plan.KeysText())
				return err
			}
			var opt recipes.RenderOptions
			if len(cf.from) > 0 {
				set, err := cf.load(cmd.Context())
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
			opt.Commands = f.commands
			return plan.Render(out, opt)
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
	c.Flags().StringVar(&f.dir, "recipes", "", "recipes directory (default: the recipes built into haloforge)")
}

// addSourceFlag registers --source, local source trees that replace pins.
func (f *planFlags) addSourceFlag(c *cobra.Command) {
	c.Flags().StringArrayVar(&f.sources, "source", nil, "COMPONENT=DIR: build a local source tree instead of the pin (repeatable)")
}

func (f *planFlags) loadSet() (*recipes.Set, error) {
	if f.dir != "" {
		return recipes.Load(f.dir)
	}
	return recipes.Default()
}

// lockPath resolves --lock, else stack.lock here or in the nearest parent.
func (f *planFlags) lockPath() (string, bool) {
	if f.lockFile != "" {
		return f.lockFile, true
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, recipes.DefaultLockFile)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func (f *planFlags) loadLock(set *recipes.Set, stderr io.Writer) (*recipes.Lock, error) {
	path, ok := f.lockPath()
	if !ok {
		_, _ = fmt.Fprintln(stderr, "haloforge: no stack.lock found here or above; using a lock derived from the recipes (run `haloforge lock` to write one)")
		return recipes.MakeLock(set, nil), nil
	}
	return recipes.LoadLock(path)
}

func (f *planFlags) makePlan(stderr io.Writer) (*recipes.Plan, error) {
	target, err := recipes.LookupTarget(f.target)
	if err != nil {
		return nil, err
	}
	set, err := f.loadSet()
	if err != nil {
		return nil, err
	}
	lock, err := f.loadLock(set, stderr)
	if err != nil {
		return nil, err
	}
	overrides, err := parseSourceOverrides(f.sources)
	if err != nil {
		return nil, err
	}
	return recipes.MakePlan(set, lock, target, recipes.Selection{Profile: f.profile, Only: f.only, Variants: f.variants}, overrides)
}

// parseSourceOverrides turns --source COMPONENT=DIR flags into overrides with content digests.
func parseSourceOverrides(flags []string) (map[string]recipes.SourceOverride, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string]recipes.SourceOverride{}
	for _, s := range flags {
		comp, dir, ok := strings.Cut(s, "=")
		if !ok || comp == "" || dir == "" {
			return nil, &recipes.InputError{Kind: recipes.ErrMalformed, Field: "--source", Problem: fmt.Sprintf("%q is not COMPONENT=DIR", s),
				Fix: "write e.g. --source llama.cpp=$HOME/src/llama.cpp"}
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		digest, err := recipes.DigestDir(abs)
		if err != nil {
			return nil, err
		}
		out[comp] = recipes.SourceOverride{Path: abs, Digest: digest}
	}
	return out, nil
}

// inputExit gives input errors exit status 2.
func inputExit(err error) error {
	var ie *recipes.InputError
	if errors.As(err, &ie) {
		return &exitError{code: 2, err: err}
	}
	return err
}
