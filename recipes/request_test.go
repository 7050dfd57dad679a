package recipes

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkoutCopy copies the repository's recipes and lock into a new
// directory and returns it.
func checkoutCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, rel := range []string{"stack.lock", "recipes/base.yaml"} {
		copyFile(t, filepath.Join("..", rel), filepath.Join(dir, rel))
	}
	names, _ := filepath.Glob("components/*.yaml")
	for _, n := range names {
		copyFile(t, n, filepath.Join(dir, "recipes", n))
	}
	return dir
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRequestUsesTheCheckout: with a checkout (stack.lock + recipes/), its
// recipes are planned, not the built-in ones; without one, the built-in
// recipes and a derived lock; a lock from other recipes is an error that
// names both.
func TestRequestUsesTheCheckout(t *testing.T) {
	co := checkoutCopy(t)
	llama := filepath.Join(co, "recipes", "components", "llama.cpp.yaml")
	data, _ := os.ReadFile(llama)
	edited := strings.Replace(string(data), "version: b5600", "version: b9999", 1)
	if edited == string(data) {
		t.Fatal("llama.cpp recipe has no version: b5600 line to edit")
	}
	if err := os.WriteFile(llama, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := Load(filepath.Join(co, "recipes"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(co, "stack.lock"), MakeLock(set, nil).Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(co, "recipes", "components")
	p, in, err := PlanFor(Request{WorkDir: sub}, io.Discard)
	if err != nil {
		t.Fatalf("plan in the checkout: %v", err)
	}
	if s, _ := p.Step("llama.cpp/cpu"); s.Version != "b9999" || in.LockFile != filepath.Join(co, "stack.lock") {
		t.Errorf("planned llama.cpp %s with lock %q; want the checkout's b9999 and stack.lock", s.Version, in.LockFile)
	}

	// The built-in recipes with this lock disagree: the error names both.
	_, _, err = PlanFor(Request{WorkDir: sub, Recipes: "", Lock: filepath.Join(co, "stack.lock"), NoCheckout: true}, io.Discard)
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrLockMismatch) ||
		!strings.Contains(err.Error(), "built into haloforge") || !strings.Contains(err.Error(), filepath.Join(co, "stack.lock")) {
		t.Errorf("built-in recipes with the checkout's lock: %v", err)
	}

	// No checkout: built-in recipes, a derived lock, said on stderr.
	var notice strings.Builder
	p, in, err = PlanFor(Request{WorkDir: t.TempDir()}, &notice)
	if err != nil || in.LockFile != "" || !strings.Contains(notice.String(), "no stack.lock") {
		t.Fatalf("outside a checkout: %v, lock %q, notice %q", err, in.LockFile, notice.String())
	}
	if s, _ := p.Step("llama.cpp/cpu"); s.Version != "b5600" {
		t.Errorf("outside a checkout planned llama.cpp %s, want the built-in b5600", s.Version)
	}
}

// TestSourceFlags: the one --source parser.
func TestSourceFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"llama.cpp"}, "is not COMPONENT=DIR"},
		{[]string{"llama.cpp="}, "is not COMPONENT=DIR"},
		{[]string{"llama.cpp=" + dir + "/nope"}, "is not a directory"},
		{[]string{"llama.cpp=" + dir, "llama.cpp=" + dir}, "given twice"},
	} {
		if _, err := ParseSourceFlags(tc.flags); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.flags, err, tc.want)
		}
	}
	srcs, err := ParseSourceFlags([]string{"llama.cpp=" + dir})
	if err != nil || len(srcs) != 1 || srcs[0].Dir != dir {
		t.Fatalf("%+v %v", srcs, err)
	}
	ov, err := Overrides(srcs)
	if d, _ := DigestDir(dir); err != nil || ov["llama.cpp"].Digest != d || ov["llama.cpp"].Path != dir {
		t.Errorf("overrides %+v %v", ov, err)
	}
}

// TestDigestSkipsSourceExcludes: DigestDir leaves out what the executor
// leaves out of a source tree (SourceExcludes: .git anywhere, a top-level
// build/) and nothing else.
func TestDigestSkipsSourceExcludes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		t.Helper()
		copyFileData(t, filepath.Join(dir, name), data)
		d, err := DigestDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d0 := write("src/a.c", "int a;\n")
	for _, excluded := range []string{".git/HEAD", "build/CMakeCache.txt", "vendor/x/.git/config", "vendor/y/.git"} {
		if d := write(excluded, "anything\n"); d != d0 {
			t.Errorf("%s changed the digest", excluded)
		}
	}
	for _, source := range []string{"tools/build/x.sh", "build.sh", "src/.gitignore"} {
		d := write(source, "echo\n")
		if d == d0 {
			t.Errorf("%s did not change the digest", source)
		}
		d0 = d
	}
}

func copyFileData(t *testing.T, dst, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
