package ci

import (
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// rootModule is the module path of the repository root; the Dagger module
// (pipeline/) replaces it with ../ and so needs its files in its context.
const rootModule = "github.com/haloforge/haloforge"

// daggerConfig is the part of dagger.json this test reads.
type daggerConfig struct {
	Include []string `json:"include"`
	Source  string   `json:"source"`
}

// listedPackage is the part of `go list -json` output this test reads.
type listedPackage struct {
	ImportPath   string
	Dir          string
	GoFiles      []string
	CgoFiles     []string
	EmbedFiles   []string
	TestGoFiles  []string
	XTestGoFiles []string
	TestImports  []string
	XTestImports []string
	Module       *struct{ Path string }
}

// goList runs `go list -e -deps -json args` in dir and returns the
// packages of the root module with their directories relative to root.
func goList(t *testing.T, root, dir string, args ...string) map[string]listedPackage {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-e", "-deps", "-json"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %v in %s: %v", args, dir, err)
	}
	pkgs := map[string]listedPackage{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		if p.Module == nil || p.Module.Path != rootModule || p.Dir == "" {
			continue // the standard library, other modules, or pipeline itself
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("package %s lies outside the repository: %s", p.ImportPath, p.Dir)
		}
		p.Dir = filepath.ToSlash(rel)
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// moduleFiles lists, relative to the repository root, every file the Dagger
// module's `go mod tidy` reads from the root module: the source and
// embedded files of every root package in `go list -deps` of pipeline/, the
// same for the packages their included test files import, and the root
// go.mod and go.sum (pipeline/go.mod replaces the root module with ../).
func moduleFiles(t *testing.T, root, source string, include []string) []string {
	t.Helper()
	pkgs := goList(t, root, filepath.Join(root, source), ".")
	var testImports []string
	for _, p := range pkgs {
		for _, f := range append(append([]string{}, p.TestGoFiles...), p.XTestGoFiles...) {
			if included(include, p.Dir+"/"+f) {
				testImports = append(append(testImports, p.TestImports...), p.XTestImports...)
				break
			}
		}
	}
	if len(testImports) > 0 {
		for k, p := range goList(t, root, root, testImports...) {
			pkgs[k] = p
		}
	}
	files := []string{"go.mod", "go.sum"}
	for _, p := range pkgs {
		for _, f := range append(append(append([]string{}, p.GoFiles...), p.CgoFiles...), p.EmbedFiles...) {
			files = append(files, p.Dir+"/"+f)
		}
	}
	return files
}

// included reports whether dagger.json's include patterns keep file: the
// last pattern that matches decides, a leading ! excludes.
func included(patterns []string, file string) bool {
	keep := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		if globMatch(strings.Split(strings.TrimPrefix(p, "!"), "/"), strings.Split(file, "/")) {
			keep = !neg
		}
	}
	return keep
}

// globMatch matches path segments against pattern segments: ** matches any
// number of segments (zero included), other segments use path.Match.
func globMatch(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if globMatch(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, err := path.Match(pat[0], segs[0])
	return err == nil && ok && globMatch(pat[1:], segs[1:])
}

func TestGlobMatch(t *testing.T) {
	pats := []string{"go.mod", "images/**", "!images/**/testdata/**", "internal/*/x.go"}
	for _, tc := range []struct {
		file string
		want bool
	}{
		{"go.mod", true},
		{"go.sum", false},
		{"images/plan.go", true},
		{"images/base/base.go", true},
		{"images/testdata/a.json", false},
		{"images/base/testdata/a", false},
		{"internal/yamlpath/x.go", true},
		{"internal/yamlpath/y.go", false},
		{"recipes/load.go", false},
	} {
		if got := included(pats, tc.file); got != tc.want {
			t.Errorf("included(%q) = %v, want %v", tc.file, got, tc.want)
		}
	}
}

// TestDaggerIncludeCoversModuleImports fails when dagger.json's include list
// leaves out a file the module compiles: the engine loads only the included
// files, so a missing package makes the module's `go mod tidy` look for it
// on the module proxy and the module fails to load.
func TestDaggerIncludeCoversModuleImports(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "dagger.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg daggerConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("dagger.json: %v", err)
	}
	if cfg.Source == "" {
		t.Fatal("dagger.json: source is empty; it names the module's directory (pipeline)")
	}
	files := moduleFiles(t, root, cfg.Source, cfg.Include)
	if len(files) < 4 {
		t.Fatalf("go list -deps of %s found only %v; expected the root packages the module imports", cfg.Source, files)
	}
	var missing []string
	for _, f := range files {
		if !included(cfg.Include, f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		t.Errorf("dagger.json include leaves out %d file(s) the module's go mod tidy reads; add their directories (dir/**), or leave out the test files that import them:\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
}

// TestBuildPathLayers: the build path runs one way, CLI flag -> plan
// (recipes) -> executor (images) -> image: no package on it imports a
// package above it.
func TestBuildPathLayers(t *testing.T) {
	above := map[string][]string{
		"recipes": {"images", "pipeline", "cmd", "bench"},
		"images":  {"pipeline", "cmd", "bench"},
	}
	for pkg, forbidden := range above {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+pkg)
		cmd.Dir = ".."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == rootModule+"/"+f || strings.HasPrefix(dep, rootModule+"/"+f+"/") {
					t.Errorf("%s imports %s, a layer above it", pkg, dep)
				}
			}
		}
	}
}
