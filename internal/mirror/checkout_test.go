package mirror

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/testfix"
)

func TestParseGitmodules(t *testing.T) {
	const text = `[submodule "third_party/triton"]
	path = third_party/triton
	url = https://github.com/ROCmSoftwarePlatform/triton.git
	branch = aotriton-hyperjump
# a comment
[submodule "incbin"]
	path = third_party/incbin
	URL = "../incbin.git"
[submodule "nourl"]
	path = x
[core]
	path = not-a-submodule
	url = nope
`
	want := []Submodule{
		{"third_party/triton", "third_party/triton", "https://github.com/ROCmSoftwarePlatform/triton.git"},
		{"incbin", "third_party/incbin", "../incbin.git"},
	}
	if got := ParseGitmodules(text); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func FuzzParseGitmodules(f *testing.F) {
	f.Add("[submodule \"a\"]\npath = a\nurl = https://h/x.git\n")
	f.Add("[submodule]\n=\n[")
	f.Fuzz(func(t *testing.T, text string) {
		for _, sm := range ParseGitmodules(text) {
			if sm.Path == "" || sm.URL == "" || strings.ContainsAny(sm.Path+sm.URL, "\n") {
				t.Fatalf("entry %+v", sm)
			}
		}
	})
}

func TestResolveURL(t *testing.T) {
	for _, tc := range [][3]string{
		{"https://github.com/ROCm/aotriton.git", "https://github.com/pybind/pybind11.git", "https://github.com/pybind/pybind11.git"},
		{"https://github.com/ROCm/aotriton.git", "../triton.git", "https://github.com/ROCm/triton.git"},
		{"https://github.com/ROCm/aotriton", "../../other/x", "https://github.com/other/x"},
		{"https://github.com/ROCm/aotriton", "./sub", "https://github.com/ROCm/aotriton/sub"},
	} {
		if got, err := ResolveURL(tc[0], tc[1]); err != nil || got != tc[2] {
			t.Errorf("ResolveURL(%q, %q) = %q, %v; want %q", tc[0], tc[1], got, err, tc[2])
		}
	}
}

// TestCheckout builds a real superproject with a submodule whose URL points
// at a git host, mirrors both, and checks the superproject out of the mirror.
func TestCheckout(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	lib, app := filepath.Join(root, "lib"), filepath.Join(root, "app")
	for _, d := range []string{lib, app} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		testfix.Git(t, d, "init", "-q", "-b", "main")
	}
	if err := os.WriteFile(filepath.Join(lib, "lib.c"), []byte("int lib;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testfix.Git(t, lib, "add", "-A")
	testfix.Git(t, lib, "commit", "-q", "-m", "lib one")
	libOne := testfix.Git(t, lib, "rev-parse", "HEAD")
	if err := os.WriteFile(filepath.Join(app, "main.c"), []byte("int main;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testfix.Git(t, app, "-c", "protocol.file.allow=always", "submodule", "add", "-q", lib, "third_party/lib")
	// What upstream .gitmodules look like: a relative URL to the git host.
	testfix.Git(t, app, "config", "-f", ".gitmodules", "submodule.third_party/lib.url", "../lib.git")
	testfix.Git(t, app, "add", "-A")
	testfix.Git(t, app, "commit", "-q", "-m", "app one")
	appOne := testfix.Git(t, app, "rev-parse", "HEAD")
	// lib moves on: the checkout must use the commit app records.
	if err := os.WriteFile(filepath.Join(lib, "lib.c"), []byte("int lib2;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testfix.Git(t, lib, "commit", "-q", "-am", "lib two")

	m := Mirror{Dir: filepath.Join(root, "mirror")}
	testfix.Git(t, root, "clone", "-q", "--mirror", app, filepath.Join(m.Dir, "example.org/demo/app.git"))

	dest := filepath.Join(root, "out", "app")
	err := m.Checkout("https://example.org/demo/app.git", appOne, dest)
	if !errors.Is(err, ErrNotInMirror) || !strings.Contains(err.Error(), "submodule third_party/lib") ||
		!strings.Contains(err.Error(), filepath.Join(m.Dir, "example.org/demo/lib.git")) {
		t.Fatalf("submodule absent from the mirror: %v", err)
	}
	if _, err := os.Stat(dest + ".partial"); !os.IsNotExist(err) {
		t.Errorf("partial checkout left behind: %v", err)
	}

	testfix.Git(t, root, "clone", "-q", "--mirror", lib, filepath.Join(m.Dir, "example.org/demo/lib.git"))
	if err := m.Checkout("https://example.org/demo/app.git", appOne, dest); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "third_party/lib/lib.c")); err != nil || string(b) != "int lib;\n" {
		t.Errorf("submodule file = %q, %v; want lib at %s", b, err, libOne)
	}
	if got := testfix.Git(t, dest, "rev-parse", "HEAD"); got != appOne {
		t.Errorf("HEAD %s, want %s", got, appOne)
	}
	if got := testfix.Git(t, filepath.Join(dest, "third_party/lib"), "rev-parse", "HEAD"); got != libOne {
		t.Errorf("submodule HEAD %s, want %s", got, libOne)
	}
	// A complete checkout is reused as it is.
	marker := filepath.Join(dest, "main.c")
	if err := os.WriteFile(marker, []byte("kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Checkout("https://example.org/demo/app.git", appOne, dest); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(marker); string(b) != "kept\n" {
		t.Errorf("a complete checkout was redone")
	}
	if err := m.Checkout("https://example.org/demo/app.git", strings.Repeat("0", 40), filepath.Join(root, "out", "bad")); err == nil ||
		!strings.Contains(err.Error(), "from the mirror") {
		t.Errorf("missing commit: %v", err)
	}
}
