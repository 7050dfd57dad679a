package check

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// repo runs the git CLI on one git directory of the mirror (read only).
type repo struct {
	dir string
}

func (r repo) cmd(args ...string) *exec.Cmd {
	full := append([]string{"-c", "safe.directory=*", "--git-dir=" + r.dir}, args...)
	c := exec.Command("git", full...)
	c.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "TZ=UTC", "LC_ALL=C")
	return c
}

func (r repo) output(args ...string) (string, error) {
	var stderr bytes.Buffer
	c := r.cmd(args...)
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("git %s in %s: %v: %s", strings.Join(args, " "), r.dir, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// hasCommit reports whether commit exists as a commit object.
func (r repo) hasCommit(commit string) bool {
	return r.cmd("cat-file", "-e", commit+"^{commit}").Run() == nil
}

// resolveRef finds ref as a tag, a branch or a remote-tracking branch and
// returns its commit and kind ("tag" or "branch").
func (r repo) resolveRef(ref string) (commit, kind string, ok bool) {
	for _, c := range []struct{ full, kind string }{
		{"refs/tags/" + ref, "tag"}, {"refs/heads/" + ref, "branch"}, {"refs/remotes/origin/" + ref, "branch"},
	} {
		if out, err := r.output("rev-parse", "--verify", "-q", c.full+"^{commit}"); err == nil && out != "" {
			return out, c.kind, true
		}
	}
	return "", "", false
}

// isAncestor reports whether a is an ancestor of (or equal to) b.
func (r repo) isAncestor(a, b string) (bool, error) {
	err := r.cmd("merge-base", "--is-ancestor", a, b).Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return false, nil
	}
	return false, fmt.Errorf("git merge-base --is-ancestor %s %s in %s: %v", a, b, r.dir, err)
}

// count returns the number of commits in a..b.
func (r repo) count(a, b string) int {
	out, err := r.output("rev-list", "--count", a+".."+b)
	if err != nil {
		return -1
	}
	n, _ := strconv.Atoi(out)
	return n
}

// tagsAt lists the tags pointing at commit.
func (r repo) tagsAt(commit string) []string {
	out, err := r.output("tag", "--points-at", commit)
	if err != nil || out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// describe is `git describe --tags --long` of commit ("" when no tag reaches it).
func (r repo) describe(commit string) string {
	out, _ := r.output("describe", "--tags", "--long", "--abbrev=40", commit)
	return out
}

// dates returns the commit's author and committer dates as YYYYMMDD (UTC).
func (r repo) dates(commit string) []string {
	out, err := r.output("log", "-1", "--date=format-local:%Y%m%d", "--format=%ad %cd", commit)
	if err != nil {
		return nil
	}
	return strings.Fields(out)
}

// entry is one line of git ls-tree -r.
type entry struct {
	typ, sha, path string // typ: blob or commit (a submodule)
}

// tree lists the blobs and submodules of commit's tree.
func (r repo) tree(commit string) ([]entry, error) {
	out, err := r.output("ls-tree", "-r", "-z", commit)
	if err != nil {
		return nil, err
	}
	var es []entry
	for _, line := range strings.Split(out, "\x00") {
		meta, p, ok := strings.Cut(line, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			continue
		}
		es = append(es, entry{typ: f[1], sha: f[2], path: p})
	}
	return es, nil
}

// missing returns the objects of shas the repository does not hold.
func (r repo) missing(shas []string) ([]string, error) {
	c := r.cmd("cat-file", "--batch-check")
	c.Stdin = strings.NewReader(strings.Join(shas, "\n") + "\n")
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("git cat-file --batch-check in %s: %v", r.dir, err)
	}
	var miss []string
	for _, line := range strings.Split(string(out), "\n") {
		if sha, ok := strings.CutSuffix(line, " missing"); ok {
			miss = append(miss, sha)
		}
	}
	return miss, nil
}

// maxBlob bounds what is read of one file; CMake files are far smaller.
const maxBlob = 4 << 20

// read returns the contents of paths at commit, through one
// `git cat-file --batch`; files larger than maxBlob or missing are left out.
func (r repo) read(commit string, paths []string) (map[string][]byte, error) {
	c := r.cmd("cat-file", "--batch")
	var in bytes.Buffer
	for _, p := range paths {
		in.WriteString(commit + ":" + p + "\n")
	}
	c.Stdin = &in
	stdout, err := c.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	br := bufio.NewReader(stdout)
	var readErr error
	for _, p := range paths {
		header, err := br.ReadString('\n')
		if err != nil {
			readErr = fmt.Errorf("git cat-file --batch in %s: %v", r.dir, err)
			break
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			continue // "<object> missing"
		}
		size, err := strconv.Atoi(f[2])
		if err != nil {
			readErr = fmt.Errorf("git cat-file --batch in %s: bad header %q", r.dir, header)
			break
		}
		body := make([]byte, size+1)
		if _, err := io.ReadFull(br, body); err != nil {
			readErr = fmt.Errorf("git cat-file --batch in %s: %v", r.dir, err)
			break
		}
		if f[1] == "blob" && size <= maxBlob {
			out[p] = body[:size]
		}
	}
	_, _ = io.Copy(io.Discard, br)
	if err := c.Wait(); err != nil && readErr == nil {
		readErr = fmt.Errorf("git cat-file --batch in %s: %v", r.dir, err)
	}
	return out, readErr
}
