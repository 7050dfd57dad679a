package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
)

// Selection says which part of the stack to plan. The zero value plans
// every variant of every component. Dependencies of what is selected are
// always included.
type Selection struct {
	// Profile selects the variants that list it in `profiles:` (e.g. smoke:
	// llama.cpp cpu + vulkan on Debian packages, no ROCm).
	Profile string
	// Only restricts the selection to these components.
	Only []string
	// Variants keeps only these variants of the selected components.
	Variants []string
}

// SourceOverride replaces a component's pinned upstream source with a local
// directory (for testing a patch). Digest is a content digest of the
// directory (see DigestDir); it goes into the cache key instead of the pin.
type SourceOverride struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
}

// Plan is the ordered DAG of build steps for one target: everything the
// executor needs, and nothing that depends on the machine it was made on.
type Plan struct {
	Target     string   `json:"target"`
	LockDigest string   `json:"lock_digest"`
	Tools      []Tool   `json:"tools"`
	Base       BaseStep `json:"base"`
	// Bases are the other bases steps of this plan build on (see Step.Base).
	Bases []BaseStep `json:"bases,omitempty"`
	// Steps are in build order: every step comes after the steps it needs.
	Steps []Step `json:"steps"`
}

// BaseStep is the debootstrapped Debian base image all steps start from.
type BaseStep struct {
	Key   string     `json:"key"`
	Image string     `json:"image"`
	Lock  LockedBase `json:"lock"`
	// Include are extra packages debootstrap installs.
	Include []string `json:"include"`
	// AptOptions go to every apt-get (e.g. Acquire::Check-Valid-Until=false,
	// needed for a frozen sid archive).
	AptOptions  []string `json:"apt_options"`
	Debootstrap string   `json:"debootstrap"` // tool version
	Labels      []Label  `json:"labels"`
}

// Step builds one variant of one component into its own install prefix.
type Step struct {
	ID          string `json:"id"` // component/variant
	Component   string `json:"component"`
	Variant     string `json:"variant"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
	// Selected is true for steps the selection asked for, false for steps
	// pulled in as dependencies.
	Selected bool `json:"selected"`
	// Heavy: bound HALOFORGE_JOBS by memory for this step (not part of the key).
	Heavy bool `json:"heavy,omitempty"`
	// Base names the base this step builds on when it is not the default.
	Base  string   `json:"base,omitempty"`
	Needs []string `json:"needs"` // direct dependency step IDs, sorted
	// Key is the content-derived cache key: sha256 over this step's resolved
	// inputs and the keys of every step it needs.
	Key string `json:"key"`
	// BuilderImage is the image the build runs in before BuildPackages are
	// installed (the base image).
	BuilderImage  string     `json:"builder_image"`
	BuildPackages []string   `json:"build_packages"`
	Env           []EnvVar   `json:"env"`
	Source        StepSource `json:"source"`
	// Mounts are dependency install prefixes to copy in before building
	// (the transitive closure, in build order).
	Mounts   []Copy    `json:"mounts"`
	Commands []Command `json:"commands"`
	Prefix   string    `json:"prefix"`  // install prefix, the step's output
	Outputs  []string  `json:"outputs"` // absolute paths that must exist after install
	// BuildImage is the image holding the builder plus the installed prefix.
	BuildImage string `json:"build_image"`
	// Runtime is the compiler-free image to run the result; nil for
	// build-only components (headers, static libraries).
	Runtime *RuntimeImage `json:"runtime,omitempty"`
	Labels  []Label       `json:"labels"`
	// Mirror says where a pinned git source is in a source mirror (set by
	// Plan.MarkMirror for haloforge plan --mirror; nil otherwise). It is
	// not an input: the key is the same with or without a mirror.
	Mirror *StepMirror `json:"mirror,omitempty"`
}

// StepSource is where a step's source tree comes from.
type StepSource struct {
	Kind   string `json:"kind"` // git, tarball or path
	URL    string `json:"url,omitempty"`
	Ref    string `json:"ref,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Submodules: check out submodules recursively at Commit.
	Submodules bool   `json:"submodules,omitempty"`
	SHA256     string `json:"sha256,omitempty"`
	Path       string `json:"path,omitempty"`   // local override
	Digest     string `json:"digest,omitempty"` // of the override
	Dir        string `json:"dir"`              // where to unpack it in the builder
	Subject    string `json:"-"`                // short form for text output
}

