package mirror

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// Submodule is one entry of a .gitmodules file.
type Submodule struct {
	Name, Path, URL string
}

// ParseGitmodules reads the submodule entries of a .gitmodules file (git
// config syntax: [submodule "NAME"] sections with path = and url = keys).
// Entries without a path or url are left out.
func ParseGitmodules(text string) []Submodule {
	var out []Submodule
	var cur *Submodule
	flush := func() {
		if cur != nil && cur.Path != "" && cur.URL != "" {
			out = append(out, *cur)
		}
		cur = nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") {
			flush()
			sec := strings.TrimSuffix(strings.TrimPrefix(line, "["), "]")
			if name, ok := strings.CutPrefix(sec, "submodule "); ok {
				cur = &Submodule{Name: strings.Trim(strings.TrimSpace(name), `"`)}
			}
			continue
		}
		if cur == nil {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "path":
			cur.Path = v
		case "url":
			cur.URL = v
		}
	}
	flush()
	return out
}

// ResolveURL resolves a submodule URL against its superproject's URL the
// way git does for relative URLs (../other.git); absolute URLs come back
// as they are.
func ResolveURL(super, sub string) (string, error) {
	if !strings.HasPrefix(sub, "./") && !strings.HasPrefix(sub, "../") {
		return sub, nil
	}
	u, err := url.Parse(strings.TrimSuffix(super, "/"))
	if err != nil {
		return "", fmt.Errorf("superproject URL %q: %v", super, err)
	}
	u.Path = path.Join(u.Path, sub)
	return u.String(), nil
}

// Checkout writes the tree of commit of gitURL, read from the mirror, to
// dest, with a one-commit .git so tools that ask git work, and with every
// submodule checked out at its recorded commit from the mirror too
// (recursively). A complete dest is reused as it is; a partial one is
// redone. Nothing is fetched from the network.
func (m Mirror) Checkout(gitURL, commit, dest string) error {
	done := filepath.Join(dest, ".git", "haloforge-mirror-checkout")
	if _, err := os.Stat(done); err == nil {
		return nil
	}
	tmp := dest + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := m.checkout(gitURL, commit, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".git", "haloforge-mirror-checkout"), []byte(gitURL+" "+commit+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(dest); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}

func (m Mirror) checkout(gitURL, commit, dir string) error {
	repo, err := m.Repo(gitURL)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"fetch", "-q", "--depth", "1", "file://" + repo, commit},
		{"-c", "advice.detachedHead=false", "checkout", "-q", "--detach", "FETCH_HEAD"},
	} {
		if _, err := git(dir, args...); err != nil {
			return fmt.Errorf("%s @ %s from the mirror %s: %w; fix: check the pin with `haloforge recipes check`; a repository that lacks objects (git --git-dir=%s fsck) must be cloned again with git clone --mirror", gitURL, commit, repo, err, repo)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, ".gitmodules"))
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	for _, sm := range ParseGitmodules(string(data)) {
		subURL, err := ResolveURL(gitURL, sm.URL)
		if err != nil {
			return fmt.Errorf("%s: submodule %s: %w", gitURL, sm.Name, err)
		}
		out, err := git(dir, "ls-tree", "HEAD", "--", sm.Path)
		f := strings.Fields(out)
		if err != nil || len(f) < 3 || f[1] != "commit" {
			continue // .gitmodules names a path that is no submodule at this commit
		}
		if err := m.checkout(subURL, f[2], filepath.Join(dir, filepath.FromSlash(sm.Path))); err != nil {
			return fmt.Errorf("submodule %s of %s: %w", sm.Path, gitURL, err)
		}
	}
	return nil
}

func git(dir string, args ...string) (string, error) {
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
