package recipes

import (
	"errors"
	"fmt"
	"strings"

	goversion "github.com/hashicorp/go-version"

	"github.com/haloforge/haloforge/internal/yamlpath"
)

// ToolRequirement is a tool version range a recipe's sources of its era
// build with (cmake < 4 for TheRock before its CMake 4 support, python <
// 3.14 for PyTorch 2.8, ...). It is checked against the version the chosen
// base provides before anything builds.
type ToolRequirement struct {
	Tool    string `yaml:"tool"`    // a key of the base's provides: (cmake, gcc, python, ...)
	Version string `yaml:"version"` // a hashicorp/go-version constraint, e.g. "< 4" or ">= 3.25, < 4"
	// Source is the upstream statement the range comes from, shown in the
	// error (e.g. "TheRock docs/environment_setup_guide.md at f3d0ac98").
	Source string `yaml:"source"`
	// Fix is what to do when the base does not satisfy it.
	Fix string `yaml:"fix"`
}

// validateProvides checks a base's recorded tool versions parse.
func (b *Base) validateProvides(file string, path []any) error {
	for _, tool := range sortedKeys(b.Provides) {
		if _, err := goversion.NewVersion(b.Provides[tool]); err != nil {
			p := append(append([]any{}, path...), "provides", tool)
			return inputErr(ErrMalformed, file, yamlpath.Line(b.node, "provides", tool), fieldPath(p...),
				"record the upstream version the suite ships (e.g. 3.31.6 for Debian's 3.31.6-2), checked with apt-cache policy",
				"%s version %q is not a dotted version", tool, b.Provides[tool])
		}
	}
	return nil
}

// validateToolchain checks a recipe's or variant's toolchain entries parse.
func (r *Recipe) validateToolchain(reqs []ToolRequirement, path ...any) error {
	flat := flattenPath(path)
	for i, q := range reqs {
		p := append(append([]any{}, flat...), i)
		if !nameRE.MatchString(q.Tool) {
			return r.errf(ErrMalformed, "name the tool as the base's provides: does (cmake, gcc, python)", append(p, "tool"), "invalid tool name %q", q.Tool)
		}
		if _, err := goversion.NewConstraint(q.Version); err != nil {
			return r.errf(ErrConstraint, `write a constraint like "< 4" or ">= 3.25, < 4"`, append(p, "version"), "invalid version constraint %q: %v", q.Version, err)
		}
		if strings.TrimSpace(q.Source) == "" {
			return r.errf(ErrMalformed, "say where the range comes from (upstream file and commit, issue or PR)", append(p, "source"), "toolchain requirement for %s has no source", q.Tool)
		}
	}
	return nil
}

// CheckToolchains checks the tool requirements of every step in ids
// (component/variant) against the base each builds on. It returns nil or
// one *InputError (kind ErrConstraint) per unmet requirement, joined, each
// of the form
//
//	therock: needs cmake < 4 (SOURCE); base debian-sid@20261030 provides 4.3.4; fix: FIX
//
// It is pure: it reads only the set.
func CheckToolchains(set *Set, ids []string) error {
	var errs []error
	for _, id := range ids {
		r, ok := set.Recipe(componentOf(id))
		if !ok {
			continue
		}
		vi := r.variantIndex(variantOf(id))
		if vi < 0 {
			continue
		}
		base := set.baseOf(r, vi)
		type at struct {
			q    ToolRequirement
			path []any
		}
		var reqs []at
		for i, q := range r.Toolchain {
			reqs = append(reqs, at{q, []any{"toolchain", i}})
		}
		for i, q := range r.Variants[vi].Toolchain {
			reqs = append(reqs, at{q, []any{"variants", vi, "toolchain", i}})
		}
		for _, q := range reqs {
			if err := checkTool(r, id, base, q.q, q.path); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func checkTool(r *Recipe, id string, base *Base, q ToolRequirement, path []any) error {
	who := r.Name
	if len(r.Variants) > 1 {
		who = id
	}
	baseID := base.Name + "@" + base.Snapshot[:8]
	fix := q.Fix
	have, ok := base.Provides[q.Tool]
	if !ok {
		if fix == "" {
			fix = "record the " + q.Tool + " version " + base.Suite + " provides under provides: in " + base.File
		}
		return r.errf(ErrConstraint, fix, append(path, "tool"),
			"%s: needs %s %s (%s); base %s does not record a %s version", who, q.Tool, q.Version, q.Source, baseID, q.Tool)
	}
	c, err := goversion.NewConstraint(q.Version)
	if err != nil { // validated at load
		return r.errf(ErrConstraint, `write a constraint like "< 4"`, append(path, "version"), "invalid version constraint %q: %v", q.Version, err)
	}
	v, err := goversion.NewVersion(have)
	if err != nil { // validated at load
		return inputErr(ErrMalformed, base.File, yamlpath.Line(base.node, "provides", q.Tool), "provides."+q.Tool, "record a dotted version", "%q is not a version", have)
	}
	if c.Check(v) {
		return nil
	}
	if fix == "" {
		fix = fmt.Sprintf("build %s on a base whose %s satisfies %s (base: NAME in %s, bases in %s)", who, q.Tool, q.Version, r.File, base.File)
	}
	return r.errf(ErrConstraint, fix, append(path, "version"),
		"%s: needs %s %s (%s); base %s provides %s", who, q.Tool, q.Version, q.Source, baseID, have)
}
