// Package check proves a recipe tree against the upstream sources in a
// local git mirror, without building anything: each pinned commit exists and
// is on the recipe's ref, the stated version is what the source says, every
// -DNAME a configure step passes is a cache variable the CMake files declare
// or read at that commit, every file a step names is there, and the GPU
// target is in upstream's target lists where it has them.
//
// Git is read through the git CLI on bare repositories (cat-file, ls-tree,
// merge-base --is-ancestor, describe); nothing is fetched.
package check

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/haloforge/haloforge/internal/mirror"
	"github.com/haloforge/haloforge/recipes"
)

// Severity of a finding: errors fail the check, warnings and notes do not.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Note    Severity = "note"
)

// Finding is one result, rendered as
//
//	FILE:LINE: COMPONENT: SEVERITY: PROBLEM; fix: FIX
type Finding struct {
	File      string   `json:"file"`
	Line      int      `json:"line"`
	Component string   `json:"component"`
	Severity  Severity `json:"severity"`
	Check     string   `json:"check"` // mirror, pin, ref, version, option, file, target
	Problem   string   `json:"problem"`
	Fix       string   `json:"fix,omitempty"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s:%d: %s: %s: %s", f.File, f.Line, f.Component, f.Severity, f.Problem)
	if f.Fix != "" {
		s += "; fix: " + f.Fix
	}
	return s
}

// Component says how far one component was checked.
type Component struct {
	Name   string `json:"name"`
	Status string `json:"status"` // checked, not in mirror, not a git source
	Repo   string `json:"repo,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Passed lists what was proven, one short line each.
	Passed []string `json:"passed,omitempty"`
}

// Report is the result of Run.
type Report struct {
	Mirror     string      `json:"mirror"`
	Target     string      `json:"target"`
	Components []Component `json:"components"`
	Findings   []Finding   `json:"findings"`
}

// Count returns the number of findings of severity s.
func (r *Report) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Options select what Run checks.
type Options struct {
	Only   []string // component names; empty is all
	Target string   // GPU target; "" is recipes.DefaultTarget
}

// Run checks the recipes of set (those in opts.Only, or all) against the
// repositories in m. It returns an error only for bad arguments (an unknown
// component, a missing mirror); everything about the recipes is a Finding.
func Run(set *recipes.Set, m mirror.Mirror, opts Options) (*Report, error) {
	if err := m.Open(); err != nil {
		return nil, err
	}
	target := opts.Target
	if target == "" {
		target = recipes.DefaultTarget
	}
	names := set.Names()
	if len(opts.Only) > 0 {
		for _, n := range opts.Only {
			if _, ok := set.Recipe(n); !ok {
				return nil, &recipes.InputError{Kind: recipes.ErrUnknownComponent, Field: "--only",
					Problem: fmt.Sprintf("no component %q", n), Fix: "use one of: " + strings.Join(set.Names(), ", ")}
			}
		}
		names = opts.Only
	}
	rep := &Report{Mirror: m.Dir, Target: target, Findings: []Finding{}}
	for _, n := range names {
		r, _ := set.Recipe(n)
		c := &checker{r: r, m: m, target: target, rep: rep, comp: Component{Name: n}}
		c.run()
		rep.Components = append(rep.Components, c.comp)
	}
	return rep, nil
}

type checker struct {
	r      *recipes.Recipe
	m      mirror.Mirror
	target string
	rep    *Report
	comp   Component
	git    repo
	files  map[string]bool
	tree   []entry
	cmake  *CMake
	lines  []string // the recipe file's lines, for -D positions
}

func (c *checker) add(sev Severity, check string, line int, fix, format string, args ...any) {
	c.rep.Findings = append(c.rep.Findings, Finding{
		File: c.r.File, Line: line, Component: c.r.Name, Severity: sev, Check: check,
		Problem: fmt.Sprintf(format, args...), Fix: fix,
	})
}

func (c *checker) pass(format string, args ...any) {
	c.comp.Passed = append(c.comp.Passed, fmt.Sprintf(format, args...))
}

