package recipes

import (
	"regexp"
	"sort"
	"strings"
	"text/template"

	goversion "github.com/hashicorp/go-version"
	"go.yaml.in/yaml/v3"

	"github.com/haloforge/haloforge/internal/yamlpath"
)

// Paths inside build and runtime images. Every component installs into its
// own prefix, so a step's output is one directory another step can copy.
const (
	PrefixRoot = "/opt/haloforge" // install prefixes live under here
	SrcRoot    = "/src"           // sources are checked out under here
	// JobsExpr is what {{.Jobs}} renders to: the executor sets
	// HALOFORGE_JOBS (memory-hungry builds need fewer jobs than cores); the
	// value is deliberately not part of any cache key.
	JobsExpr = "${HALOFORGE_JOBS:-$(nproc)}"
)

// Recipe is one component: where its source comes from, what it needs and
// how each of its variants is built and run. It is decoded from
// components/<name>.yaml.
type Recipe struct {
	Name        string `yaml:"name"`        // component name, equal to the file name
	Version     string `yaml:"version"`     // human version; checked against dependants' constraints
	Description string `yaml:"description"` // one line
	Homepage    string `yaml:"homepage"`
	License     string `yaml:"license"`
	// Image is the short image name; images are haloforge/<image>-<variant>.
	Image string `yaml:"image"`
	// Source is the exact upstream input.
	Source Source `yaml:"source"`
	// Depends applies to every variant.
	Depends []Dependency `yaml:"depends"`
	// Heavy marks memory-hungry ROCm-class compiles: the executor should
	// bound HALOFORGE_JOBS by memory (TheRock: ~16 GB per 4 jobs).
	Heavy bool `yaml:"heavy"`
	// BuildPackages are Debian packages installed in the builder for every variant.
	BuildPackages []string `yaml:"build_packages"`
	// Env is the build environment for every variant (values are templates).
	Env map[string]string `yaml:"env"`
	// Variants are the builds this component yields; the first is the default.
	Variants []Variant `yaml:"variants"`
	// Base names the base in base.yaml this component builds on ("" is
	// the default, the first); Toolchain is the tool versions its sources
	// build with, checked against that base before anything builds.
	Base      string            `yaml:"base"`
	Toolchain []ToolRequirement `yaml:"toolchain"`

	// File is the path the recipe was loaded from, for messages.
	File string `yaml:"-"`
	node *yaml.Node
}

// Source names an exact upstream input: a git URL and a 40-hex commit, or a
// tarball URL and its sha256.
type Source struct {
	Git    string `yaml:"git"`
	Ref    string `yaml:"ref"` // informational: the tag or branch the commit was taken from
	Commit string `yaml:"commit"`
	// Submodules asks for a recursive submodule checkout at the commit.
	Submodules bool   `yaml:"submodules"`
	Tarball    string `yaml:"tarball"`
	SHA256     string `yaml:"sha256"`
}

// Dependency is an edge to another component's variant, with an optional
// go-version constraint on that component's version.
type Dependency struct {
	Component string `yaml:"component"`
	Variant   string `yaml:"variant"` // "" means the component's default (first) variant
	Version   string `yaml:"version"` // e.g. ">= 6.4, < 6.5"
	// Runtime means the dependency's runtime files go into this variant's
	// runtime image (shared libraries it links against).
	Runtime bool `yaml:"runtime"`
}

// Variant is one build of a component (llama.cpp: cpu, hip, hip-rocwmma, vulkan).
type Variant struct {
	Name          string            `yaml:"name"`
	Description   string            `yaml:"description"`
	Profiles      []string          `yaml:"profiles"` // named selections this variant belongs to, e.g. smoke
	Depends       []Dependency      `yaml:"depends"`
	BuildPackages []string          `yaml:"build_packages"`
	Env           map[string]string `yaml:"env"`
	Configure     []string          `yaml:"configure"` // shell commands, templates
	Build         []string          `yaml:"build"`
	Install       []string          `yaml:"install"`
	// Outputs are paths under the install prefix that must exist after install.
	Outputs []string `yaml:"outputs"`
	Runtime Runtime  `yaml:"runtime"`
	// Base and Toolchain override and extend the recipe's for this variant.
	Base      string            `yaml:"base"`
	Toolchain []ToolRequirement `yaml:"toolchain"`
}

