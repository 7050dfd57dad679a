package recipes

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Request names the inputs of a plan the way a user gives them: a recipes
// directory, a lock file, a target, a selection and local source trees.
// PlanFor turns it into the plan; `haloforge plan`, `haloforge build`,
// `haloforge bench` and the Dagger module all plan through it.
type Request struct {
	// Recipes is a recipes directory (base.yaml + components/). Empty means
	// the checkout's recipes/ when a checkout is found, else the recipes
	// built into haloforge.
	Recipes string
	// Lock is the lock file. Empty means the checkout's stack.lock, else a
	// lock derived from the recipes.
	Lock string
	// Target is the GPU target; empty means DefaultTarget.
	Target string
	// Selection is the profile, --only and --variant.
	Selection Selection
	// Sources replace pinned sources with local trees.
	Sources []SourceDir
	// WorkDir is where the checkout is looked for (it or a parent holding
	// stack.lock); empty means the current directory.
	WorkDir string
	// NoCheckout skips the checkout search: empty Recipes and Lock then
	// mean the built-in recipes and a derived lock.
	NoCheckout bool
}

// Inputs are a request's loaded inputs.
type Inputs struct {
	Set    *Set
	Lock   *Lock
	Target Target
	// LockFile is where Lock was read from; empty for a derived lock.
	LockFile  string
	Selection Selection
	Overrides map[string]SourceOverride
}

// Checkout is a haloforge source tree: a directory holding stack.lock and,
// normally, recipes/ beside it.
type Checkout struct {
	Root string
	// LockFile is Root/stack.lock.
	LockFile string
	// Recipes is Root/recipes when it holds base.yaml, else empty.
	Recipes string
}

// FindCheckout looks for stack.lock in dir and its parents.
func FindCheckout(dir string) (Checkout, bool) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Checkout{}, false
	}
	for {
		lock := filepath.Join(dir, DefaultLockFile)
		if st, err := os.Stat(lock); err == nil && !st.IsDir() {
			c := Checkout{Root: dir, LockFile: lock}
			if _, err := os.Stat(filepath.Join(dir, "recipes", "base.yaml")); err == nil {
				c.Recipes = filepath.Join(dir, "recipes")
			}
			return c, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return Checkout{}, false
		}
		dir = parent
	}
}

// checkout is the checkout the request refers to, if any.
func (r Request) checkout() (Checkout, bool) {
	if r.NoCheckout {
		return Checkout{}, false
	}
	wd := r.WorkDir
	if wd == "" {
		wd = "."
	}
	return FindCheckout(wd)
}

// LoadSet loads the request's recipes: --recipes, else the checkout's
// recipes/, else the built-in ones.
func (r Request) LoadSet() (*Set, error) {
	if r.Recipes != "" {
		return Load(r.Recipes)
	}
	if c, ok := r.checkout(); ok && c.Recipes != "" {
		return Load(c.Recipes)
	}
	return Default()
}

// LockFile is the lock file the request names: --lock, else the
// checkout's stack.lock; false when there is none.
func (r Request) LockFile() (string, bool) {
	if r.Lock != "" {
		return r.Lock, true
	}
	if c, ok := r.checkout(); ok {
		return c.LockFile, true
	}
	return "", false
}

// LoadLock loads the request's lock, or derives one from set (saying so on
// notice) when there is no lock file.
func (r Request) LoadLock(set *Set, notice io.Writer) (*Lock, string, error) {
	path, ok := r.LockFile()
	if !ok {
		_, _ = fmt.Fprintln(notice, "haloforge: no stack.lock found here or above; using a lock derived from the recipes (run `haloforge lock` to write one)")
		return MakeLock(set, nil), "", nil
	}
	l, err := LoadLock(path)
	return l, path, err
}

// Load reads every input of the request: recipes, lock, target and source
// trees (digested with DigestDir).
func (r Request) Load(notice io.Writer) (*Inputs, error) {
	name := r.Target
	if name == "" {
		name = DefaultTarget
	}
	target, err := LookupTarget(name)
	if err != nil {
		return nil, err
	}
	set, err := r.LoadSet()
	if err != nil {
		return nil, err
	}
	lock, lockFile, err := r.LoadLock(set, notice)
	if err != nil {
		return nil, err
	}
	ov, err := Overrides(r.Sources)
	if err != nil {
		return nil, err
	}
	return &Inputs{Set: set, Lock: lock, Target: target, LockFile: lockFile, Selection: r.Selection, Overrides: ov}, nil
}

