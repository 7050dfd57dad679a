package recipes

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/haloforge/haloforge/internal/yamlpath"
)

// baseFile is base.yaml: the Debian bases builds start from, one per
// toolchain era. The first is the default; a recipe or variant picks another
// with `base: NAME`.
type baseFile struct {
	Bases []*Base `yaml:"bases"`
}

// parseBaseFile decodes base.yaml and validates every base in it.
func parseBaseFile(file string, data []byte) ([]*Base, error) {
	var bf baseFile
	node, err := decodeStrict(file, data, &bf, "see recipes/base.yaml for the shape of the base definitions")
	if err != nil {
		return nil, err
	}
	if len(bf.Bases) == 0 {
		return nil, inputErr(ErrMalformed, file, yamlpath.Line(node, "bases"), "bases",
			"add a `bases:` list with at least one base (name, suite, mirror, snapshot, release_sha256, provides)", "no bases")
	}
	seen := map[string]bool{}
	for i, b := range bf.Bases {
		if b == nil {
			return nil, inputErr(ErrMalformed, file, yamlpath.Line(node, "bases", i), fieldPath("bases", i), "describe the base as a mapping", "empty base entry")
		}
		b.File = file
		b.node = baseNode(node, i)
		if err := b.validate(file, []any{"bases", i}); err != nil {
			return nil, err
		}
		if seen[b.Name] {
			return nil, inputErr(ErrMalformed, file, yamlpath.Line(node, "bases", i, "name"), fieldPath("bases", i, "name"), "give every base its own name", "base %q defined twice", b.Name)
		}
		seen[b.Name] = true
	}
	return bf.Bases, nil
}

// baseNode returns the mapping node of bases[i] so a Base's own look-ups
// (yamlpath.Line(b.node, "snapshot")) find its lines.
func baseNode(doc *yaml.Node, i int) *yaml.Node {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	for j := 0; j+1 < len(root.Content); j += 2 {
		if root.Content[j].Value == "bases" {
			seq := root.Content[j+1]
			if i < len(seq.Content) {
				return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{seq.Content[i]}}
			}
		}
	}
	return nil
}

// validate checks one base; path is its position in base.yaml.
func (b *Base) validate(file string, path []any) error {
	at := func(f ...any) (int, string) {
		p := append(append([]any{}, path...), f...)
		return yamlpath.Line(b.node, f...), fieldPath(p...)
	}
	req := []struct {
		field, val, fix string
	}{
		{"name", b.Name, "add `name: debian-trixie`"},
		{"distribution", b.Distribution, "add `distribution: debian`"},
		{"suite", b.Suite, "add `suite: trixie`"},
		{"architecture", b.Architecture, "add `architecture: amd64`"},
		{"variant", b.Variant, "add `variant: minbase`"},
		{"mirror", b.Mirror, "add `mirror: http://deb.debian.org/debian`"},
		{"image", b.Image, "add `image: haloforge/base`"},
	}
	for _, f := range req {
		if strings.TrimSpace(f.val) == "" {
			line, field := at(f.field)
			return inputErr(ErrMalformed, file, line, field, f.fix, "missing %s", f.field)
		}
	}
	if !nameRE.MatchString(b.Name) {
		line, field := at("name")
		return inputErr(ErrMalformed, file, line, field, "use lower-case letters, digits and . + _ -", "invalid base name %q", b.Name)
	}
	if !snapshotRE.MatchString(b.Snapshot) {
		line, field := at("snapshot")
		return inputErr(ErrMissingPin, file, line, field,
			"set snapshot to the Date of dists/"+b.Suite+"/InRelease as YYYYMMDDTHHMMSSZ",
			"archive state %q is not a YYYYMMDDTHHMMSSZ timestamp", b.Snapshot)
	}
	if !sha256RE.MatchString(b.ReleaseSHA256) {
		line, field := at("release_sha256")
		return inputErr(ErrMissingPin, file, line, field,
			"set it to `curl -s "+b.Mirror+"/dists/"+b.Suite+"/InRelease | sha256sum`",
			"%q is not a sha256", b.ReleaseSHA256)
	}
	for i, p := range b.Include {
		if !pkgRE.MatchString(p) {
			line, field := at("include", i)
			return inputErr(ErrMalformed, file, line, field, "list plain Debian package names", "invalid package name %q", p)
		}
	}
	return b.validateProvides(file, path)
}

// BaseNamed returns the base called name ("" is the default, the first).
func (s *Set) BaseNamed(name string) (*Base, bool) {
	if name == "" {
		return s.Base, s.Base != nil
	}
	for _, b := range s.Bases {
		if b.Name == name {
			return b, true
		}
	}
	return nil, false
}

// BaseNames lists the bases in file order.
func (s *Set) BaseNames() []string {
	out := make([]string, len(s.Bases))
	for i, b := range s.Bases {
		out[i] = b.Name
	}
	return out
}

// baseOf is the name of the base variant vi of r builds on: the variant's
// own `base:`, else the recipe's, else the default.
func (s *Set) baseOf(r *Recipe, vi int) *Base {
	name := r.Base
	if v := r.Variants[vi].Base; v != "" {
		name = v
	}
	b, _ := s.BaseNamed(name) // checked at load
	return b
}

