package recipes

import (
	"embed"
	"errors"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	goversion "github.com/hashicorp/go-version"
	"go.yaml.in/yaml/v3"

	"github.com/haloforge/haloforge/internal/yamlpath"
)

// embedded is the recipe tree shipped inside the binary, so haloforge works
// from any directory; --recipes DIR overrides it.
//
//go:embed base.yaml components/*.yaml
var embedded embed.FS

// Base is the Debian sid base image every builder and runtime image starts
// from. It is made with debootstrap from the pinned archive state (no
// container registry is needed) and decoded from base.yaml.
type Base struct {
	Name         string `yaml:"name"`         // e.g. debian-sid
	Distribution string `yaml:"distribution"` // debian
	Suite        string `yaml:"suite"`        // sid
	Architecture string `yaml:"architecture"` // amd64
	Variant      string `yaml:"variant"`      // debootstrap --variant, e.g. minbase
	Mirror       string `yaml:"mirror"`       // archive URL debootstrap and apt use
	// Snapshot is the archive state, the Date of dists/<suite>/InRelease as
	// YYYYMMDDTHHMMSSZ (also the snapshot.debian.org timestamp to reproduce it).
	Snapshot string `yaml:"snapshot"`
	// ReleaseSHA256 is the sha256 of dists/<suite>/InRelease at Snapshot:
	// the executor must refuse a mirror whose InRelease differs.
	ReleaseSHA256 string   `yaml:"release_sha256"`
	Include       []string `yaml:"include"`     // extra packages debootstrap installs
	AptOptions    []string `yaml:"apt_options"` // apt-get -o options for every install
	Image         string   `yaml:"image"`       // image name, e.g. haloforge/base
	// Provides records the upstream versions of the tools the suite ships
	// at Snapshot (cmake, gcc, python, ...), checked against the recipes'
	// toolchain requirements.
	Provides map[string]string `yaml:"provides"`

	File string `yaml:"-"`
	node *yaml.Node
}

// Set is a loaded, validated recipe tree: the base and every component.
type Set struct {
	Base    *Base     // the default base, the first in base.yaml
	Bases   []*Base   // every base, in file order
	Recipes []*Recipe // sorted by name
	// Dir is where the set came from ("(embedded)" for Default).
	Dir    string
	byName map[string]*Recipe
	// builtin: the recipes embedded in the binary.
	builtin bool
}

// Recipe returns the named component's recipe.
func (s *Set) Recipe(name string) (*Recipe, bool) {
	r, ok := s.byName[name]
	return r, ok
}

// Names lists the components in name order.
func (s *Set) Names() []string {
	out := make([]string, len(s.Recipes))
	for i, r := range s.Recipes {
		out[i] = r.Name
	}
	return out
}

// Profiles lists every profile named by any variant, sorted.
func (s *Set) Profiles() []string {
	seen := map[string]bool{}
	for _, r := range s.Recipes {
		for _, v := range r.Variants {
			for _, p := range v.Profiles {
				seen[p] = true
			}
		}
	}
	return sortedKeys(seen)
}

// Load reads and validates the recipe tree in dir: dir/base.yaml and
// dir/components/*.yaml.
func Load(dir string) (*Set, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, &InputError{Kind: ErrMalformed, File: dir, Problem: "cannot read the recipes directory: " + err.Error(),
			Fix: "pass --recipes DIR pointing at a directory with base.yaml and components/*.yaml, or omit it to use the built-in recipes", Err: err}
	}
	return LoadFS(os.DirFS(dir), dir)
}

// Default returns the recipe tree embedded in the binary.
func Default() (*Set, error) {
	s, err := LoadFS(embedded, "recipes")
	if err != nil {
		return nil, err
	}
	s.builtin = true
	return s, nil
}

// LoadFS reads and validates a recipe tree from fsys; display is the
// directory name used in messages.
func LoadFS(fsys fs.FS, display string) (*Set, error) {
	set := &Set{Dir: display, byName: map[string]*Recipe{}}
	bases, err := loadBase(fsys, display)
	if err != nil {
		return nil, err
	}
	set.Base, set.Bases = bases[0], bases
	names, err := fs.Glob(fsys, "components/*.yaml")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, inputErr(ErrMalformed, path.Join(display, "components"), 0, "", "add one <component>.yaml per component", "no component recipes found")
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, &InputError{Kind: ErrMalformed, File: path.Join(display, n), Problem: "cannot read: " + err.Error(), Fix: "check the file permissions", Err: err}
		}
		r, err := ParseRecipe(path.Join(display, n), data)
		if err != nil {
			return nil, err
		}
		set.Recipes = append(set.Recipes, r)
		set.byName[r.Name] = r
	}
	if err := set.resolve(); err != nil {
		return nil, err
	}
	return set, nil
}

// ParseRecipe decodes and validates one recipe file on its own. file is the
// path used in messages; its base name must be <name>.yaml.
func ParseRecipe(file string, data []byte) (*Recipe, error) {
	r := &Recipe{File: file}
	node, err := decodeStrict(file, data, r, "see recipes/components/llama.cpp.yaml for the shape of a recipe")
	if err != nil {
		return nil, err
	}
	r.node = node
	if err := r.validate(strings.TrimSuffix(path.Base(file), ".yaml")); err != nil {
		return nil, err
	}
	return r, nil
}

