package images

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"dagger.io/dagger"

	"github.com/haloforge/haloforge/recipes"
)

// incrementalFixture is a source tree, a stable tree directory and the
// paths of one component built with the real sh, coreutils and make (an
// mtime-based build tool like Ninja).
type incrementalFixture struct {
	t                 *testing.T
	src, tree, report string
	c                 Component
}

const fixtureMakefile = `all: build/prog
build/%.o: %.c
	@mkdir -p build
	cc -c -o $@ $<
build/prog: build/a.o build/b.o
	cc -o $@ build/a.o build/b.o
`

func newIncrementalFixture(t *testing.T) *incrementalFixture {
	t.Helper()
	for _, tool := range []string{"sh", "make", "cc", "sha256sum", "comm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not on PATH: the incremental step script needs it", tool)
		}
	}
	dir := t.TempDir()
	f := &incrementalFixture{t: t, src: filepath.Join(dir, "src"), tree: filepath.Join(dir, "tree"), report: filepath.Join(dir, "report")}
	f.write("Makefile", fixtureMakefile, 0o644)
	f.write("a.c", "int a(void) { return 1; }\n", 0o644)
	f.write("b.c", "int a(void);\nint main(void) { return a() - 1; }\n", 0o644)
	f.write("sub/notes.txt", "notes\n", 0o644)
	f.write("tool.sh", "#!/bin/sh\necho tool\n", 0o755)
	if err := os.Symlink("sub/notes.txt", filepath.Join(f.src, "link")); err != nil {
		t.Fatal(err)
	}
	f.c = Component{Name: "demo", Variant: "cpu", SrcDir: f.tree, Commands: []Command{
		{Step: "configure", Shell: true, Args: []string{"test -f Makefile && echo configured > configure.log"}},
		{Step: "build", Shell: true, Args: []string{"make -f Makefile"}},
		{Step: "install", Shell: true, Args: []string{"test -x build/prog && ./build/prog"}},
	}}
	f.futureSources()
	return f
}

func (f *incrementalFixture) write(rel, content string, mode os.FileMode) {
	f.t.Helper()
	p := filepath.Join(f.src, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		f.t.Fatal(err)
	}
}

// futureSources dates every source file in 2100, as an upload or checkout
// may: the step must not trust them (else make would rebuild everything
// on every run, or nothing after a change).
func (f *incrementalFixture) futureSources() {
	future := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	_ = filepath.Walk(f.src, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			err = os.Chtimes(p, future, future)
		}
		return err
	})
}

// run executes the step's script with the real sh; it returns the output
// and the exit error.
func (f *incrementalFixture) run() (string, error) {
	f.t.Helper()
	argv := IncrementalArgv(f.c.Key(), f.c, BuildDirKey(Base{Ref: "debian:trixie"}, f.c, BuildEnv(f.c, 2, nil), nil),
		StepPaths{SourceIn: f.src, Report: f.report, StatsLog: filepath.Join(filepath.Dir(f.report), "ccache.log")})
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = f.tree
	_ = os.MkdirAll(f.tree, 0o755)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// age sets the mtime of everything in the tree (links left alone) to t,
// as if built a while ago.
func (f *incrementalFixture) age(t time.Time) {
	_ = filepath.Walk(f.tree, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode()&os.ModeSymlink == 0 {
			err = os.Chtimes(p, t, t)
		}
		return err
	})
}

func (f *incrementalFixture) mtime(rel string) time.Time {
	f.t.Helper()
	fi, err := os.Lstat(filepath.Join(f.tree, rel))
	if err != nil {
		f.t.Fatal(err)
	}
	return fi.ModTime()
}

// treeListing lists dir (without the build directory): path, type, mode
// and content, one per line.
func treeListing(t *testing.T, dir string, skip ...string) string {
	t.Helper()
	var lines []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		if rel == TreeBuildDir {
			return filepath.SkipDir
		}
		for _, sk := range skip {
			if rel == sk {
				return nil
			}
		}
		line := rel + " " + info.Mode().String()
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case info.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			line += " " + string(b)
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func compiles(out string) int { return strings.Count(out, "cc -c ") }

func mustReport(t *testing.T, path string) StepReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseStepReport(string(b))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return r
}