func (c *checker) run() {
	src := c.r.Source
	if src.Git == "" {
		c.comp.Status = "not a git source"
		c.add(Note, "mirror", c.r.FieldLine("source"), "", "tarball source: not checked against a mirror")
		return
	}
	gitLine := c.r.FieldLine("source", "git")
	dir, err := c.m.Repo(src.Git)
	if errors.Is(err, mirror.ErrNotInMirror) {
		c.comp.Status = "not in mirror"
		p, _ := c.m.Path(src.Git)
		c.add(Note, "mirror", gitLine, "git clone --mirror "+src.Git+" "+p, "not in mirror (no repository at %s); pin not checked", p)
		return
	}
	if err != nil {
		c.comp.Status = "not in mirror"
		c.add(Error, "mirror", gitLine, "use an https://HOST/OWNER/NAME URL", "%v", err)
		return
	}
	c.comp.Status, c.comp.Repo, c.comp.Commit = "checked", dir, src.Commit
	c.git = repo{dir: dir}
	if data, err := os.ReadFile(c.r.File); err == nil {
		c.lines = strings.Split(string(data), "\n")
	}

	commitLine := c.r.FieldLine("source", "commit")
	if !c.git.hasCommit(src.Commit) {
		c.add(Error, "pin", commitLine,
			"check the pin (git ls-remote "+src.Git+" "+src.Ref+") or refresh the mirror (git --git-dir="+dir+" fetch)",
			"commit %s is not in %s", src.Commit, dir)
		return
	}
	c.pass("commit %s exists", short(src.Commit))
	c.checkRef()
	c.checkVersion()
	if err := c.loadTree(); err != nil {
		c.add(Error, "pin", commitLine, "check the mirror repository", "cannot read the tree at the pin: %v", err)
		return
	}
	c.checkComplete()
	c.checkSubmodules()
	c.checkSteps()
	c.checkTarget()
}

// checkComplete looks for files of the pin whose contents the mirror lacks
// (a partial clone or a damaged copy): build --mirror cannot check the pin
// out, and CMake files among them cannot be read.
func (c *checker) checkComplete() {
	var shas []string
	path := map[string]string{}
	for _, e := range c.tree {
		if e.typ == "blob" {
			shas = append(shas, e.sha)
			path[e.sha] = e.path
		}
	}
	miss, err := c.git.missing(shas)
	if err != nil {
		c.add(Error, "mirror", c.r.FieldLine("source", "git"), "check the mirror repository", "%v", err)
		return
	}
	if len(miss) == 0 {
		c.pass("the mirror holds all %d files of the pin", len(shas))
		return
	}
	var names []string
	for _, sha := range miss {
		names = append(names, path[sha])
	}
	sort.Strings(names)
	more := ""
	if len(names) > 5 {
		more = fmt.Sprintf(" and %d more", len(names)-5)
		names = names[:5]
	}
	p, _ := c.m.Path(c.r.Source.Git)
	c.add(Warning, "mirror", c.r.FieldLine("source", "git"), "clone the repository again: git clone --mirror "+c.r.Source.Git+" "+p,
		"the mirror lacks %d of the pin's %d files (%s%s): build --mirror cannot check the pin out", len(miss), len(shas), strings.Join(names, ", "), more)
}