// Runtime is what a variant's runtime image carries: no compilers, only
// these packages, these paths from the install prefix and this environment.
type Runtime struct {
	Packages []string          `yaml:"packages"`
	Paths    []string          `yaml:"paths"` // relative to the install prefix; * globs allowed, "." is all of it
	Env      map[string]string `yaml:"env"`   // templates
	// Devices the runtime needs: kfd (ROCm compute) and/or dri (render nodes).
	Devices []string `yaml:"devices"`
}

// TemplateData is what recipe templates see. Templates run with
// missingkey=error, so a typo fails at load time.
type TemplateData struct {
	Target  string            // GPU target, e.g. gfx1151
	Jobs    string            // parallel jobs, a shell expression (JobsExpr)
	Prefix  string            // this variant's install prefix
	Src     string            // this component's source directory
	Version string            // this component's human version
	Dep     map[string]string // dependency component name -> its install prefix
}

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9.+_-]*$`)
	envKeyRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	commitRE   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	sha256RE   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	pkgRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]+$`)
	snapshotRE = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z$`)
	// relPathRE is a path relative to an install prefix; "*" globs are
	// allowed (the executor uses them as include patterns), "." is the
	// whole prefix.
	relPathRE = regexp.MustCompile(`^(\.|[A-Za-z0-9_+*-][A-Za-z0-9._+*/-]*)$`)
)

// DefaultVariant is the first variant.
func (r *Recipe) DefaultVariant() *Variant { return &r.Variants[0] }

// Variant returns the named variant ("" is the default).
func (r *Recipe) Variant(name string) (*Variant, bool) {
	if name == "" {
		return r.DefaultVariant(), true
	}
	if i := r.variantIndex(name); i >= 0 {
		return &r.Variants[i], true
	}
	return nil, false
}

// VariantNames lists the variant names in file order.
func (r *Recipe) VariantNames() []string {
	out := make([]string, len(r.Variants))
	for i, v := range r.Variants {
		out[i] = v.Name
	}
	return out
}

// depends returns the recipe-level then the variant-level dependencies.
func (r *Recipe) depends(v *Variant) []Dependency {
	out := make([]Dependency, 0, len(r.Depends)+len(v.Depends))
	out = append(out, r.Depends...)
	return append(out, v.Depends...)
}

type depAt struct {
	Dependency
	path []any
}

// dependsWithPath is depends with each dependency's field path.
func (r *Recipe) dependsWithPath(vi int) []depAt {
	var out []depAt
	for i, d := range r.Depends {
		out = append(out, depAt{d, []any{"depends", i}})
	}
	for i, d := range r.Variants[vi].Depends {
		out = append(out, depAt{d, []any{"variants", vi, "depends", i}})
	}
	return out
}

func (r *Recipe) variantIndex(name string) int {
	for i := range r.Variants {
		if r.Variants[i].Name == name {
			return i
		}
	}
	return -1
}

// Prefix is the install prefix of a variant.
func Prefix(component, variant string) string {
	return PrefixRoot + "/" + component + "/" + variant
}

func (r *Recipe) errf(kind error, fix string, path []any, format string, args ...any) *InputError {
	return inputErr(kind, r.File, yamlpath.Line(r.node, path...), fieldPath(path...), fix, format, args...)
}

// validate checks one recipe on its own (cross-recipe checks are in Set).
func (r *Recipe) validate(fileBase string) error {
	if r.Name == "" {
		return r.errf(ErrMalformed, "add `name: "+fileBase+"`", []any{"name"}, "missing component name")
	}
	if !nameRE.MatchString(r.Name) {
		return r.errf(ErrMalformed, "use lower-case letters, digits and . + _ -", []any{"name"}, "invalid component name %q", r.Name)
	}
	if r.Name != fileBase {
		return r.errf(ErrMalformed, "rename the file to "+r.Name+".yaml or set name: "+fileBase, []any{"name"},
			"component name %q does not match its file name %q", r.Name, fileBase+".yaml")
	}
	if strings.TrimSpace(r.Version) == "" {
		return r.errf(ErrMalformed, "add `version:` with the upstream version (e.g. 6.4.0)", []any{"version"}, "missing version")
	}
	if r.Image == "" {
		r.Image = r.Name
	}
	if !nameRE.MatchString(r.Image) {
		return r.errf(ErrMalformed, "use lower-case letters, digits and . _ -", []any{"image"}, "invalid image name %q", r.Image)
	}
	if err := r.validateSource(); err != nil {
		return err
	}
	if err := r.validatePackages(r.BuildPackages, "build_packages"); err != nil {
		return err
	}
	if err := r.validateEnv(r.Env, "env"); err != nil {
		return err
	}
	if err := r.validateToolchain(r.Toolchain, "toolchain"); err != nil {
		return err
	}
	for i, d := range r.Depends {
		if err := r.validateDep(d, []any{"depends", i}); err != nil {
			return err
		}
	}
	if len(r.Variants) == 0 {
		return r.errf(ErrMalformed, "add a `variants:` list with at least one variant (e.g. - name: default)", []any{"variants"}, "no variants")
	}
	seen := map[string]bool{}
	for i := range r.Variants {
		v := &r.Variants[i]
		p := []any{"variants", i}
		if !nameRE.MatchString(v.Name) {
			return r.errf(ErrMalformed, "give every variant a lower-case name (e.g. cpu, hip, vulkan)", append(p, "name"), "invalid variant name %q", v.Name)
		}
		if seen[v.Name] {
			return r.errf(ErrMalformed, "rename one of the two", append(p, "name"), "variant %q defined twice", v.Name)
		}
		seen[v.Name] = true
		for j, prof := range v.Profiles {
			if !nameRE.MatchString(prof) {
				return r.errf(ErrMalformed, "use a lower-case profile name like smoke", append(p, "profiles", j), "invalid profile name %q", prof)
			}
		}
		for j, d := range v.Depends {
			if err := r.validateDep(d, append(append([]any{}, p...), "depends", j)); err != nil {
				return err
			}
		}
		if err := r.validatePackages(v.BuildPackages, p, "build_packages"); err != nil {
			return err
		}
		if err := r.validatePackages(v.Runtime.Packages, p, "runtime", "packages"); err != nil {
			return err
		}
		if err := r.validateEnv(v.Env, p, "env"); err != nil {
			return err
		}
		if err := r.validateToolchain(v.Toolchain, p, "toolchain"); err != nil {
			return err
		}
		if err := r.validateEnv(v.Runtime.Env, p, "runtime", "env"); err != nil {
			return err
		}
		if len(v.Install) == 0 {
			return r.errf(ErrMalformed, "add an `install:` command that installs into {{.Prefix}}", p, "variant %q has no install commands", v.Name)
		}
		for j, o := range v.Outputs {
			if !relPathRE.MatchString(o) || strings.Contains(o, "..") {
				return r.errf(ErrMalformed, "write a path relative to the install prefix, like bin/llama-bench", append(p, "outputs", j), "invalid output path %q", o)
			}
		}
		for j, o := range v.Runtime.Paths {
			if !relPathRE.MatchString(o) || strings.Contains(o, "..") {
				return r.errf(ErrMalformed, "write a path relative to the install prefix, like lib", append(p, "runtime", "paths", j), "invalid runtime path %q", o)
			}
		}
		for j, d := range v.Runtime.Devices {
			if d != "kfd" && d != "dri" {
				return r.errf(ErrMalformed, "use kfd (ROCm compute) or dri (render nodes)", append(p, "runtime", "devices", j), "unknown device %q", d)
			}
		}
		if err := r.checkTemplates(v, p, false); err != nil {
			return err
		}
	}
	return nil
}

func (r *Recipe) validateSource() error {
	s := r.Source
	switch {
	case s.Git == "" && s.Tarball == "":
		return r.errf(ErrMissingPin, "add source.git + source.commit (40-hex) or source.tarball + source.sha256", []any{"source"}, "no upstream source")
	case s.Git != "" && s.Tarball != "":
		return r.errf(ErrMalformed, "keep either source.git or source.tarball", []any{"source"}, "both git and tarball given")
	case s.Git != "":
		// file:// serves local mirrors (and the tests' local upstreams).
		if !strings.HasPrefix(s.Git, "https://") && !strings.HasPrefix(s.Git, "file:///") {
			return r.errf(ErrMalformed, "use an https:// git URL (or file:///path for a local mirror)", []any{"source", "git"}, "git URL %q is not https", s.Git)
		}
		if s.Commit == "" {
			return r.errf(ErrMissingPin, "set source.commit to the exact 40-hex commit (git ls-remote "+s.Git+" <tag>)", []any{"source"}, "git source has no commit")
		}
		if !commitRE.MatchString(s.Commit) {
			return r.errf(ErrMissingPin, "use the full 40-character lower-case commit hash, not a tag, branch or short hash", []any{"source", "commit"}, "%q is not a 40-hex commit", s.Commit)
		}
		if s.SHA256 != "" {
			return r.errf(ErrMalformed, "remove source.sha256 (it is for tarballs)", []any{"source", "sha256"}, "sha256 given for a git source")
		}
	default:
		if !strings.HasPrefix(s.Tarball, "https://") {
			return r.errf(ErrMalformed, "use an https:// tarball URL", []any{"source", "tarball"}, "tarball URL %q is not https", s.Tarball)
		}
		if !sha256RE.MatchString(s.SHA256) {
			return r.errf(ErrMissingPin, "set source.sha256 to the tarball's sha256 (sha256sum FILE)", []any{"source", "sha256"}, "tarball has no valid sha256 (%q)", s.SHA256)
		}
		if s.Commit != "" {
			return r.errf(ErrMalformed, "remove source.commit (it is for git sources)", []any{"source", "commit"}, "commit given for a tarball source")
		}
	}
	return nil
}

func (r *Recipe) validateDep(d Dependency, path []any) error {
	if d.Component == "" {
		return r.errf(ErrMalformed, "add `component: NAME`", path, "dependency without a component")
	}
	if d.Component == r.Name {
		return r.errf(ErrCycle, "remove the self-dependency", append(path, "component"), "%s depends on itself", r.Name)
	}
	if d.Version != "" {
		if _, err := goversion.NewConstraint(d.Version); err != nil {
			return r.errf(ErrConstraint, `write a constraint like ">= 6.4, < 6.5"`, append(path, "version"), "invalid version constraint %q: %v", d.Version, err)
		}
	}
	return nil
}

func (r *Recipe) validatePackages(pkgs []string, path ...any) error {
	flat := flattenPath(path)
	for i, p := range pkgs {
		if !pkgRE.MatchString(p) {
			return r.errf(ErrMalformed, "list plain Debian package names (no versions, no spaces)", append(flat, i), "invalid package name %q", p)
		}
	}
	return nil
}

func (r *Recipe) validateEnv(env map[string]string, path ...any) error {
	flat := flattenPath(path)
	for _, k := range sortedKeys(env) {
		if !envKeyRE.MatchString(k) {
			return r.errf(ErrMalformed, "use a shell identifier like ROCM_PATH", append(flat, k), "invalid environment variable name %q", k)
		}
	}
	return nil
}

// flattenPath lets callers pass a prefix slice followed by more elements.
func flattenPath(path []any) []any {
	var out []any
	for _, p := range path {
		if s, ok := p.([]any); ok {
			out = append(out, s...)
		} else {
			out = append(out, p)
		}
	}
	return out
}

// checkTemplates parses every template of a variant and, with execute,
// trial-runs it with sample data, so syntax errors and unknown keys fail at
// load time. Execution waits until dependencies are resolved, so a misspelt
// dependency is reported as such and not as a template error.
func (r *Recipe) checkTemplates(v *Variant, p []any, execute bool) error {
	data := r.templateData(v, DefaultTarget, func(d Dependency) string { return Prefix(d.Component, "check") })
	check := func(text string, path []any) error {
		var err error
		if execute {
			_, err = renderTemplate(fieldPath(path...), text, data)
		} else {
			_, err = parseTemplate(fieldPath(path...), text)
		}
		if err != nil {
			return r.errf(ErrTemplate, "fix the {{...}} expression; known keys: .Target .Jobs .Prefix .Src .Version .Dep.<dependency>", path, "%v", err)
		}
		return nil
	}
	for _, k := range sortedKeys(r.Env) {
		if err := check(r.Env[k], []any{"env", k}); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(v.Env) {
		if err := check(v.Env[k], append(append([]any{}, p...), "env", k)); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(v.Runtime.Env) {
		if err := check(v.Runtime.Env[k], append(append([]any{}, p...), "runtime", "env", k)); err != nil {
			return err
		}
	}
	for _, phase := range []struct {
		name string
		cmds []string
	}{{"configure", v.Configure}, {"build", v.Build}, {"install", v.Install}} {
		for i, c := range phase.cmds {
			if err := check(c, append(append([]any{}, p...), phase.name, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// templateData is the data a variant's templates see for a target.
func (r *Recipe) templateData(v *Variant, target string, depPrefix func(Dependency) string) TemplateData {
	deps := map[string]string{}
	for _, d := range r.depends(v) {
		deps[d.Component] = depPrefix(d)
	}
	return TemplateData{
		Target:  target,
		Jobs:    JobsExpr,
		Prefix:  Prefix(r.Name, v.Name),
		Src:     SrcRoot + "/" + r.Name,
		Version: r.Version,
		Dep:     deps,
	}
}

func parseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Parse(text)
}

func renderTemplate(name, text string, data TemplateData) (string, error) {
	t, err := parseTemplate(name, text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