// checkBaseRefs verifies every `base:` a recipe or variant names exists.
func (s *Set) checkBaseRefs() error {
	for _, r := range s.Recipes {
		if r.Base != "" {
			if _, ok := s.BaseNamed(r.Base); !ok {
				return r.errf(ErrMalformed, "use one of the bases in base.yaml: "+strings.Join(s.BaseNames(), ", "), []any{"base"}, "unknown base %q", r.Base)
			}
		}
		for i, v := range r.Variants {
			if v.Base != "" {
				if _, ok := s.BaseNamed(v.Base); !ok {
					return r.errf(ErrMalformed, "use one of the bases in base.yaml: "+strings.Join(s.BaseNames(), ", "), []any{"variants", i, "base"}, "unknown base %q", v.Base)
				}
			}
		}
	}
	return nil
}

// LockedBaseNamed returns the lock entry of base name: the default base or
// one of Bases.
func (l *Lock) LockedBaseNamed(name string) (LockedBase, bool) {
	if l.Base.Name == name {
		return l.Base, true
	}
	for _, b := range l.Bases {
		if b.Name == name {
			return b, true
		}
	}
	return LockedBase{}, false
}

func (l *Lock) mustBase(name string) LockedBase {
	b, _ := l.LockedBaseNamed(name)
	return b
}

// checkBases compares the lock's non-default bases with base.yaml.
func (l *Lock) checkBases(set *Set) error {
	if len(l.Bases) != len(set.Bases)-1 {
		return l.errf(ErrLockMismatch, "run `haloforge lock` to refresh stack.lock from "+set.Base.File, []any{"bases"},
			"the lock has %d extra bases but %s defines %d", len(l.Bases), set.Base.File, len(set.Bases)-1)
	}
	for i, b := range set.Bases[1:] {
		got := l.Bases[i]
		got.RootfsSHA256 = ""
		if want := lockedBase(b); got != want {
			field, g, w := diffBase(got, want)
			return l.errf(ErrLockMismatch, "run `haloforge lock` to refresh stack.lock from "+b.File, []any{"bases", i, field},
				"base %s %s is %q but %s says %q", b.Name, field, g, b.File, w)
		}
	}
	return nil
}

// stepBaseName is the base name variant vi of r records in its step: empty
// for the plan's main base, so plans on one base keep their shape.
func stepBaseName(set *Set, plan *Plan, r *Recipe, vi int) string {
	if b := set.baseOf(r, vi); b.Name != plan.Base.Lock.Name {
		return b.Name
	}
	return ""
}

// planBases picks the plan's main base and its other bases: when every
// step in ids builds on one base, that base alone (so a plan of the distro
// provider is a plan on Debian sid); otherwise base.yaml's default plus the
// other bases the steps use, in base.yaml order.
func planBases(set *Set, lock *Lock, ids []string) (BaseStep, []BaseStep) {
	used := map[string]bool{}
	for _, id := range ids {
		r, _ := set.Recipe(componentOf(id))
		used[set.baseOf(r, r.variantIndex(variantOf(id))).Name] = true
	}
	main := set.Base
	if len(used) == 1 {
		for _, b := range set.Bases {
			if used[b.Name] {
				main = b
			}
		}
	}
	var others []BaseStep
	for _, b := range set.Bases {
		if b != main && used[b.Name] {
			others = append(others, makeBase(b, lock))
		}
	}
	return makeBase(main, lock), others
}

// baseStep returns the plan's base called name ("" is the default).
func (p *Plan) baseStep(name string) BaseStep {
	for _, b := range p.Bases {
		if b.Lock.Name == name {
			return b
		}
	}
	return p.Base
}

// validateBases checks the lock's non-default base entries.
func (l *Lock) validateBases() error {
	seen := map[string]bool{l.Base.Name: true}
	for i, b := range l.Bases {
		p := []any{"bases", i}
		if b.Name == "" || b.Suite == "" || b.Mirror == "" {
			return l.errf(ErrMissingPin, "regenerate it with `haloforge lock`", p, "base entry without name, suite or mirror")
		}
		if seen[b.Name] {
			return l.errf(ErrMalformed, "keep one entry per base", append(p, "name"), "base %q listed twice", b.Name)
		}
		seen[b.Name] = true
		if !snapshotRE.MatchString(b.Snapshot) {
			return l.errf(ErrMissingPin, "regenerate it with `haloforge lock`", append(p, "snapshot"), "base %s snapshot %q is not a YYYYMMDDTHHMMSSZ timestamp", b.Name, b.Snapshot)
		}
		if !sha256RE.MatchString(b.ReleaseSHA256) {
			return l.errf(ErrMissingPin, "regenerate it with `haloforge lock`", append(p, "release_sha256"), "base %s release_sha256 %q is not a sha256", b.Name, b.ReleaseSHA256)
		}
		if b.RootfsSHA256 != "" && !sha256RE.MatchString(b.RootfsSHA256) {
			return l.errf(ErrMalformed, "set it to the 64-hex sha256 of the rootfs tarball, or empty", append(p, "rootfs_sha256"), "%q is not a sha256", b.RootfsSHA256)
		}
	}
	return nil
}
