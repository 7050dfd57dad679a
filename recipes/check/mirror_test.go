package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/mirror"
	"github.com/haloforge/haloforge/recipes"
)

// These tests read the real upstream repositories from the mirror named by
// $HALOFORGE_MIRROR (make recipes-check builds one from local snapshots).
func realMirror(t *testing.T) mirror.Mirror {
	t.Helper()
	m, ok := mirror.FromEnv("")
	if !ok {
		t.Skip("HALOFORGE_MIRROR is not set: these tests need a mirror holding TheRock, aotriton, " +
			"rocm_bandwidth_test and llama.cpp (see `make recipes-check` and README, Source mirrors)")
	}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	return m
}

func requireRepo(t *testing.T, m mirror.Mirror, url string) string {
	t.Helper()
	dir, err := m.Repo(url)
	if err != nil {
		t.Skipf("%v: add it to the mirror to run this test", err)
	}
	return dir
}

// copyRecipes copies ../base.yaml and ../components/*.yaml into a temporary
// recipes directory, applying edit to component file name.
func copyRecipes(t *testing.T, name string, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../components/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range append(files, "../base.yaml") {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel("..", src)
		text := string(data)
		if filepath.Base(src) == name+".yaml" {
			out := edit(text)
			if out == text {
				t.Fatalf("the edit changed nothing in %s", src)
			}
			text = out
		}
		writeFile(t, filepath.Join(dir, rel), text)
	}
	return dir
}

func lineContaining(t *testing.T, file, needle string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, needle) {
			return i + 1
		}
	}
	t.Fatalf("%s: no line with %q", file, needle)
	return 0
}

func TestPinnedRecipesInMirror(t *testing.T) {
	m := realMirror(t)
	set, err := recipes.Load("..")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(set, m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", findingsText(rep.Findings))
	checked := 0
	for _, c := range rep.Components {
		r, _ := set.Recipe(c.Name)
		_, inMirror := m.Repo(r.Source.Git)
		if (inMirror == nil) != (c.Status == "checked") {
			t.Errorf("%s: status %q, repository in mirror: %v", c.Name, c.Status, inMirror == nil)
		}
		if c.Status == "checked" {
			checked++
			t.Logf("%s: %s", c.Name, strings.Join(c.Passed, "; "))
		}
	}
	if checked == 0 {
		t.Fatalf("no component's repository is in %s", m.Dir)
	}
	if n := rep.Count(Error); n > 0 {
		t.Errorf("%d error(s) on the pinned recipes:\n%s", n, findingsText(rep.Findings))
	}
}

func TestPlantedRenamedOption(t *testing.T) {
	m := realMirror(t)
	requireRepo(t, m, "https://github.com/ggml-org/llama.cpp.git")
	// ggml renamed GGML_HIPBLAS to GGML_HIP in "ggml : build backends as
	// libraries (#10256)", ae8de6d5, 2024-11-14;
	// a recipe still passing the old name is silently ignored by CMake.
	dir := copyRecipes(t, "llama.cpp", func(s string) string {
		return strings.Replace(s, "-DGGML_NATIVE=OFF -DGGML_HIP=ON\n", "-DGGML_NATIVE=OFF -DGGML_HIPBLAS=ON\n", 1)
	})
	set, err := recipes.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(set, m, Options{Only: []string{"llama.cpp"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", findingsText(rep.Findings))
	file := filepath.Join(dir, "components", "llama.cpp.yaml")
	want := lineContaining(t, file, "-DGGML_HIPBLAS=ON")
	var errs []Finding
	for _, f := range rep.Findings {
		if f.Severity == Error {
			errs = append(errs, f)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("want exactly one error, got:\n%s", findingsText(rep.Findings))
	}
	f := errs[0]
	if f.Check != "option" || f.File != file || f.Line != want || !strings.Contains(f.Problem, "variant hip: -DGGML_HIPBLAS is not declared at the pin") ||
		!strings.Contains(f.Fix, "closest match is GGML_HIP (option ggml/CMakeLists.txt:") {
		t.Errorf("got %s", f)
	}
}

func TestPlantedPinNotOnTag(t *testing.T) {
	m := realMirror(t)
	dir := requireRepo(t, m, "https://github.com/ggml-org/llama.cpp.git")
	// The next release's commit: after b5600, so not contained in tag b5600.
	next, err := repo{dir: dir}.output("rev-parse", "refs/tags/b5601^{commit}")
	if err != nil {
		t.Skipf("tag b5601 not in the mirror: %v", err)
	}
	const pin = "d17a809ef0af09b16625e991a76f6fe80d9c332e"
	recipesDir := copyRecipes(t, "llama.cpp", func(s string) string { return strings.Replace(s, "commit: "+pin, "commit: "+next, 1) })
	set, err := recipes.Load(recipesDir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(set, m, Options{Only: []string{"llama.cpp"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", findingsText(rep.Findings))
	file := filepath.Join(recipesDir, "components", "llama.cpp.yaml")
	var ref, version *Finding
	for i, f := range rep.Findings {
		switch {
		case f.Severity == Error && f.Check == "ref":
			ref = &rep.Findings[i]
		case f.Severity == Error && f.Check == "version":
			version = &rep.Findings[i]
		}
	}
	if ref == nil || ref.Line != lineContaining(t, file, "ref: b5600") ||
		!strings.Contains(ref.Problem, "pin "+next[:12]+" is not on tag b5600 (b5600 is d17a809ef0af)") ||
		!strings.Contains(ref.Fix, "pin "+pin+" (tag b5600) or set source.ref: b5601 (the tag at the pin)") {
		t.Errorf("ref finding: %v", ref)
	}
	if version == nil || version.Line != lineContaining(t, file, "version: b5600") ||
		!strings.Contains(version.Problem, "tag b5600 is d17a809ef0af, not the pin") || version.Fix != "set version: b5601" {
		t.Errorf("version finding: %v", version)
	}
	if rep.Count(Error) != 2 {
		t.Errorf("want 2 errors:\n%s", findingsText(rep.Findings))
	}
}
