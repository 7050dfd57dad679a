package check

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/mirror"
	"github.com/haloforge/haloforge/recipes"
)

// gitRun runs git in dir with a fixed identity and dates.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.org", "GIT_AUTHOR_DATE=2025-06-02T12:00:00Z", "GIT_COMMITTER_DATE=2025-06-02T12:00:00Z",
		"GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

type demoRepo struct {
	mirror      string
	a, b, c     string // v1.0.0; v1.1.0 on main (DEMO_HIPBLAS renamed DEMO_HIP, gen.py gone); side branch off a
	nonexistent string
}

// makeDemo builds a real upstream repository and its bare mirror copy at
// MIRROR/example.org/demo/demo.git.
func makeDemo(t *testing.T) demoRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	work := filepath.Join(root, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(t, work, "init", "-q", "-b", "main")
	writeFile(t, filepath.Join(work, "CMakeLists.txt"), `cmake_minimum_required(VERSION 3.21)
project(demo VERSION 1.0.0 LANGUAGES CXX)
include(GNUInstallDirs)
option(DEMO_HIPBLAS "HIP backend" OFF)
option(DEMO_OTHER "other" OFF)
set(DEMO_TARGETS "gfx1100;gfx1151;gfx942" CACHE STRING "GPU targets")
`)
	writeFile(t, filepath.Join(work, "scripts/gen.py"), "print('gen')\n")
	gitRun(t, work, "add", "-A")
	gitRun(t, work, "commit", "-q", "-m", "one")
	gitRun(t, work, "tag", "v1.0.0")
	var d demoRepo
	d.a = gitRun(t, work, "rev-parse", "HEAD")
	writeFile(t, filepath.Join(work, "CMakeLists.txt"), `cmake_minimum_required(VERSION 3.21)
project(demo VERSION 1.1.0 LANGUAGES CXX)
include(GNUInstallDirs)
option(DEMO_HIP "HIP backend, renamed from DEMO_HIPBLAS" OFF)
set(DEMO_TARGETS "gfx1100;gfx1151;gfx942" CACHE STRING "GPU targets")
`)
	gitRun(t, work, "rm", "-q", "scripts/gen.py")
	gitRun(t, work, "commit", "-q", "-am", "two")
	gitRun(t, work, "tag", "-a", "-m", "release", "v1.1.0")
	d.b = gitRun(t, work, "rev-parse", "HEAD")
	gitRun(t, work, "checkout", "-q", "-b", "side", d.a)
	writeFile(t, filepath.Join(work, "side.txt"), "side\n")
	gitRun(t, work, "add", "-A")
	gitRun(t, work, "commit", "-q", "-m", "side")
	d.c = gitRun(t, work, "rev-parse", "HEAD")
	d.mirror = filepath.Join(root, "mirror")
	gitRun(t, root, "clone", "-q", "--mirror", work, filepath.Join(d.mirror, "example.org", "demo", "demo.git"))
	d.nonexistent = strings.Repeat("ab", 20)
	return d
}

// demoRecipes writes a recipes directory (the real base.yaml and one demo
// component) and loads it.
func demoRecipes(t *testing.T, version, ref, commit, gitURL string) *recipes.Set {
	t.Helper()
	dir := t.TempDir()
	base, err := os.ReadFile("../base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "base.yaml"), string(base))
	writeFile(t, filepath.Join(dir, "components", "demo.yaml"), `name: demo
version: `+version+`
description: demo
homepage: https://example.org/demo
license: MIT
source:
  git: `+gitURL+`
  ref: `+ref+`
  commit: `+commit+`
build_packages: [cmake]
variants:
  - name: default
    configure:
      - python3 scripts/gen.py
      - >-
        cmake -S . -B build -G Ninja
        -DCMAKE_BUILD_TYPE=Release
        -DCMAKE_INSTALL_PREFIX={{.Prefix}}
        -DCMAKE_INSTALL_LIBDIR=lib
        -DDEMO_TARGETS={{.Target}}
        -DDEMO_HIPBLAS=ON
    build:
      - cmake --build build -j {{.Jobs}}
    install:
      - cmake --install build
    outputs: [lib/libdemo.so]
`)
	set, err := recipes.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestRunOnDemoRepo(t *testing.T) {
	d := makeDemo(t)
	const url = "https://example.org/demo/demo.git"
	type want struct {
		sev     Severity
		check   string
		line    int
		problem string
		fix     string
	}
	for _, tc := range []struct {
		name                 string
		version, ref, commit string
		url, target          string
		want                 []want // every error and warning, in order
		status               string
	}{
		{name: "good pin", version: "1.0.0", ref: "v1.0.0", commit: d.a},
		{name: "renamed option and removed script", version: "1.1.0", ref: "v1.1.0", commit: d.b, want: []want{
			{Error, "file", 14, "step names scripts/gen.py, which is not in the source at the pin", "correct the path or the pin"},
			{Error, "option", 21, "-DDEMO_HIPBLAS is not declared at the pin", "closest match is DEMO_HIP (option CMakeLists.txt:4); rename -DDEMO_HIPBLAS to -DDEMO_HIP"},
		}},
		{name: "pin not on branch", version: "main+" + d.c[:8], ref: "main", commit: d.c, want: []want{
			{Error, "ref", 8, "pin " + d.c[:12] + " is not on branch main (main is " + d.b[:12] + ")", "pin " + d.b + " (branch main)"},
		}},
		{name: "pin before its tag", version: "1.0.0", ref: "v1.1.0", commit: d.a, want: []want{
			{Warning, "ref", 8, "pin is 1 commits before tag v1.1.0", "pin the tag's commit " + d.b},
		}},
		{name: "version from another tag", version: "1.1.0", ref: "v1.0.0", commit: d.a, want: []want{
			{Error, "version", 2, "tag v1.1.0 is " + d.b[:12] + ", not the pin", "set version: v1.0.0"},
		}},
		{name: "date version", version: "git-20250602", ref: "side", commit: d.c},
		{name: "wrong date version", version: "git-20250601", ref: "side", commit: d.c, want: []want{
			{Error, "version", 2, "the pin is dated 20250602/20250602 (author/committer), not 20250601", ""},
		}},
		{name: "target not listed", version: "1.0.0", ref: "v1.0.0", commit: d.a, target: "gfx1201", want: []want{
			{Error, "target", 20, "gfx1201 is in none of upstream's target lists at the pin (CMakeLists.txt: gfx1100 gfx1151 gfx942)", ""},
		}},
		{name: "missing commit", version: "1.0.0", ref: "v1.0.0", commit: d.nonexistent, want: []want{
			{Error, "pin", 9, "commit " + d.nonexistent + " is not in", "refresh the mirror"},
		}},
		{name: "absent repository", version: "1.0.0", ref: "v1.0.0", commit: d.a, url: "https://example.org/demo/other.git", status: "not in mirror"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := url
			if tc.url != "" {
				u = tc.url
			}
			set := demoRecipes(t, tc.version, tc.ref, tc.commit, u)
			rep, err := Run(set, mirror.Mirror{Dir: d.mirror}, Options{Target: tc.target})
			if err != nil {
				t.Fatal(err)
			}
			status := "checked"
			if tc.status != "" {
				status = tc.status
			}
			if got := rep.Components[0].Status; got != status {
				t.Errorf("status %q, want %q", got, status)
			}
			var got []Finding
			for _, f := range rep.Findings {
				if f.Severity != Note {
					got = append(got, f)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("findings:\n%s\nwant %d", findingsText(rep.Findings), len(tc.want))
			}
			for i, w := range tc.want {
				f := got[i]
				if f.Severity != w.sev || f.Check != w.check || f.Line != w.line || !strings.Contains(f.Problem, w.problem) || !strings.Contains(f.Fix, w.fix) {
					t.Errorf("finding %d:\n got %s (%s)\nwant %s %s line %d %q fix %q", i, f, f.Check, w.sev, w.check, w.line, w.problem, w.fix)
				}
				if !strings.HasPrefix(f.String(), f.File+":") || !strings.Contains(f.String(), ": demo: "+string(w.sev)+": ") {
					t.Errorf("rendered %q", f.String())
				}
			}
		})
	}
}

func findingsText(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + " [" + f.Check + "]\n")
	}
	return b.String()
}