// Command is one resolved shell command of a phase (configure, build,
// install), run with `sh -ec` in Source.Dir.
type Command struct {
	Phase string `json:"phase"`
	Run   string `json:"run"`
}

// EnvVar is one resolved environment variable.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Copy copies Path from the build image of step From.
type Copy struct {
	From string `json:"from"` // step ID
	Path string `json:"path"` // absolute
}

// RuntimeImage is base + Packages + Copies + Env: no compilers.
type RuntimeImage struct {
	Image    string   `json:"image"`
	Packages []string `json:"packages"`
	Copies   []Copy   `json:"copies"`
	Env      []EnvVar `json:"env"`
	Devices  []string `json:"devices"` // kfd, dri
}

// Label is one OCI image label.
type Label struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// MakePlan is the pure planning function: it turns recipes, the lock, a
// target, a selection and source overrides into build steps in dependency
// order. It reads no files, no clock and no host facts; the same inputs
// always give the same plan. Input problems are *InputError values.
func MakePlan(set *Set, lock *Lock, target Target, sel Selection, overrides map[string]SourceOverride) (*Plan, error) {
	if _, err := LookupTarget(target.Name); err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(overrides) {
		if _, ok := set.Recipe(name); !ok {
			return nil, &InputError{Kind: ErrUnknownComponent, Field: "--source " + name,
				Problem: "unknown component " + quote(name), Fix: "use one of: " + strings.Join(set.Names(), ", ")}
		}
		o := overrides[name]
		if o.Path == "" || !strings.HasPrefix(o.Digest, "sha256:") || !sha256RE.MatchString(strings.TrimPrefix(o.Digest, "sha256:")) {
			return nil, &InputError{Kind: ErrMissingPin, Field: "--source " + name,
				Problem: "source override needs a path and a sha256: digest", Fix: "pass --source " + name + "=DIR (the digest is computed from the directory)"}
		}
	}
	roots, err := selectSteps(set, sel)
	if err != nil {
		return nil, err
	}
	order := closure(set, roots)
	if err := CheckToolchains(set, order); err != nil {
		return nil, err
	}
	var check []string
	seenC := map[string]bool{}
	for _, id := range order {
		c := componentOf(id)
		if _, over := overrides[c]; !over && !seenC[c] {
			seenC[c] = true
			check = append(check, c)
		}
	}
	sort.Strings(check)
	if check == nil {
		check = []string{}
	}
	if err := lock.Check(set, check); err != nil {
		return nil, err
	}

	plan := &Plan{Target: target.Name, LockDigest: lock.Digest(), Tools: append([]Tool{}, lock.Tools...)}
	plan.Base, plan.Bases = planBases(set, lock, order)
	selected := map[string]bool{}
	for _, id := range roots {
		selected[id] = true
	}
	steps := map[string]*Step{}
	for _, id := range order {
		st, err := makeStep(set, lock, plan, target, id, selected[id], steps, overrides)
		if err != nil {
			return nil, err
		}
		steps[id] = st
		plan.Steps = append(plan.Steps, *st)
	}
	return plan, nil
}

func componentOf(id string) string { return id[:strings.LastIndexByte(id, '/')] }
func variantOf(id string) string   { return id[strings.LastIndexByte(id, '/')+1:] }