// checkSubmodules looks up each submodule of the pin in the mirror: a
// mirror build checks them out from there.
func (c *checker) checkSubmodules() {
	if !c.files[".gitmodules"] {
		return
	}
	blobs, err := c.git.read(c.r.Source.Commit, []string{".gitmodules"})
	if err != nil {
		return
	}
	gitlink := map[string]string{}
	for _, e := range c.tree {
		if e.typ == "commit" {
			gitlink[e.path] = e.sha
		}
	}
	line := c.r.FieldLine("source", "git")
	if c.r.Source.Submodules {
		line = c.r.FieldLine("source", "submodules")
	}
	n := 0
	var absent, fixes []string
	for _, sm := range mirror.ParseGitmodules(string(blobs[".gitmodules"])) {
		sha, ok := gitlink[sm.Path]
		if !ok {
			continue
		}
		url, err := mirror.ResolveURL(c.r.Source.Git, sm.URL)
		if err != nil {
			c.add(Warning, "mirror", line, "", "submodule %s: %v", sm.Path, err)
			continue
		}
		dir, err := c.m.Repo(url)
		if err != nil {
			absent = append(absent, sm.Path+" ("+url+" @ "+short(sha)+")")
			if p, err := c.m.Path(url); err == nil {
				fixes = append(fixes, "git clone --mirror "+url+" "+p)
			}
			continue
		}
		if !(repo{dir: dir}).hasCommit(sha) {
			c.add(Warning, "mirror", line, "refresh the mirror: git --git-dir="+dir+" fetch",
				"submodule %s: commit %s is not in %s", sm.Path, sha, dir)
			continue
		}
		n++
	}
	if n > 0 {
		c.pass("%d submodule(s) at their pinned commits in the mirror", n)
	}
	if len(absent) > 0 {
		list, fix := absent, fixes
		if len(list) > 3 {
			list = append(list[:3:3], fmt.Sprintf("and %d more", len(absent)-3))
		}
		if len(fix) > 1 {
			fix = append(fix[:1:1], fmt.Sprintf("the same for the other %d", len(fixes)-1))
		}
		c.add(Note, "mirror", line, strings.Join(fix, "; "),
			"%d submodule(s) of the pin are not in the mirror, which build --mirror needs: %s", len(absent), strings.Join(list, ", "))
	}
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func (c *checker) checkRef() {
	src := c.r.Source
	line := c.r.FieldLine("source", "ref")
	if src.Ref == "" {
		c.add(Warning, "ref", c.r.FieldLine("source"), "add source.ref: the tag or branch the commit was taken from",
			"no source.ref, so nothing says where the pin came from")
		return
	}
	tip, kind, ok := c.git.resolveRef(src.Ref)
	if !ok {
		c.add(Error, "ref", line, "set source.ref to the tag or branch that holds the commit (git branch -a --contains / git tag --contains), or refresh the mirror",
			"ref %q is neither a tag nor a branch in the mirror", src.Ref)
		return
	}
	anc, err := c.git.isAncestor(src.Commit, tip)
	if err != nil {
		c.add(Error, "ref", line, "check the mirror repository", "%v", err)
		return
	}
	switch {
	case tip == src.Commit:
		c.pass("%s %s is the pin", kind, src.Ref)
	case anc && kind == "branch":
		c.pass("branch %s contains the pin (%d commits after it)", src.Ref, c.git.count(src.Commit, tip))
	case anc:
		c.add(Warning, "ref", line, "pin the tag's commit "+tip+" or set source.ref to the tag that is the pin",
			"pin is %d commits before tag %s (%s)", c.git.count(src.Commit, tip), src.Ref, short(tip))
	default:
		fix := "pin " + tip + " (" + kind + " " + src.Ref + ")"
		if tags := c.git.tagsAt(src.Commit); len(tags) > 0 {
			fix += " or set source.ref: " + tags[0] + " (the tag at the pin)"
		} else {
			fix += " or set source.ref to a branch or tag that contains the pin"
		}
		c.add(Error, "ref", line, fix, "pin %s is not on %s %s (%s is %s)", short(src.Commit), kind, src.Ref, src.Ref, short(tip))
	}
}

var (
	describeRE  = regexp.MustCompile(`^(.+)-([0-9]+)-g([0-9a-f]{4,40})$`)
	branchVerRE = regexp.MustCompile(`^(.+)\+([0-9a-f]{7,40})$`)
	dateVerRE   = regexp.MustCompile(`^git-([0-9]{8})$`)
	cmakeVerRE  = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
)

// checkVersion compares the recipe's version with what the source says at
// the pin: a tag there, version.json, project(VERSION) of the top-level
// CMakeLists.txt, git describe, and haloforge's own forms REF+HEX (see
// recipes.NextVersion) and git-YYYYMMDD (commit date).
func (c *checker) checkVersion() {
	v, commit := c.r.Version, c.r.Source.Commit
	line := c.r.FieldLine("version")
	var confirm, contra, facts []string
	var suggest string
	tags := c.git.tagsAt(commit)
	for _, t := range tags {
		if t == v || strings.TrimPrefix(t, "v") == v {
			confirm = append(confirm, "tag "+t+" is the pin")
		}
	}
	if len(tags) > 0 {
		facts = append(facts, "tags at the pin: "+strings.Join(tags, ", "))
	}
	if len(confirm) == 0 {
		// A tag named like the version that is another commit.
		for _, t := range []string{v, "v" + v} {
			if tc, kind, ok := c.git.resolveRef(t); ok && kind == "tag" && tc != commit {
				contra = append(contra, "tag "+t+" is "+short(tc)+", not the pin")
				if len(tags) > 0 {
					suggest = tags[0]
				}
				break
			}
		}
	}
	blobs, _ := c.git.read(commit, []string{"version.json", "CMakeLists.txt"})
	if data, ok := blobs["version.json"]; ok {
		var m map[string]any
		if json.Unmarshal(data, &m) == nil {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				s, ok := m[k].(string)
				if !ok || !strings.Contains(k, "version") {
					continue
				}
				if s == v {
					confirm = append(confirm, fmt.Sprintf("version.json %q is %s", k, s))
				} else {
					contra = append(contra, fmt.Sprintf("version.json %q is %s", k, s))
					if suggest == "" {
						suggest = s
					}
				}
			}
		}
	}
	if data, ok := blobs["CMakeLists.txt"]; ok {
		for _, cmd := range ParseCommands(string(data)) {
			if cmd.Name != "project" {
				continue
			}
			for i := 0; i+1 < len(cmd.Args); i++ {
				if cmd.Args[i].Text == "VERSION" && cmakeVerRE.MatchString(cmd.Args[i+1].Text) {
					pv := cmd.Args[i+1].Text
					if pv == v || strings.HasPrefix(v, pv+".") || strings.HasPrefix(pv, v+".") {
						confirm = append(confirm, "CMakeLists.txt project(VERSION "+pv+")")
					} else if cmakeVerRE.MatchString(v) {
						contra = append(contra, "CMakeLists.txt says project(VERSION "+pv+")")
					} else {
						facts = append(facts, "project(VERSION "+pv+")")
					}
				}
			}
			break
		}
	}
	desc := c.git.describe(commit)
	if m := describeRE.FindStringSubmatch(v); m != nil {
		if d := describeRE.FindStringSubmatch(desc); d != nil && d[1] == m[1] && d[2] == m[2] && strings.HasPrefix(d[3], m[3]) {
			confirm = append(confirm, "git describe is "+v)
		} else {
			contra = append(contra, "git describe is "+shortDescribe(desc))
		}
	} else if m := branchVerRE.FindStringSubmatch(v); m != nil {
		if strings.HasPrefix(commit, m[2]) && m[1] == c.r.Source.Ref {
			confirm = append(confirm, "names ref "+m[1]+" and the pin's hash")
		} else if !strings.HasPrefix(commit, m[2]) {
			contra = append(contra, "the version names commit "+m[2]+" but the pin is "+short(commit))
		} else {
			contra = append(contra, "the version names ref "+m[1]+" but source.ref is "+c.r.Source.Ref)
		}
	} else if m := dateVerRE.FindStringSubmatch(v); m != nil {
		dates := c.git.dates(commit)
		found := false
		for _, d := range dates {
			found = found || d == m[1]
		}
		if found {
			confirm = append(confirm, "the pin is dated "+m[1])
		} else {
			contra = append(contra, "the pin is dated "+strings.Join(dates, "/")+" (author/committer), not "+m[1])
		}
	} else if desc != "" {
		facts = append(facts, "git describe: "+shortDescribe(desc))
	}
	switch {
	case len(confirm) > 0:
		c.pass("version %s: %s", v, strings.Join(confirm, "; "))
	case len(contra) > 0:
		if suggest == "" {
			suggest = c.suggestVersion(tags, desc)
		}
		c.add(Error, "version", line, "set version: "+suggest, "version %s does not match the source at the pin: %s", v, strings.Join(contra, "; "))
	default:
		if len(facts) == 0 {
			facts = append(facts, "no tag reaches it, no version.json, no project(VERSION)")
		}
		c.add(Warning, "version", line, "state a version the source says, e.g. "+c.suggestVersion(tags, desc),
			"version %s is not confirmed by the source at the pin (%s)", v, strings.Join(facts, "; "))
	}
}