func TestRunArguments(t *testing.T) {
	d := makeDemo(t)
	set := demoRecipes(t, "1.0.0", "v1.0.0", d.a, "https://example.org/demo/demo.git")
	if _, err := Run(set, mirror.Mirror{Dir: d.mirror}, Options{Only: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `no component "nope"`) {
		t.Errorf("unknown component: %v", err)
	}
	if _, err := Run(set, mirror.Mirror{Dir: filepath.Join(d.mirror, "absent")}, Options{}); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("absent mirror: %v", err)
	}
}

func TestClosest(t *testing.T) {
	names := []string{"GGML_HIP", "GGML_HIP_ROCWMMA_FATTN", "GGML_CUDA", "LLAMA_CURL"}
	for _, tc := range []struct{ in, want string }{
		{"GGML_HIPBLAS", "GGML_HIP"},
		{"LLAMA_CURL_", "LLAMA_CURL"},
		{"GGML_HIP_ROCWMMA_FATN", "GGML_HIP_ROCWMMA_FATTN"},
		{"TOTALLY_DIFFERENT", ""},
		{"GGML_FAST", ""},
	} {
		if got := closest(tc.in, names); got != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSamePrefix(t *testing.T) {
	names := []string{"DEMO_SPEED", "DEMO_SIZE", "OTHER_X"}
	if got := samePrefix("DEMO_FAST", names); strings.Join(got, ",") != "DEMO_SIZE,DEMO_SPEED" {
		t.Errorf("samePrefix = %v", got)
	}
	if got := samePrefix("NOPREFIX", names); got != nil {
		t.Errorf("samePrefix without _ = %v", got)
	}
}

// TestIncompleteMirror removes one file's object from a mirror repository:
// the check says a mirror build cannot check the pin out, and names it.
func TestIncompleteMirror(t *testing.T) {
	d := makeDemo(t)
	bare := filepath.Join(d.mirror, "example.org", "demo", "loose.git")
	gitRun(t, d.mirror, "init", "-q", "--bare", bare)
	// A small fetch keeps objects loose (below transfer.unpackLimit).
	gitRun(t, bare, "fetch", "-q", filepath.Join(d.mirror, "example.org", "demo", "demo.git"), "refs/tags/*:refs/tags/*", "refs/heads/*:refs/heads/*")
	sha := gitRun(t, bare, "rev-parse", d.a+":scripts/gen.py")
	if err := os.Remove(filepath.Join(bare, "objects", sha[:2], sha[2:])); err != nil {
		t.Fatal(err)
	}
	set := demoRecipes(t, "1.0.0", "v1.0.0", d.a, "https://example.org/demo/loose.git")
	rep, err := Run(set, mirror.Mirror{Dir: d.mirror}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		if f.Severity != Note {
			got = append(got, f.String())
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], "demo.yaml:7: demo: warning: the mirror lacks 1 of the pin's 2 files (scripts/gen.py): build --mirror cannot check the pin out") {
		t.Errorf("findings:\n%s", strings.Join(got, "\n"))
	}
}