// TestIncrementalStepRebuildsOnlyChangedSources runs a component step
// three times with the real sh and make: a fresh tree builds everything;
// a rerun with nothing changed compiles nothing; after a one-line change
// (with every upload mtime in the future) only the changed file compiles,
// unchanged files keep their mtimes and the tree equals the new source
// exactly (files removed, modes and links followed).
func TestIncrementalStepRebuildsOnlyChangedSources(t *testing.T) {
	f := newIncrementalFixture(t)

	out, err := f.run()
	if err != nil {
		t.Fatalf("first build: %v\n%s", err, out)
	}
	if n := compiles(out); n != 2 {
		t.Fatalf("first build compiled %d files, want 2\n%s", n, out)
	}
	r := mustReport(t, f.report)
	if r.Tree != "new" || r.BuildDir != "clean" || r.Changed != 5 {
		t.Errorf("first report: tree %q build dir %q changed %d, want new, clean, 5 files", r.Tree, r.BuildDir, r.Changed)
	}
	if got, want := f.mtime("b.c"), time.Now().Add(time.Hour); !got.Before(want) {
		t.Errorf("b.c kept its upload mtime %v; a fresh tree must take the current time", got)
	}
	if got, want := treeListing(t, f.tree, "configure.log"), treeListing(t, f.src); got != want {
		t.Errorf("tree after first build:\n%s\nwant:\n%s", got, want)
	}

	// Age the tree and its outputs, as if built a while ago.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	f.age(old)
	out, err = f.run()
	if err != nil {
		t.Fatalf("no-change rebuild: %v\n%s", err, out)
	}
	if n := compiles(out); n != 0 {
		t.Errorf("no-change rebuild compiled %d files, want 0\n%s", n, out)
	}
	r = mustReport(t, f.report)
	// configure.log, written by the step into the tree, is not source.
	if r.Tree != "reused" || r.BuildDir != "reused" || r.Changed != 0 || r.Removed != 1 {
		t.Errorf("no-change report: %+v, want a reused tree and build directory, 0 changed, 1 removed", r)
	}
	if !f.mtime("b.c").Equal(old) || !f.mtime("a.c").Equal(old) {
		t.Errorf("unchanged sources' mtimes moved: a.c %v b.c %v, want %v", f.mtime("a.c"), f.mtime("b.c"), old)
	}

	// A one-line change, a removed file, a mode-only change and a link
	// retargeted; every upload mtime again in the future.
	f.write("a.c", "int a(void) { return 1; } /* changed */\n", 0o644)
	if err := os.Remove(filepath.Join(f.src, "sub/notes.txt")); err != nil {
		t.Fatal(err)
	}
	f.write("sub/other.txt", "other\n", 0o644)
	if err := os.Chmod(filepath.Join(f.src, "tool.sh"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(f.src, "link"))
	if err := os.Symlink("sub/other.txt", filepath.Join(f.src, "link")); err != nil {
		t.Fatal(err)
	}
	f.futureSources()
	f.age(old)
	out, err = f.run()
	if err != nil {
		t.Fatalf("incremental rebuild: %v\n%s", err, out)
	}
	if n := compiles(out); n != 1 || !strings.Contains(out, "cc -c -o build/a.o a.c") {
		t.Errorf("incremental rebuild compiled %d files, want only a.c\n%s", n, out)
	}
	if !strings.Contains(out, "haloforge: changed a.c") {
		t.Errorf("the log does not name the changed file\n%s", out)
	}
	r = mustReport(t, f.report)
	if r.Changed != 2 || r.Removed != 2 || r.BuildDir != "reused" {
		t.Errorf("incremental report: %+v, want 2 changed (a.c, sub/other.txt), 2 removed (sub/notes.txt, configure.log), build dir reused", r)
	}
	if !f.mtime("b.c").Equal(old) || !f.mtime("tool.sh").Equal(old) {
		t.Errorf("unchanged content got a new mtime: b.c %v tool.sh %v, want %v", f.mtime("b.c"), f.mtime("tool.sh"), old)
	}
	if !f.mtime("a.c").After(old) || f.mtime("a.c").After(time.Now().Add(time.Minute)) {
		t.Errorf("changed a.c has mtime %v: want the time of the sync", f.mtime("a.c"))
	}
	// The step wrote configure.log again; apart from it the tree is the source.
	if got, want := treeListing(t, f.tree, "configure.log"), treeListing(t, f.src); got != want {
		t.Errorf("tree is not the source:\n%s\nwant:\n%s", got, want)
	}
	var phases []string
	for _, p := range r.Phases {
		phases = append(phases, p.Name)
	}
	if strings.Join(phases, ",") != "sync,configure,build,install" {
		t.Errorf("phases %v, want sync,configure,build,install", phases)
	}
	if r.HasCCache {
		t.Errorf("ccache counters recorded without ccache on PATH: %+v", r)
	}
}

// TestIncrementalStepFailureNamesCommand: a failing command stops the
// step (its own set -e holds: the rest of it does not run), the exit
// status comes back, and the log names the step and command.
func TestIncrementalStepFailureNamesCommand(t *testing.T) {
	f := newIncrementalFixture(t)
	f.c.Commands = append(f.c.Commands, Command{Step: "verify", Shell: true, Args: []string{"echo checking; false; echo not-reached"}},
		Command{Step: "after", Shell: true, Args: []string{"echo after-reached"}})
	out, err := f.run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("want exit status 1, got %v\n%s", err, out)
	}
	if strings.Contains(out, "\nnot-reached\n") || strings.Contains(out, "after-reached") {
		t.Errorf("the step went on after a failure:\n%s", out)
	}
	step, cmd, found := ParseStepLine(out)
	if !found || step != "verify" || cmd != "echo checking; false; echo not-reached" {
		t.Errorf("ParseStepLine = %q, %q, %v; want verify and its command\n%s", step, cmd, found, out)
	}
	// The engine reports the exec's argv and output; the StepError names
	// the failed command, not the whole step script.
	argv := IncrementalArgv(f.c.Key(), f.c, BuildDirKey(Base{Ref: "debian:trixie"}, f.c, BuildEnv(f.c, 2, nil), nil), DefaultStepPaths())
	var se *StepError
	if !errors.As(AsStepError(f.c.Key(), &dagger.ExecError{Cmd: argv, ExitCode: ee.ExitCode(), Stdout: out}), &se) {
		t.Fatal("AsStepError did not make a *StepError")
	}
	if se.Component != "demo/cpu" || se.Step != "verify" || se.ExitCode != 1 || strings.Join(se.Cmd, " ") != "echo checking; false; echo not-reached" ||
		!strings.Contains(se.Tail, "verify failed (exit 1)") {
		t.Errorf("StepError %+v", se)
	}
	b, _ := os.ReadFile(f.report)
	if _, err := ParseStepReport(string(b)); err == nil {
		t.Errorf("a failed step's report parsed as complete:\n%s", b)
	}
}