// suggestVersion is the version haloforge would write for the pin: the tag
// at it, else git describe, else REF+HEX8.
func (c *checker) suggestVersion(tags []string, desc string) string {
	if len(tags) > 0 {
		return tags[0]
	}
	if desc != "" {
		return shortDescribe(desc)
	}
	return c.r.Source.Ref + "+" + c.r.Source.Commit[:8]
}

// shortDescribe shortens the 40-hex hash of a --long --abbrev=40 describe to 9.
func shortDescribe(desc string) string {
	if m := describeRE.FindStringSubmatch(desc); m != nil && len(m[3]) > 9 {
		return m[1] + "-" + m[2] + "-g" + m[3][:9]
	}
	return desc
}

// loadTree lists the tree at the pin and parses every CMake file in it.
func (c *checker) loadTree() error {
	tree, err := c.git.tree(c.r.Source.Commit)
	if err != nil {
		return err
	}
	c.tree = tree
	files := map[string]bool{}
	for _, e := range tree {
		if e.typ == "blob" {
			files[e.path] = true
		}
	}
	c.files = files
	var cmakeFiles []string
	for f := range files {
		if path.Base(f) == "CMakeLists.txt" || strings.HasSuffix(f, ".cmake") {
			cmakeFiles = append(cmakeFiles, f)
		}
	}
	sort.Strings(cmakeFiles)
	blobs, err := c.git.read(c.r.Source.Commit, cmakeFiles)
	if err != nil {
		return err
	}
	c.cmake = NewCMake()
	for _, f := range cmakeFiles {
		if b, ok := blobs[f]; ok {
			c.cmake.Add(f, string(b))
		}
	}
	return nil
}

