package bisect

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// FirstParentRange lists good and the first-parent commits up to bad in a
// local git repository, oldest first.
func FirstParentRange(repo, good, bad string) ([]Commit, error) {
	for _, c := range []string{good, bad} {
		if !HasCommit(repo, c) {
			return nil, fmt.Errorf("%s has no commit %s: fetch it into the repository (or the mirror)", repo, c)
		}
	}
	if _, err := gitOut(repo, "merge-base", "--is-ancestor", good, bad); err != nil {
		return nil, fmt.Errorf("in %s, the good pin %s is not an ancestor of the bad pin %s: no range to bisect", repo, short(good), short(bad))
	}
	fp, err := gitOut(repo, "rev-list", "--first-parent", bad)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(strings.Fields(fp), resolveFull(repo, good)) {
		return nil, fmt.Errorf("in %s, %s is not on the first-parent history of %s: bisect the merged branch with its own pins", repo, short(good), short(bad))
	}
	const format = "--format=%H%x1f%aI%x1f%s"
	tail, err := gitOut(repo, "log", "--first-parent", format, good+".."+bad)
	if err != nil {
		return nil, err
	}
	head, err := gitOut(repo, "log", "-1", format, good)
	if err != nil {
		return nil, err
	}
	r, err := ParseLog(tail + head)
	if err != nil {
		return nil, err
	}
	if len(r) < 2 {
		return nil, fmt.Errorf("in %s, %s and %s are the same commit: no range to bisect", repo, short(good), short(bad))
	}
	return r, nil
}

// HasCommit reports whether repo holds commit.
func HasCommit(repo, commit string) bool {
	_, err := gitOut(repo, "cat-file", "-e", commit+"^{commit}")
	return err == nil
}

// IsRepo reports whether dir is (in) a git repository.
func IsRepo(dir string) error {
	_, err := gitOut(dir, "rev-parse", "--git-dir")
	return err
}

func resolveFull(repo, rev string) string {
	s, _ := gitOut(repo, "rev-parse", rev+"^{commit}")
	return strings.TrimSpace(s)
}

func gitOut(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Tree writes the commit's tree (git archive: no .git) under dir once and
// returns its path, for a build's source override.
func (s Source) Tree(dir string) (string, error) {
	dest := filepath.Join(dir, "src", s.Component+"-"+short(s.Commit))
	if _, err := os.Stat(filepath.Join(dest, ".complete")); err == nil {
		return dest, nil
	}
	_ = os.RemoveAll(dest)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return "", err
	}
	archive := exec.Command("git", "-C", s.Repo, "archive", "--format=tar", s.Commit)
	untar := exec.Command("tar", "-x", "-C", dest)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	untar.Stdin = pipe
	var e1, e2 strings.Builder
	archive.Stderr, untar.Stderr = &e1, &e2
	if err := untar.Start(); err != nil {
		return "", err
	}
	if err := archive.Run(); err != nil {
		_ = untar.Wait()
		return "", fmt.Errorf("git archive %s in %s: %v: %s", s.Commit, s.Repo, err, strings.TrimSpace(e1.String()))
	}
	if err := untar.Wait(); err != nil {
		return "", fmt.Errorf("unpacking %s: %v: %s", s.Commit, err, strings.TrimSpace(e2.String()))
	}
	return dest, os.WriteFile(filepath.Join(dest, ".complete"), nil, 0o644)
}
