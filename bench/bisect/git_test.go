package bisect

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// gitRepo makes a real repository: c0..c3 on master, a side branch merged
// at c4 (its commit is not first-parent), c5.
func gitRepo(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid", "GIT_COMMITTER_NAME=t",
			"GIT_COMMITTER_EMAIL=t@example.invalid", "GIT_AUTHOR_DATE=2026-11-01T10:00:00Z", "GIT_COMMITTER_DATE=2026-11-01T10:00:00Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	var hs []string
	commit := func(msg string) {
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
		git("add", "f")
		git("commit", "-q", "-m", msg)
		hs = append(hs, git("rev-parse", "HEAD"))
	}
	git("init", "-q", "-b", "master")
	for _, m := range []string{"c0", "c1", "c2", "c3"} {
		commit(m)
	}
	git("checkout", "-q", "-b", "side", hs[1])
	if err := os.WriteFile(filepath.Join(dir, "g"), []byte("side"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "g")
	git("commit", "-q", "-m", "side work")
	side := git("rev-parse", "HEAD")
	git("checkout", "-q", "master")
	git("merge", "-q", "--no-ff", "-m", "c4 merge side", "side")
	hs = append(hs, git("rev-parse", "HEAD"))
	commit("c5")
	return dir, append(hs, side)
}

func TestFirstParentRange(t *testing.T) {
	repo, hs := gitRepo(t)
	r, err := FirstParentRange(repo, hs[1], hs[5])
	if err != nil {
		t.Fatal(err)
	}
	var subj []string
	for _, c := range r {
		subj = append(subj, c.Subject)
		if c.Date != "2026-11-01T10:00:00Z" && c.Date != "2026-11-01T10:00:00+00:00" {
			t.Fatalf("author date %q", c.Date)
		}
	}
	if want := []string{"c1", "c2", "c3", "c4 merge side", "c5"}; !reflect.DeepEqual(subj, want) {
		t.Fatalf("range %v, want %v (first-parent, oldest first)", subj, want)
	}
	if _, err := FirstParentRange(repo, hs[5], hs[1]); err == nil || !strings.Contains(err.Error(), "not an ancestor") {
		t.Fatalf("reversed pins: %v", err)
	}
	if _, err := FirstParentRange(repo, hs[6], hs[5]); err == nil || !strings.Contains(err.Error(), "not on the first-parent history") {
		t.Fatalf("good pin on a merged branch: %v", err)
	}
	if _, err := FirstParentRange(repo, strings.Repeat("e", 40), hs[5]); err == nil || !strings.Contains(err.Error(), "has no commit") {
		t.Fatalf("unknown pin: %v", err)
	}
	// the commit's tree, as a build's source override
	dir := t.TempDir()
	src := Source{Component: "x", Repo: repo, Commit: hs[2]}
	tree, err := src.Tree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(tree, "f")); err != nil || string(b) != "c2" {
		t.Fatalf("tree of c2: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(tree, ".git")); !os.IsNotExist(err) {
		t.Fatalf("the tree has .git: %v", err)
	}
}