type stepAt struct {
	variant string
	text    string
	line    int
}

func (c *checker) steps() []stepAt {
	var out []stepAt
	for vi, v := range c.r.Variants {
		for _, phase := range []struct {
			name  string
			steps []string
		}{{"configure", v.Configure}, {"build", v.Build}, {"install", v.Install}} {
			for si, s := range phase.steps {
				out = append(out, stepAt{variant: v.Name, text: s, line: c.r.FieldLine("variants", vi, phase.name, si)})
			}
		}
	}
	return out
}

// lineOf finds the line of needle in the recipe file at or after from.
func (c *checker) lineOf(needle string, from int) int {
	for i := max(from-1, 0); i < len(c.lines); i++ {
		if strings.Contains(c.lines[i], needle) {
			return i + 1
		}
	}
	return from
}

func (c *checker) checkSteps() {
	var nDefs, nFiles int
	checkedDef := map[string]bool{}
	checkedFile := map[string]bool{}
	for _, st := range c.steps() {
		refs := ParseStep(st.text)
		for _, dir := range refs.SourceDirs {
			f := path.Join(dir, "CMakeLists.txt")
			if checkedFile[f] {
				continue
			}
			checkedFile[f] = true
			if !c.files[f] {
				c.add(Error, "file", c.lineOf("-S", st.line), "point -S at a directory with a CMakeLists.txt at the pin",
					"variant %s: cmake source directory %s has no CMakeLists.txt at the pin", st.variant, dir)
			} else {
				nFiles++
			}
		}
		for _, f := range refs.Files {
			if checkedFile[f] {
				continue
			}
			checkedFile[f] = true
			if !c.files[f] {
				fix := "correct the path or the pin"
				if near := closest(f, keys(c.files)); near != "" {
					fix = "did you mean " + near + "?"
				}
				c.add(Error, "file", c.lineOf(f, st.line), fix, "variant %s: step names %s, which is not in the source at the pin", st.variant, f)
			} else {
				nFiles++
			}
		}
		for _, d := range refs.Defines {
			key := d.Name + "\x00" + st.variant
			if checkedDef[key] {
				continue
			}
			checkedDef[key] = true
			nDefs++
			c.checkDefine(d, st)
		}
	}
	if nDefs > 0 || nFiles > 0 {
		c.pass("%d -D definitions checked against %d CMake files; %d named files present", nDefs, c.cmakeFileCount(), nFiles)
	}
}