// TestBuildDirKey: what changes the build (flags, toolchain, base,
// environment, dependencies) starts a new build directory; the source and
// the job count do not.
func TestBuildDirKey(t *testing.T) {
	base := Base{Ref: "haloforge/base:trixie-20250801-abc"}
	c := Component{Name: "llama.cpp", Variant: "vulkan", SrcDir: "/src/llama.cpp",
		Source:    Source{Git: "https://github.com/ggml-org/llama.cpp.git", Commit: strings.Repeat("a", 40)},
		Toolchain: Toolchain{Name: "b", Packages: []string{"cmake", "glslc"}},
		Env:       map[string]string{"LLAMA_BUILD_NUMBER": "5600"},
		Commands:  []Command{{Step: "configure", Shell: true, Args: []string{"cmake -S . -B build -DGGML_VULKAN=ON"}}, {Step: "build", Shell: true, Args: []string{"cmake --build build -j ${HALOFORGE_JOBS:-$(nproc)}"}}},
	}
	key := func(b Base, c Component, jobs int, deps []string) string {
		return BuildDirKey(b, c, BuildEnv(c, jobs, nil), deps)
	}
	k := key(base, c, 4, nil)
	if len(k) != 64 {
		t.Fatalf("key %q", k)
	}
	same := c
	same.Source = Source{URL: "local:/tmp/llama", SHA256: strings.Repeat("b", 64)}
	same.CacheKey = "another step key: the source changed"
	same.Toolchain.Packages = []string{"glslc", "cmake", "cmake"}
	if key(base, same, 4, nil) != k {
		t.Error("a source change (or package order) started a new build directory")
	}
	if key(base, c, 16, nil) != k {
		t.Error("another job count started a new build directory")
	}
	for name, change := range map[string]func(*Component, *Base, *[]string){
		"flag": func(c *Component, _ *Base, _ *[]string) {
			c.Commands = []Command{{Step: "configure", Shell: true, Args: []string{"cmake -S . -B build -DGGML_VULKAN=ON -DGGML_RPC=ON"}}, c.Commands[1]}
		},
		"toolchain": func(c *Component, _ *Base, _ *[]string) { c.Toolchain.Packages = []string{"cmake", "glslc", "clang"} },
		"base":      func(_ *Component, b *Base, _ *[]string) { b.Ref = "haloforge/base:sid-20250801-def" },
		"env":       func(c *Component, _ *Base, _ *[]string) { c.Env = map[string]string{"LLAMA_BUILD_NUMBER": "5601"} },
		"dep":       func(_ *Component, _ *Base, d *[]string) { *d = []string{"therock/default=1234"} },
		"prefix":    func(c *Component, _ *Base, _ *[]string) { c.PrefixDir = "/opt/other" },
	} {
		cc, bb, deps := c, base, []string(nil)
		cc.Env = map[string]string{"LLAMA_BUILD_NUMBER": "5600"}
		change(&cc, &bb, &deps)
		if key(bb, cc, 4, deps) == k {
			t.Errorf("a %s change kept the build directory: it must configure clean", name)
		}
	}
	// The executor's own variables count too (a compiler launcher change
	// must reconfigure).
	env := BuildEnv(c, 4, nil)
	env["CMAKE_CXX_COMPILER_LAUNCHER"] = "sccache"
	if BuildDirKey(base, c, env, nil) == k {
		t.Error("a compiler launcher change kept the build directory")
	}
	if v := TreeVolumeFor(c, k); v != "haloforge-tree-llama.cpp-vulkan-"+k[:16] {
		t.Errorf("volume %q", v)
	}
}