// selectSteps resolves a selection into root step IDs, sorted.
func selectSteps(set *Set, sel Selection) ([]string, error) {
	type cand struct {
		r *Recipe
		v *Variant
	}
	var cands []cand
	if sel.Profile != "" {
		for _, r := range set.Recipes {
			for i := range r.Variants {
				for _, p := range r.Variants[i].Profiles {
					if p == sel.Profile {
						cands = append(cands, cand{r, &r.Variants[i]})
					}
				}
			}
		}
		if len(cands) == 0 {
			return nil, &InputError{Kind: ErrUnknownProfile, Field: "--profile", Problem: "unknown profile " + quote(sel.Profile),
				Fix: "use one of: " + strings.Join(set.Profiles(), ", ") + " (profiles are listed under a variant's `profiles:`)"}
		}
	} else {
		for _, r := range set.Recipes {
			for i := range r.Variants {
				cands = append(cands, cand{r, &r.Variants[i]})
			}
		}
	}
	if len(sel.Only) > 0 {
		only := map[string]bool{}
		for _, n := range sel.Only {
			if _, ok := set.Recipe(n); !ok {
				return nil, &InputError{Kind: ErrUnknownComponent, Field: "--only", Problem: "unknown component " + quote(n),
					Fix: "use one of: " + strings.Join(set.Names(), ", ")}
			}
			only[n] = true
		}
		var kept []cand
		for _, c := range cands {
			if only[c.r.Name] {
				kept = append(kept, c)
			}
		}
		if len(kept) == 0 {
			return nil, &InputError{Kind: ErrUnknownVariant, Field: "--only", Problem: "profile " + quote(sel.Profile) + " has no variant of " + strings.Join(sel.Only, ", "),
				Fix: "drop --profile or --only"}
		}
		cands = kept
	}
	if len(sel.Variants) > 0 {
		want := map[string]bool{}
		for _, v := range sel.Variants {
			want[v] = true
		}
		matched := map[string]bool{}
		var kept []cand
		for _, c := range cands {
			if want[c.v.Name] {
				kept = append(kept, c)
				matched[c.v.Name] = true
			}
		}
		for _, v := range sel.Variants {
			if !matched[v] {
				var names []string
				for _, c := range cands {
					names = append(names, c.v.Name)
				}
				return nil, &InputError{Kind: ErrUnknownVariant, Field: "--variant", Problem: "no selected component has variant " + quote(v),
					Fix: "use one of: " + strings.Join(uniqSorted(names), ", ") + " (or widen --only)"}
			}
		}
		cands = kept
	}
	ids := make([]string, 0, len(cands))
	for _, c := range cands {
		ids = append(ids, c.r.Name+"/"+c.v.Name)
	}
	return uniqSorted(ids), nil
}

