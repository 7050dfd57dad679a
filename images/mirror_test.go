package images

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/mirror"
	"github.com/haloforge/haloforge/internal/testfix"
)

// TestGitMirrorCheckout checks a component's pinned source out of a mirror
// holding a real repository: the directory build --mirror hands the engine.
func TestGitMirrorCheckout(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	work := filepath.Join(root, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	testfix.Git(t, work, "init", "-q")
	if err := os.WriteFile(filepath.Join(work, "CMakeLists.txt"), []byte("project(demo)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testfix.Git(t, work, "add", "-A")
	testfix.Git(t, work, "commit", "-q", "-m", "one")
	commit := testfix.Git(t, work, "rev-parse", "HEAD")
	m := mirror.Mirror{Dir: filepath.Join(root, "mirror")}
	testfix.Git(t, root, "clone", "-q", "--mirror", work, filepath.Join(m.Dir, "git.example.org", "demo", "demo.git"))

	g := &GitMirror{Mirror: m, CacheDir: filepath.Join(root, "sources")}
	c := Component{Name: "demo", Variant: "cpu", Source: Source{Git: "https://git.example.org/demo/demo.git", Commit: commit}}
	dir, err := g.Checkout(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "sources", "git.example.org", "demo", "demo@"+commit); dir != want {
		t.Errorf("checkout at %s, want %s", dir, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "CMakeLists.txt")); err != nil || string(b) != "project(demo)\n" {
		t.Errorf("CMakeLists.txt = %q, %v", b, err)
	}
	c.Source.Git = "https://git.example.org/demo/absent.git"
	_, err = g.Checkout(c)
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Mirror != m.Dir || fe.Component != "demo/cpu" ||
		!strings.Contains(err.Error(), "demo/cpu: cannot fetch source https://git.example.org/demo/absent.git commit "+commit) ||
		!strings.Contains(err.Error(), "not in mirror") {
		t.Errorf("absent repository: %v", err)
	}
}