// TestFlagChangeConfiguresClean runs the real step script: after a flag
// change the build key, and so the tree volume, differ, and the step in
// the new (empty) tree reports a clean build directory and compiles
// everything.
func TestFlagChangeConfiguresClean(t *testing.T) {
	f := newIncrementalFixture(t)
	if out, err := f.run(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	before := BuildDirKey(Base{Ref: "debian:trixie"}, f.c, BuildEnv(f.c, 2, nil), nil)
	f.c.Commands[1].Args = []string{"make -f Makefile CFLAGS=-O2"}
	after := BuildDirKey(Base{Ref: "debian:trixie"}, f.c, BuildEnv(f.c, 2, nil), nil)
	if before == after || TreeVolumeFor(f.c, before) == TreeVolumeFor(f.c, after) {
		t.Fatal("a flag change kept the tree volume")
	}
	// A new volume is an empty directory (mounted at the same path in the
	// engine; another directory here).
	f.tree = filepath.Join(filepath.Dir(f.tree), "tree-"+after[:16])
	f.c.SrcDir = f.tree
	after = BuildDirKey(Base{Ref: "debian:trixie"}, f.c, BuildEnv(f.c, 2, nil), nil)
	out, err := f.run()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r := mustReport(t, f.report)
	if r.BuildDir != "clean" || r.Tree != "new" || compiles(out) != 2 {
		t.Errorf("after a flag change: build dir %q, tree %q, %d compiles; want clean, new, 2\n%s", r.BuildDir, r.Tree, compiles(out), out)
	}
	if r.BuildKey != after {
		t.Errorf("report build key %q, want %q", r.BuildKey, after)
	}
}

func TestParseStepReport(t *testing.T) {
	r, err := ParseStepReport("started=100.5\nbuild_key=k\ntree=reused\nchanged=1\nremoved=0\ncmd=sync 0.2 0\nbuild_dir=reused\ncmd=configure 1.0 0\ncmd=configure 2.5 0\ncmd=build 30.0 0\nccache_hits=90\nccache_misses=10\nfinished=140.5\n")
	if err != nil {
		t.Fatal(err)
	}
	if r.Duration() != 40*time.Second || len(r.Phases) != 3 || r.Phases[1] != (PhaseTime{"configure", 3.5}) {
		t.Errorf("report %+v", r)
	}
	if rate, ok := r.HitRate(); !ok || rate != 0.9 {
		t.Errorf("hit rate %v %v", rate, ok)
	}
	for _, bad := range []string{"started=1\n", "started=x\nfinished=2\n", "started=1\ncmd=build\nfinished=2\n", "no equals sign\n"} {
		if _, err := ParseStepReport(bad); err == nil {
			t.Errorf("ParseStepReport(%q) = nil error", bad)
		}
	}
}

func TestBuildSummaryRender(t *testing.T) {
	var b strings.Builder
	s := BuildSummary{Steps: []StepSummary{
		{Key: "llama.cpp/cpu", Ran: true, Report: StepReport{Started: 0, Finished: 38, BuildDir: "reused", Tree: "reused", Changed: 1,
			Phases: []PhaseTime{{"sync", 1}, {"build", 30}}, CCacheHits: 3, CCacheMisses: 1, HasCCache: true}},
		{Key: "llama.cpp/vulkan", Ran: false, Report: StepReport{Started: 0, Finished: 434, BuildDir: "clean", Tree: "new", Changed: 1314}},
	}}
	if err := s.Render(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"llama.cpp/cpu", "ran", "38.0s", "build 30.0s", "3/4 hits (75%)", "reused", "1 changed, 0 removed",
		"llama.cpp/vulkan", "cached", "(7m14.0s when built)", "1314 files, new tree", "1 steps ran (38.0s of step time), 1 cached"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestRanSince(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	at := func(d time.Duration) StepReport {
		return StepReport{Started: float64(start.Add(d).UnixNano()) / 1e9}
	}
	if !ranSince(at(30*time.Second), start, 0) || ranSince(at(-time.Hour), start, 0) {
		t.Error("same clock: a step started after the build began ran, one an hour before came from the cache")
	}
	// The engine's clock is 10 minutes behind this host's: a step it
	// started 5 minutes (its clock) before the host's start time ran now.
	if !ranSince(at(-5*time.Minute), start, -10*time.Minute) || ranSince(at(-15*time.Minute), start, -10*time.Minute) {
		t.Error("the engine clock offset is not applied")
	}
}

// TestRecipeFlagChangeConfiguresClean plans the smoke stack from the
// project's recipes: another source tree keeps each llama.cpp step's build
// directory (while its cache key changes); a changed configure flag in
// the recipe gives both steps a new one, so they configure clean.
func TestRecipeFlagChangeConfiguresClean(t *testing.T) {
	plan := func(dir, digest string) Spec {
		t.Helper()
		set, err := recipes.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		target, _ := recipes.LookupTarget("gfx1151")
		p, err := recipes.MakePlan(set, recipes.MakeLock(set, nil), target, recipes.Selection{Profile: "smoke"},
			map[string]recipes.SourceOverride{"llama.cpp": {Path: "/tmp/llama.cpp", Digest: "sha256:" + strings.Repeat(digest, 64)}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := FromPlan(p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// A copy of the recipes with one flag changed in llama.cpp.
	changed := t.TempDir()
	comps, err := filepath.Glob(filepath.Join("..", "recipes", "components", "*.yaml"))
	if err != nil || len(comps) == 0 {
		t.Fatalf("no recipes in ../recipes/components: %v", err)
	}
	rels := []string{"base.yaml"}
	for _, c := range comps {
		rels = append(rels, filepath.Join("components", filepath.Base(c)))
	}
	for _, rel := range rels {
		b, err := os.ReadFile(filepath.Join("..", "recipes", rel))
		if err != nil {
			t.Fatal(err)
		}
		if rel == "components/llama.cpp.yaml" {
			if !strings.Contains(string(b), "-DGGML_RPC=ON") {
				t.Fatal("llama.cpp.yaml no longer sets -DGGML_RPC=ON; pick another flag for this test")
			}
			b = []byte(strings.ReplaceAll(string(b), "-DGGML_RPC=ON", "-DGGML_RPC=OFF"))
		}
		_ = os.MkdirAll(filepath.Join(changed, filepath.Dir(rel)), 0o755)
		if err := os.WriteFile(filepath.Join(changed, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, other, flag := plan("../recipes", "1"), plan("../recipes", "2"), plan(changed, "1")
	for _, key := range []string{"llama.cpp/cpu", "llama.cpp/vulkan"} {
		ca, _ := a.Component(key)
		co, _ := other.Component(key)
		cf, _ := flag.Component(key)
		if ca.CacheKey == co.CacheKey {
			t.Fatalf("%s: another source tree kept the step's cache key", key)
		}
		if a.BuildKey(ca) != other.BuildKey(co) {
			t.Errorf("%s: another source tree started a new build directory", key)
		}
		if a.BuildKey(ca) == flag.BuildKey(cf) || TreeVolumeFor(ca, a.BuildKey(ca)) == TreeVolumeFor(cf, flag.BuildKey(cf)) {
			t.Errorf("%s: -DGGML_RPC=OFF kept the build directory; it must configure clean", key)
		}
		if argv := IncrementalArgv(key, cf, flag.BuildKey(cf), DefaultStepPaths()); !strings.Contains(argv[2], "build_key=%s\\n' "+flag.BuildKey(cf)) {
			t.Errorf("%s: the step script does not record its build key", key)
		}
	}
}

// A configure whose output depends on whether it ran before (as CMake's
// does: `if (NOT DEFINED X)` and get_cmake_property(VARIABLES) differ
// between the first configure and every later one) installs the same file
// from a clean build directory as from a reused one: a clean step
// configures twice.
func TestCleanStepConfiguresTwice(t *testing.T) {
	f := newIncrementalFixture(t)
	f.c.Commands = []Command{
		{Step: "configure", Shell: true, Args: []string{"mkdir -p build && echo patched > patch.log"}},
		{Step: "configure", Shell: true, Args: []string{"if [ -f build/cache ]; then echo again > build/config.out; else echo first > build/config.out; fi; touch build/cache"}},
		{Step: "build", Shell: true, Args: []string{"make -f Makefile"}},
		{Step: "install", Shell: true, Args: []string{"cp build/config.out installed.out"}},
	}
	out, err := f.run()
	if err != nil {
		t.Fatalf("clean step: %v\n%s", err, out)
	}
	if !strings.Contains(out, "configure again on the clean build directory") || strings.Count(out, StepLinePrefix+"configure:") != 4 {
		t.Errorf("clean step did not run both configure commands twice:\n%s", out)
	}
	clean, _ := os.ReadFile(filepath.Join(f.tree, "installed.out"))
	if r := mustReport(t, f.report); r.BuildDir != "clean" {
		t.Errorf("first step: build dir %q, want clean", r.BuildDir)
	}
	f.write("a.c", "int a(void) { return 2; }\n", 0o644)
	out, err = f.run()
	if err != nil {
		t.Fatalf("incremental step: %v\n%s", err, out)
	}
	if strings.Contains(out, "configure again") || strings.Count(out, StepLinePrefix+"configure:") != 2 {
		t.Errorf("incremental step configured more than once:\n%s", out)
	}
	again, _ := os.ReadFile(filepath.Join(f.tree, "installed.out"))
	if string(clean) != "again\n" || string(again) != string(clean) {
		t.Errorf("installed %q from the clean directory and %q from the reused one; want both \"again\"", clean, again)
	}
}