// closure returns roots plus their transitive dependencies in build order:
// Kahn's algorithm, always taking the smallest ready ID, so the order is a
// pure function of the graph.
func closure(set *Set, roots []string) []string {
	deps := map[string][]string{}
	var add func(id string)
	add = func(id string) {
		if _, ok := deps[id]; ok {
			return
		}
		deps[id] = directNeeds(set, id)
		for _, d := range deps[id] {
			add(d)
		}
	}
	for _, r := range roots {
		add(r)
	}
	indeg := map[string]int{}
	users := map[string][]string{}
	for id, ds := range deps {
		indeg[id] += 0
		for _, d := range ds {
			indeg[id]++
			users[d] = append(users[d], id)
		}
	}
	var ready []string
	for id, n := range indeg {
		if n == 0 {
			ready = append(ready, id)
		}
	}
	var order []string
	for len(ready) > 0 {
		sort.Strings(ready)
		id := ready[0]
		ready = ready[1:]
		order = append(order, id)
		for _, u := range users[id] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return order // the set has no cycles (checked at load), so this is complete
}

// directNeeds lists a step's direct dependency step IDs, sorted and unique.
func directNeeds(set *Set, id string) []string {
	r, _ := set.Recipe(componentOf(id))
	vi := r.variantIndex(variantOf(id))
	var out []string
	for _, d := range r.dependsWithPath(vi) {
		out = append(out, d.Component+"/"+d.Variant)
	}
	return uniqSorted(out)
}

func makeBase(b *Base, lock *Lock) BaseStep {
	lb, _ := lock.LockedBaseNamed(b.Name)
	bs := BaseStep{
		Lock:        lb,
		Include:     uniqSorted(b.Include),
		AptOptions:  append([]string{}, b.AptOptions...),
		Debootstrap: lock.Tool("debootstrap"),
	}
	bs.Key = hashJSON(struct {
		Lock        LockedBase
		Include     []string
		AptOptions  []string
		Debootstrap string
	}{bs.Lock, bs.Include, bs.AptOptions, bs.Debootstrap})
	bs.Image = b.Image + ":" + b.Suite + "-" + lb.Snapshot + "-" + short(bs.Key)
	bs.Labels = nonEmpty([]Label{
		{"org.opencontainers.image.title", b.Image},
		{"org.opencontainers.image.description", "Debian " + b.Suite + " " + b.Architecture + " (" + b.Variant + ") debootstrapped from " + b.Mirror + " at " + lb.Snapshot},
		{"org.opencontainers.image.version", b.Suite + "-" + lb.Snapshot},
		{"io.haloforge.cache-key", bs.Key},
		{"io.haloforge.base.release-sha256", lb.ReleaseSHA256},
		{"io.haloforge.base.rootfs-sha256", lb.RootfsSHA256},
		{"io.haloforge.tool.debootstrap", bs.Debootstrap},
	})
	return bs
}

func makeStep(set *Set, lock *Lock, plan *Plan, target Target, id string, selected bool, done map[string]*Step, overrides map[string]SourceOverride) (*Step, error) {
	r, _ := set.Recipe(componentOf(id))
	vi := r.variantIndex(variantOf(id))
	v := &r.Variants[vi]
	st := &Step{
		ID: id, Component: r.Name, Variant: v.Name, Version: r.Version, Description: v.Description,
		Selected: selected, Heavy: r.Heavy, Needs: directNeeds(set, id),
		BuilderImage: plan.baseStep(stepBaseName(set, plan, r, vi)).Image, Prefix: Prefix(r.Name, v.Name),
		Base: stepBaseName(set, plan, r, vi),
		// Empty lists, not null, for JSON consumers.
		Mounts: []Copy{}, Commands: []Command{}, Outputs: []string{},
	}
	if st.Description == "" {
		st.Description = r.Description
	}
	data := r.templateData(v, target.Name, func(d Dependency) string { return Prefix(d.Component, d.Variant) })
	render := func(text string, path ...any) (string, error) {
		flat := flattenPath(path)
		out, err := renderTemplate(fieldPath(flat...), text, data)
		if err != nil {
			return "", r.errf(ErrTemplate, "fix the {{...}} expression", flat, "%v", err)
		}
		return out, nil
	}
	vp := []any{"variants", vi}

	st.BuildPackages = uniqSorted(append(append([]string{}, r.BuildPackages...), v.BuildPackages...))
	env := map[string]string{}
	for _, k := range sortedKeys(r.Env) {
		val, err := render(r.Env[k], "env", k)
		if err != nil {
			return nil, err
		}
		env[k] = val
	}
	for _, k := range sortedKeys(v.Env) {
		val, err := render(v.Env[k], vp, "env", k)
		if err != nil {
			return nil, err
		}
		env[k] = val
	}
	st.Env = envList(env)

	st.Source = StepSource{Dir: SrcRoot + "/" + r.Name}
	if o, ok := overrides[r.Name]; ok {
		st.Source.Kind, st.Source.Path, st.Source.Digest = "path", o.Path, o.Digest
		st.Source.Subject = o.Path + " (" + shortRev(o.Digest) + ", overrides " + pinOf(r) + ")"
	} else if r.Source.Git != "" {
		st.Source.Kind, st.Source.URL, st.Source.Ref, st.Source.Commit = "git", r.Source.Git, r.Source.Ref, r.Source.Commit
		st.Source.Submodules = r.Source.Submodules
		st.Source.Subject = r.Source.Git + " @ " + r.Source.Commit
	} else {
		st.Source.Kind, st.Source.URL, st.Source.SHA256 = "tarball", r.Source.Tarball, r.Source.SHA256
		st.Source.Subject = r.Source.Tarball + " sha256:" + r.Source.SHA256
	}

	// Mounts: the transitive closure of dependency prefixes, in build order.
	// Steps are made in build order, so each dependency's Mounts already is
	// its own transitive closure.
	trans := map[string]bool{}
	for _, d := range st.Needs {
		trans[d] = true
		for _, m := range done[d].Mounts {
			trans[m.From] = true
		}
	}
	for _, s := range plan.Steps {
		if trans[s.ID] {
			st.Mounts = append(st.Mounts, Copy{From: s.ID, Path: s.Prefix})
		}
	}

	for _, ph := range []struct {
		name string
		cmds []string
	}{{"configure", v.Configure}, {"build", v.Build}, {"install", v.Install}} {
		for i, c := range ph.cmds {
			out, err := render(c, vp, ph.name, i)
			if err != nil {
				return nil, err
			}
			st.Commands = append(st.Commands, Command{Phase: ph.name, Run: out})
		}
	}
	for _, o := range v.Outputs {
		st.Outputs = append(st.Outputs, st.Prefix+"/"+o)
	}

	rt, err := runtimeOf(r, vi, st, done, render)
	if err != nil {
		return nil, err
	}

	// The key covers an override's content digest, not where it lies: the
	// same tree under another path (or loaded by the Dagger module) builds
	// the same step.
	keySource := st.Source
	keySource.Path = ""
	var depKeys []string
	for _, d := range st.Needs {
		depKeys = append(depKeys, d+"="+done[d].Key)
	}
	st.Key = hashJSON(struct {
		BaseKey       string
		ID            string
		Version       string
		Source        StepSource
		BuildPackages []string
		Env           []EnvVar
		Mounts        []Copy
		Commands      []Command
		Prefix        string
		Outputs       []string
		Runtime       *RuntimeImage
		Deps          []string
	}{plan.baseStep(st.Base).Key, id, r.Version, keySource, st.BuildPackages, st.Env, st.Mounts, st.Commands, st.Prefix, st.Outputs, rt, depKeys})

	image := VariantImage(r.Image, v.Name)
	st.BuildImage = ImageRef(image+"-build", target.Name, st.Key)
	if rt != nil {
		rt.Image = ImageRef(image, target.Name, st.Key)
		st.Runtime = rt
	}
	st.Labels = stepLabels(set, lock, plan, target, st, r, done)
	return st, nil
}

// runtimeOf collects a variant's runtime image: its own packages, paths and
// env, plus those of dependencies marked runtime: true (transitively).
func runtimeOf(r *Recipe, vi int, st *Step, done map[string]*Step, render func(string, ...any) (string, error)) (*RuntimeImage, error) {
	v := &r.Variants[vi]
	vp := []any{"variants", vi, "runtime"}
	rt := &RuntimeImage{}
	pkgs := append([]string{}, v.Runtime.Packages...)
	env := map[string]string{}
	devices := append([]string{}, v.Runtime.Devices...)
	var copies []Copy
	for _, d := range r.dependsWithPath(vi) {
		if !d.Runtime {
			continue
		}
		dep := done[d.Component+"/"+d.Variant]
		if dep.Runtime == nil {
			continue
		}
		pkgs = append(pkgs, dep.Runtime.Packages...)
		copies = append(copies, dep.Runtime.Copies...)
		devices = append(devices, dep.Runtime.Devices...)
		for _, e := range dep.Runtime.Env {
			env[e.Name] = e.Value
		}
	}
	for _, p := range v.Runtime.Paths {
		path := st.Prefix + "/" + p
		if p == "." {
			path = st.Prefix
		}
		copies = append(copies, Copy{From: st.ID, Path: path})
	}
	for _, k := range sortedKeys(v.Runtime.Env) {
		val, err := render(v.Runtime.Env[k], vp, "env", k)
		if err != nil {
			return nil, err
		}
		env[k] = val
	}
	if len(pkgs) == 0 && len(copies) == 0 && len(env) == 0 {
		return nil, nil
	}
	rt.Packages = uniqSorted(pkgs)
	rt.Devices = uniqSorted(devices)
	rt.Env = envList(env)
	sort.Slice(copies, func(i, j int) bool {
		if copies[i].From != copies[j].From {
			return copies[i].From < copies[j].From
		}
		return copies[i].Path < copies[j].Path
	})
	for i, c := range copies {
		if i == 0 || c != copies[i-1] {
			rt.Copies = append(rt.Copies, c)
		}
	}
	return rt, nil
}

func stepLabels(set *Set, lock *Lock, plan *Plan, target Target, st *Step, r *Recipe, done map[string]*Step) []Label {
	revision := revisionOf(r, st.Source)
	source := r.Source.Git
	if source == "" {
		source = r.Source.Tarball
	}
	if st.Source.Kind == "path" {
		source = "file://" + st.Source.Path
	}
	// The stack: this step and everything it was built against.
	stack := []string{r.Name + "=" + r.Version + "@" + shortRev(revision)}
	for _, m := range st.Mounts {
		dr, _ := set.Recipe(componentOf(m.From))
		stack = append(stack, dr.Name+"="+dr.Version+"@"+shortRev(revisionOf(dr, done[m.From].Source)))
	}
	labels := []Label{
		{"org.opencontainers.image.title", "haloforge " + st.ID},
		{"org.opencontainers.image.description", st.Description},
		{"org.opencontainers.image.version", r.Version},
		{"org.opencontainers.image.revision", revision},
		{"org.opencontainers.image.source", source},
		{"org.opencontainers.image.url", r.Homepage},
		{"org.opencontainers.image.licenses", r.License},
		{"org.opencontainers.image.base.name", st.BuilderImage},
		{"io.haloforge.component", r.Name},
		{"io.haloforge.variant", st.Variant},
		{"io.haloforge.target", target.Name},
		{"io.haloforge.cache-key", st.Key},
		{"io.haloforge.lock-digest", plan.LockDigest},
		{"io.haloforge.stack", strings.Join(uniqSorted(stack), ",")},
		{"io.haloforge.tool.dagger", lock.Tool("dagger")},
	}
	return nonEmpty(labels)
}

// revisionOf is the exact revision a step of r was built from: the content
// digest of a source override, else the git commit, else the tarball's
// sha256.
func revisionOf(r *Recipe, src StepSource) string {
	if src.Kind == "path" {
		return src.Digest
	}
	if r.Source.Commit != "" {
		return r.Source.Commit
	}
	return "sha256:" + r.Source.SHA256
}

// nonEmpty drops labels without a value and sorts the rest by name.
func nonEmpty(labels []Label) []Label {
	var out []Label
	for _, l := range labels {
		if l.Value != "" {
			out = append(out, l)
		}
	}
	return sortLabels(out)
}

func pinOf(r *Recipe) string {
	if r.Source.Commit != "" {
		return r.Source.Commit[:12]
	}
	return "sha256:" + r.Source.SHA256[:12]
}

func shortRev(rev string) string {
	if strings.HasPrefix(rev, "sha256:") && len(rev) > 19 {
		return rev[:19]
	}
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func short(key string) string { return key[:12] }

func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only strings, slices and structs of them: cannot fail.
		panic("recipes: hashing plan input: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func envList(m map[string]string) []EnvVar {
	out := make([]EnvVar, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, EnvVar{Name: k, Value: m[k]})
	}
	return out
}

func sortLabels(l []Label) []Label {
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	return l
}

func uniqSorted(in []string) []string {
	out := append([]string{}, in...)
	sort.Strings(out)
	w := 0
	for i, s := range out {
		if i == 0 || s != out[w-1] {
			out[w] = s
			w++
		}
	}
	return out[:w]
}

// Step returns the step with the given ID.
func (p *Plan) Step(id string) (*Step, bool) {
	for i := range p.Steps {
		if p.Steps[i].ID == id {
			return &p.Steps[i], true
		}
	}
	return nil, false
}

// Keys maps step ID to cache key (plus "base").
func (p *Plan) Keys() map[string]string {
	m := map[string]string{"base": p.Base.Key}
	for _, b := range p.Bases {
		m["base:"+b.Lock.Name] = b.Key
	}
	for _, s := range p.Steps {
		m[s.ID] = s.Key
	}
	return m
}

// JSON renders the plan as indented JSON with a trailing newline.
func (p *Plan) JSON() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		panic("recipes: encoding plan: " + err.Error())
	}
	return append(b, '\n')
}