func loadBase(fsys fs.FS, display string) ([]*Base, error) {
	file := path.Join(display, "base.yaml")
	data, err := fs.ReadFile(fsys, "base.yaml")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, inputErr(ErrMalformed, file, 0, "", "add base.yaml describing the Debian sid base image", "missing base definition")
		}
		return nil, &InputError{Kind: ErrMalformed, File: file, Problem: "cannot read: " + err.Error(), Fix: "check the file permissions", Err: err}
	}
	return parseBaseFile(file, data)
}

// ParseBase decodes and validates one base definition (a mapping as in
// base.yaml's bases: list).
func ParseBase(file string, data []byte) (*Base, error) {
	b := &Base{File: file}
	node, err := decodeStrict(file, data, b, "see recipes/base.yaml for the shape of a base definition")
	if err != nil {
		return nil, err
	}
	b.node = node
	if err := b.validate(file, nil); err != nil {
		return nil, err
	}
	return b, nil
}

// resolve checks cross-recipe facts: dependencies exist, their variants
// exist, version constraints hold, and there is no cycle. It rewrites empty
// dependency variants to the dependency's default variant name.
func (s *Set) resolve() error {
	if err := s.checkBaseRefs(); err != nil {
		return err
	}
	for _, r := range s.Recipes {
		fix := func(d Dependency, path []any) error {
			dep, ok := s.byName[d.Component]
			if !ok {
				return r.errf(ErrUnknownComponent, "use one of: "+strings.Join(s.Names(), ", "), append(path, "component"), "unknown component %q", d.Component)
			}
			if d.Variant != "" {
				if _, ok := dep.Variant(d.Variant); !ok {
					return r.errf(ErrUnknownVariant, "use one of: "+strings.Join(dep.VariantNames(), ", "), append(path, "variant"),
						"%s has no variant %q", d.Component, d.Variant)
				}
			}
			if d.Version != "" {
				c, _ := goversion.NewConstraint(d.Version) // validated at parse
				v, err := goversion.NewVersion(dep.Version)
				if err != nil {
					return inputErr(ErrConstraint, dep.File, yamlpath.Line(dep.node, "version"), "version",
						"give "+dep.Name+" a dotted version (e.g. 6.4.0) or drop the constraint in "+r.File,
						"version %q cannot be checked against %s's constraint %q: %v", dep.Version, r.Name, d.Version, err)
				}
				if !c.Check(v) {
					return r.errf(ErrConstraint, "pin "+dep.Name+" to a version matching "+d.Version+" in "+dep.File+", or relax the constraint",
						append(path, "version"), "%s %s does not satisfy %q", dep.Name, dep.Version, d.Version)
				}
			}
			return nil
		}
		for i := range r.Depends {
			if err := fix(r.Depends[i], []any{"depends", i}); err != nil {
				return err
			}
		}
		for vi := range r.Variants {
			for i := range r.Variants[vi].Depends {
				if err := fix(r.Variants[vi].Depends[i], []any{"variants", vi, "depends", i}); err != nil {
					return err
				}
			}
		}
	}
	for _, r := range s.Recipes {
		for i := range r.Variants {
			if err := r.checkTemplates(&r.Variants[i], []any{"variants", i}, true); err != nil {
				return err
			}
		}
	}
	// Resolve default variants only after every reference checked out.
	for _, r := range s.Recipes {
		for i := range r.Depends {
			r.Depends[i].Variant = s.depVariant(r.Depends[i])
		}
		for vi := range r.Variants {
			for i := range r.Variants[vi].Depends {
				r.Variants[vi].Depends[i].Variant = s.depVariant(r.Variants[vi].Depends[i])
			}
		}
	}
	return s.checkCycles()
}

func (s *Set) depVariant(d Dependency) string {
	if d.Variant != "" {
		return d.Variant
	}
	return s.byName[d.Component].DefaultVariant().Name
}

// checkCycles runs a depth-first search over component/variant nodes in a
// fixed order and reports the first cycle with its full path, at the line of
// the dependency that closes it.
func (s *Set) checkCycles() error {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(r *Recipe, vi int) error
	visit = func(r *Recipe, vi int) error {
		v := &r.Variants[vi]
		id := r.Name + "/" + v.Name
		state[id] = active
		stack = append(stack, id)
		for _, d := range r.dependsWithPath(vi) {
			dr := s.byName[d.Component]
			dvi := dr.variantIndex(d.Variant)
			did := dr.Name + "/" + d.Variant
			switch state[did] {
			case active:
				start := 0
				for i, x := range stack {
					if x == did {
						start = i
					}
				}
				cycle := append(append([]string{}, stack[start:]...), did)
				return r.errf(ErrCycle, "remove one of these dependencies", d.path,
					"dependency cycle %s", strings.Join(cycle, " -> "))
			case unseen:
				if err := visit(dr, dvi); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = done
		return nil
	}
	for _, r := range s.Recipes {
		for i := range r.Variants {
			if state[r.Name+"/"+r.Variants[i].Name] == unseen {
				if err := visit(r, i); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
