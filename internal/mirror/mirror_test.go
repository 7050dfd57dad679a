package mirror

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/testfix"
)

func TestRelPath(t *testing.T) {
	for _, tc := range []struct {
		url, want, err string
	}{
		{"https://github.com/ROCm/TheRock.git", "github.com/ROCm/TheRock.git", ""},
		{"https://github.com/ROCm/TheRock", "github.com/ROCm/TheRock.git", ""},
		{"https://github.com/ROCm/TheRock/", "github.com/ROCm/TheRock.git", ""},
		{"https://GitHub.com/ggml-org/llama.cpp.git", "github.com/ggml-org/llama.cpp.git", ""},
		{"https://gitlab.example.org:8443/group/sub/proj.git", "gitlab.example.org:8443/group/sub/proj.git", ""},
		{"ssh://git.example.org/a/b.git", "git.example.org/a/b.git", ""},
		{"https://github.com/ROCm/../../etc/passwd", "", "not a plain name"},
		{"https://github.com/ROCm/./x", "", "not a plain name"},
		{"https://github.com//x", "", "not a plain name"},
		{"https://github.com/", "", "no repository path"},
		{"https://user:pw@github.com/a/b", "", "user, query or fragment"},
		{"https://github.com/a/b?x=1", "", "user, query or fragment"},
		{"ftp://github.com/a/b", "", "scheme"},
		{"github.com/a/b", "", "scheme"},
		{"https:///a/b", "", "host"},
		{"https://git hub.com/a/b", "", "invalid character"},
		{"https://github.com/a/b.git.git", "", "not a plain name"},
	} {
		got, err := RelPath(tc.url)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("RelPath(%q) = %q, %v; want error with %q", tc.url, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("RelPath(%q) = %q, %v; want %q", tc.url, got, err, tc.want)
		}
	}
}

func FuzzRelPath(f *testing.F) {
	for _, s := range []string{
		"https://github.com/ROCm/TheRock.git", "https://github.com/a/../b", "https://x/a%2f..%2fb",
		"ssh://h:22/a/b.git", "https://h/a/b/", "file:///tmp/x", "https://h/.git", "https://h/a/.git",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		rel, err := RelPath(u)
		if err != nil {
			return
		}
		if !strings.HasSuffix(rel, ".git") || filepath.IsAbs(rel) {
			t.Fatalf("RelPath(%q) = %q: not a relative .git path", u, rel)
		}
		for _, seg := range strings.Split(rel, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("RelPath(%q) = %q: segment %q", u, rel, seg)
			}
		}
		dir := "/m"
		p, err := Mirror{Dir: dir}.Path(u)
		if err != nil || !strings.HasPrefix(p, dir+"/") || filepath.Clean(p) != p {
			t.Fatalf("Path(%q) = %q, %v: escapes the mirror", u, p, err)
		}
		// With and without .git map to the same place.
		if alt, err := RelPath(strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")); err == nil && alt != rel {
			t.Fatalf("RelPath(%q) = %q but without .git %q", u, rel, alt)
		}
	})
}

func TestRepo(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	bare := filepath.Join(dir, "github.com", "ROCm", "aotriton.git")
	checkout := filepath.Join(dir, "github.com", "ROCm", "TheRock")
	for _, args := range [][]string{{"init", "-q", "--bare", bare}, {"init", "-q", checkout}} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	m := Mirror{Dir: dir}
	if got, err := m.Repo("https://github.com/ROCm/aotriton.git"); err != nil || got != bare {
		t.Errorf("bare: %q, %v", got, err)
	}
	if got, err := m.Repo("https://github.com/ROCm/TheRock.git"); err != nil || got != filepath.Join(checkout, ".git") {
		t.Errorf("checkout: %q, %v", got, err)
	}
	_, err := m.Repo("https://github.com/ROCm/rocWMMA.git")
	if !errors.Is(err, ErrNotInMirror) || !strings.Contains(err.Error(), filepath.Join(dir, "github.com/ROCm/rocWMMA.git")) {
		t.Errorf("absent: %v", err)
	}
	if got, err := m.Repo("file://" + bare); err != nil || got != bare {
		t.Errorf("file URL: %q, %v", got, err)
	}
	if err := (Mirror{Dir: filepath.Join(dir, "nope")}).Open(); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Open of a missing dir: %v", err)
	}
	if err := (Mirror{Dir: dir}).Open(); err != nil {
		t.Error(err)
	}
	t.Setenv(EnvVar, dir)
	if m, ok := FromEnv(""); !ok || m.Dir != dir {
		t.Errorf("FromEnv: %v %v", m, ok)
	}
	if m, ok := FromEnv("/x"); !ok || m.Dir != "/x" {
		t.Errorf("flag wins: %v %v", m, ok)
	}
	_ = os.Unsetenv(EnvVar)
}

// TestHasCommit asks a real bare repository for a commit it has, one it
// lacks, and a repository the mirror does not hold.
func TestHasCommit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	work := filepath.Join(root, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	testfix.Git(t, work, "init", "-q", "-b", "main")
	one := testfix.Commit(t, work, "one")
	m := Mirror{Dir: filepath.Join(root, "mirror")}
	bare := filepath.Join(m.Dir, "example.org", "demo", "app.git")
	testfix.Git(t, root, "clone", "-q", "--mirror", work, bare)
	two := testfix.Commit(t, work, "two") // made after the mirror was cloned

	const url = "https://example.org/demo/app.git"
	if repo, err := m.HasCommit(url, one); err != nil || repo != bare {
		t.Errorf("present commit: %q, %v", repo, err)
	}
	if repo, err := m.HasCommit(url, two); !errors.Is(err, ErrNoCommit) || repo != bare || !strings.Contains(err.Error(), two) {
		t.Errorf("missing commit: %q, %v", repo, err)
	}
	tree := testfix.Git(t, work, "rev-parse", one+"^{tree}")
	if _, err := m.HasCommit(url, tree); !errors.Is(err, ErrNoCommit) {
		t.Errorf("a tree is no commit: %v", err)
	}
	if _, err := m.HasCommit(url, "HEAD"); err == nil || errors.Is(err, ErrNoCommit) {
		t.Errorf("a ref name is no pin: %v", err)
	}
	want := filepath.Join(m.Dir, "example.org", "demo", "other.git")
	if p, err := m.HasCommit("https://example.org/demo/other", one); !errors.Is(err, ErrNotInMirror) || p != want {
		t.Errorf("absent repository: %q, %v", p, err)
	}
}

// TestHasCommitWithoutGit: a git that cannot run is not a missing commit.
func TestHasCommitWithoutGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	bare := filepath.Join(dir, "example.org", "demo", "app.git")
	testfix.Git(t, dir, "init", "-q", "--bare", bare)
	t.Setenv("PATH", t.TempDir())
	_, err := Mirror{Dir: dir}.HasCommit("https://example.org/demo/app", strings.Repeat("a", 40))
	if err == nil || errors.Is(err, ErrNoCommit) || !strings.Contains(err.Error(), "install git") {
		t.Errorf("no git: %v", err)
	}
}