func (c *checker) cmakeFileCount() int {
	n := 0
	for f := range c.files {
		if path.Base(f) == "CMakeLists.txt" || strings.HasSuffix(f, ".cmake") {
			n++
		}
	}
	return n
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Variables CMake itself reads (cmake-variables(7)); GNUInstallDirs ones
// only count when the project includes that module.
var (
	cmakeBuiltinRE = regexp.MustCompile(`^(CMAKE_(BUILD_TYPE|INSTALL_PREFIX|PREFIX_PATH|MODULE_PATH|INSTALL_RPATH|BUILD_RPATH|INSTALL_RPATH_USE_LINK_PATH|SKIP_RPATH|POSITION_INDEPENDENT_CODE|EXPORT_COMPILE_COMMANDS|VERBOSE_MAKEFILE|FIND_ROOT_PATH|TOOLCHAIN_FILE|INTERPROCEDURAL_OPTIMIZATION|COLOR_DIAGNOSTICS|(C|CXX|HIP|CUDA|Fortran|ASM)_(COMPILER|COMPILER_LAUNCHER|FLAGS|FLAGS_RELEASE|FLAGS_DEBUG|STANDARD|ARCHITECTURES)|(EXE|SHARED|MODULE|STATIC)_LINKER_FLAGS)|BUILD_SHARED_LIBS)$`)
	gnuInstallRE   = regexp.MustCompile(`^CMAKE_INSTALL_(BINDIR|SBINDIR|LIBEXECDIR|SYSCONFDIR|LIBDIR|INCLUDEDIR|DATAROOTDIR|DATADIR|DOCDIR|MANDIR)$`)
	// Declared by ROCm's hip CMake package, which a project pulls in with
	// find_package(hip) or the HIP language: hip-config(-amd).cmake in
	// github.com/ROCm/clr (hipamd/) sets AMDGPU_TARGETS and
	// set(GPU_TARGETS "${AMDGPU_TARGETS}" CACHE STRING ...).
	hipPackageVars = map[string]bool{"GPU_TARGETS": true, "AMDGPU_TARGETS": true, "HIP_PLATFORM": true}
)

func (c *checker) checkDefine(d Define, st stepAt) {
	line := c.lineOf("-D"+d.Name, st.line)
	switch {
	case c.cmake.Declared(d.Name):
		return
	case cmakeBuiltinRE.MatchString(d.Name):
		return
	case gnuInstallRE.MatchString(d.Name):
		if c.cmake.Uses["include:gnuinstalldirs"] {
			return
		}
		c.add(Warning, "option", line, "drop -D"+d.Name+" or install the files where the project puts them",
			"variant %s: -D%s has no effect: no CMake file at the pin includes GNUInstallDirs or reads it", st.variant, d.Name)
		return
	case hipPackageVars[d.Name] && (c.cmake.Uses["package:hip"] || c.cmake.Uses["language:HIP"]):
		c.add(Note, "option", line, "",
			"variant %s: -D%s is not read by the project's own CMake files; ROCm's hip package (find_package(hip) / HIP language) reads it", st.variant, d.Name)
		return
	}
	fix := "remove -D" + d.Name + " (CMake ignores it)"
	near := closest(d.Name, c.cmake.Names())
	if near != "" {
		at := ""
		if decl, ok := c.cmake.Decls[near]; ok {
			at = fmt.Sprintf(" (%s %s:%d)", decl.Kind, decl.File, decl.Line)
		} else if ref, ok := c.cmake.Reads[near]; ok {
			at = fmt.Sprintf(" (read at %s:%d)", ref.File, ref.Line)
		}
		fix = "closest match is " + near + at + "; rename -D" + d.Name + " to -D" + near + " or remove it"
	} else if same := samePrefix(d.Name, c.cmake.Names()); len(same) > 0 && len(same) <= 8 {
		fix = "remove -D" + d.Name + " or use one of the names the CMake files know with its prefix: " + strings.Join(same, ", ")
	}
	c.add(Error, "option", line, fix,
		"variant %s: -D%s is not declared at the pin (no option(), cmake_dependent_option(), set(... CACHE ...) or read of it in %d CMake files)",
		st.variant, d.Name, c.cmakeFileCount())
}

// checkTarget looks for upstream's GPU target lists (CMake files that name
// three or more gfx targets) and requires the target in at least one.
func (c *checker) checkTarget() {
	usesTarget := 0
	for _, st := range c.steps() {
		if strings.Contains(st.text, "{{.Target}}") {
			usesTarget = st.line
			break
		}
	}
	for _, v := range c.r.Variants {
		for _, val := range v.Env {
			if usesTarget == 0 && strings.Contains(val, "{{.Target}}") {
				usesTarget = c.r.FieldLine("variants")
			}
		}
	}
	if usesTarget == 0 {
		return
	}
	var lists, with []string
	for f, gfx := range c.cmake.GFX {
		if len(gfx) < 3 {
			continue
		}
		lists = append(lists, f)
		for _, g := range gfx {
			if g == c.target {
				with = append(with, f)
			}
		}
	}
	sort.Strings(lists)
	sort.Strings(with)
	switch {
	case len(lists) == 0:
		c.pass("no GPU target list in the CMake files (%s not checked)", c.target)
	case len(with) > 0:
		c.pass("%s listed in %s", c.target, strings.Join(with, ", "))
	default:
		c.add(Error, "target", c.lineOf("{{.Target}}", usesTarget), "pin a commit whose target lists include "+c.target+", or do not build this component for it",
			"%s is in none of upstream's target lists at the pin (%s: %s)", c.target, lists[0], strings.Join(c.cmake.GFX[lists[0]], " "))
	}
}

// closest returns the candidate nearest to name, when one is near enough
// to be a plausible rename or typo ("" otherwise): within an edit distance
// of a third of the name, preferring the longest common prefix (a rename
// usually keeps the project's prefix: GGML_HIPBLAS -> GGML_HIP), then the
// smallest distance.
func closest(name string, candidates []string) string {
	limit := max(2, len(name)/3)
	best, bestP, bestD := "", -1, 0
	for _, cand := range candidates {
		if cand == name {
			continue
		}
		d := levenshtein(name, cand)
		if d > limit {
			continue
		}
		p := commonPrefix(name, cand)
		if p > bestP || p == bestP && (d < bestD || d == bestD && cand < best) {
			best, bestP, bestD = cand, p, d
		}
	}
	return best
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// samePrefix lists the declared names that share name's first
// underscore-separated word (DEMO_ of DEMO_FAST), for a rename too large
// for closest to see.
func samePrefix(name string, candidates []string) []string {
	word, _, ok := strings.Cut(name, "_")
	if !ok {
		return nil
	}
	var out []string
	for _, c := range candidates {
		if c != name && strings.HasPrefix(c, word+"_") {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}
