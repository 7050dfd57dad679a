// Package mirror maps upstream git URLs to bare repositories in a local
// mirror directory, so haloforge can check and build sources without a git
// host.
//
// The rule: https://HOST/PATH (with or without a trailing .git) lives at
//
//	DIR/HOST/PATH.git
//
// with HOST lower-cased and PATH kept as written, e.g.
// https://github.com/ROCm/TheRock.git -> DIR/github.com/ROCm/TheRock.git.
// The entry is a bare repository (git clone --mirror URL DIR/HOST/PATH.git)
// or a symbolic link to one. A file:///PATH URL already names a local
// repository and maps to PATH itself.
package mirror

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// EnvVar names the environment variable that gives the mirror directory
// when --mirror is not passed.
const EnvVar = "HALOFORGE_MIRROR"

// ErrNotInMirror is returned (wrapped) by Mirror.Repo when the mapped path
// holds no repository.
var ErrNotInMirror = errors.New("not in mirror")

var (
	hostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$`)
	segRE  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._+-]*$`)
)

// RelPath returns the mirror-relative path of a git URL under the rule in
// the package comment, using forward slashes. It rejects URLs that could
// escape the mirror directory (.., empty segments) or that are not https,
// http, ssh or git URLs.
func RelPath(gitURL string) (string, error) {
	u, err := url.Parse(gitURL)
	if err != nil {
		return "", fmt.Errorf("git URL %q: %v", gitURL, err)
	}
	switch u.Scheme {
	case "https", "http", "ssh", "git":
	default:
		return "", fmt.Errorf("git URL %q: scheme %q has no mirror path (use https://HOST/OWNER/NAME)", gitURL, u.Scheme)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("git URL %q: user, query or fragment have no mirror path", gitURL)
	}
	host := strings.ToLower(u.Host)
	if !hostRE.MatchString(host) {
		return "", fmt.Errorf("git URL %q: host %q is not a plain host name", gitURL, u.Host)
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "", fmt.Errorf("git URL %q: no repository path", gitURL)
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if !segRE.MatchString(s) || s == "." || s == ".." || strings.HasSuffix(s, ".git") {
			return "", fmt.Errorf("git URL %q: path segment %q is not a plain name", gitURL, s)
		}
	}
	return path.Join(append([]string{host}, segs...)...) + ".git", nil
}

// Mirror is a mirror directory.
type Mirror struct {
	Dir string
}

// FromEnv returns the mirror named by flag, else by $HALOFORGE_MIRROR; ok is
// false when neither is set.
func FromEnv(flag string) (m Mirror, ok bool) {
	if flag == "" {
		flag = os.Getenv(EnvVar)
	}
	if flag == "" {
		return Mirror{}, false
	}
	return Mirror{Dir: flag}, true
}

// Open checks that the mirror directory exists.
func (m Mirror) Open() error {
	st, err := os.Stat(m.Dir)
	if err != nil {
		return fmt.Errorf("mirror %s: %w; fix: create it (see README, Source mirrors) or unset %s", m.Dir, err, EnvVar)
	}
	if !st.IsDir() {
		return fmt.Errorf("mirror %s: not a directory; fix: pass the directory that holds HOST/OWNER/NAME.git", m.Dir)
	}
	return nil
}

// Path returns where gitURL lives in the mirror (whether or not it exists).
func (m Mirror) Path(gitURL string) (string, error) {
	if strings.HasPrefix(gitURL, "file:///") {
		u, err := url.Parse(gitURL)
		if err != nil {
			return "", fmt.Errorf("git URL %q: %v", gitURL, err)
		}
		return filepath.Clean(u.Path), nil
	}
	rel, err := RelPath(gitURL)
	if err != nil {
		return "", err
	}
	return filepath.Join(m.Dir, filepath.FromSlash(rel)), nil
}

// Repo returns the git directory of gitURL in the mirror: the mapped path
// when it is a bare repository, or DIR/HOST/PATH/.git when a checkout sits
// there instead. The
// error wraps ErrNotInMirror when neither exists.
func (m Mirror) Repo(gitURL string) (string, error) {
	p, err := m.Path(gitURL)
	if err != nil {
		return "", err
	}
	for _, dir := range []string{p, filepath.Join(strings.TrimSuffix(p, ".git"), ".git")} {
		if isGitDir(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%s: %w (looked for %s)", gitURL, ErrNotInMirror, p)
}

// isGitDir reports whether dir looks like a git directory (bare or .git).
func isGitDir(dir string) bool {
	for _, f := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// ErrNoCommit is returned (wrapped) by Mirror.HasCommit when the repository
// is in the mirror but lacks the commit.
var ErrNoCommit = errors.New("commit not in mirror")

// HasCommit checks, without touching the network, that the mirror holds
// gitURL and that its repository has commit (git cat-file -e
// COMMIT^{commit}). It returns the repository's git directory, or, when the
// repository is absent, the path it was looked for at; the error wraps
// ErrNotInMirror or ErrNoCommit.
func (m Mirror) HasCommit(gitURL, commit string) (string, error) {
	repo, err := m.Repo(gitURL)
	if err != nil {
		p, perr := m.Path(gitURL)
		if perr != nil {
			return "", perr
		}
		return p, err
	}
	if !commitRE.MatchString(commit) {
		return repo, fmt.Errorf("%s: commit %q is not a hex object name", gitURL, commit)
	}
	c := exec.Command("git", "--git-dir="+repo, "cat-file", "-e", commit+"^{commit}")
	c.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C")
	err = c.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return repo, fmt.Errorf("%s: %w: %s lacks %s", gitURL, ErrNoCommit, repo, commit)
	case err != nil:
		return repo, fmt.Errorf("%s: look for %s in %s: %w; fix: install git", gitURL, commit, repo, err)
	}
	return repo, nil
}

var commitRE = regexp.MustCompile(`^[0-9a-f]{7,64}$`)