// Plan makes the plan of the loaded inputs. A lock that disagrees with the
// recipes gets an error naming both.
func (in *Inputs) Plan() (*Plan, error) {
	p, err := MakePlan(in.Set, in.Lock, in.Target, in.Selection, in.Overrides)
	var ie *InputError
	if err != nil && in.LockFile != "" && errors.As(err, &ie) && (ie.Kind == ErrLockMismatch || ie.Kind == ErrMissingPin) && ie.File == in.LockFile {
		e := *ie
		e.Fix = fmt.Sprintf("%s (the lock is %s, the recipes are %s: plan with the recipes the lock was written from, --recipes DIR)", e.Fix, in.LockFile, in.Set.Source())
		return nil, &e
	}
	return p, err
}

// PlanFor is the one way from a request to a plan: it loads the request's
// inputs and plans them.
func PlanFor(r Request, notice io.Writer) (*Plan, *Inputs, error) {
	in, err := r.Load(notice)
	if err != nil {
		return nil, nil, err
	}
	p, err := in.Plan()
	if err != nil {
		return nil, in, err
	}
	return p, in, nil
}

// Source says where the set was loaded from, for messages.
func (s *Set) Source() string {
	if s.builtin {
		return "the recipes built into haloforge"
	}
	return s.Dir
}

// SourceDir is a local source tree given for a component.
type SourceDir struct {
	// Component is the component name; every variant of it uses the tree.
	Component string
	// Dir is where the tree is read from.
	Dir string
	// Path is recorded in the plan and provenance; Dir when empty.
	Path string
}

// SourceExcludes are the paths of a source tree that are not source, as
// Dagger exclude patterns: the executor loads trees without them and
// DigestDir skips the same paths, so the digest covers exactly what is built.
var SourceExcludes = []string{"**/.git", "build"}

// excludedSource reports whether rel (slash-separated, relative to the
// tree's top) is left out of a source tree: see SourceExcludes.
func excludedSource(rel string) bool {
	return rel == "build" || rel == ".git" || strings.HasSuffix(rel, "/.git")
}

// ParseSourceFlags parses --source COMPONENT=DIR flags: the one parser of
// source overrides. Dir becomes absolute; a component given twice is an error.
func ParseSourceFlags(flags []string) ([]SourceDir, error) {
	var out []SourceDir
	seen := map[string]bool{}
	for _, s := range flags {
		comp, dir, ok := strings.Cut(s, "=")
		if !ok || comp == "" || dir == "" {
			return nil, &InputError{Kind: ErrMalformed, Field: "--source", Problem: fmt.Sprintf("%q is not COMPONENT=DIR", s),
				Fix: "write e.g. --source llama.cpp=$HOME/src/llama.cpp"}
		}
		if seen[comp] {
			return nil, &InputError{Kind: ErrMalformed, Field: "--source " + comp, Problem: "given twice", Fix: "keep one --source " + comp + "=DIR"}
		}
		seen[comp] = true
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return nil, &InputError{Kind: ErrMalformed, Field: "--source " + comp, Problem: dir + " is not a directory",
				Fix: "pass the top directory of a source checkout"}
		}
		out = append(out, SourceDir{Component: comp, Dir: abs})
	}
	return out, nil
}

// Overrides digests source trees into plan overrides (the one digest of a
// source override: DigestDir).
func Overrides(srcs []SourceDir) (map[string]SourceOverride, error) {
	if len(srcs) == 0 {
		return nil, nil
	}
	out := map[string]SourceOverride{}
	for _, s := range srcs {
		d, err := DigestDir(s.Dir)
		if err != nil {
			return nil, &InputError{Kind: ErrMalformed, Field: "--source " + s.Component, Problem: err.Error(),
				Fix: "pass the top directory of a source checkout", Err: err}
		}
		p := s.Path
		if p == "" {
			p = s.Dir
		}
		out[s.Component] = SourceOverride{Path: p, Digest: d}
	}
	return out, nil
}
