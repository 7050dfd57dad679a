package images

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"sync"

	"dagger.io/dagger"

	"github.com/haloforge/haloforge/internal/mirror"
)

// GitMirror serves git sources from a local mirror instead of a git host
// (haloforge build --mirror DIR): the pinned commit, with its submodules
// (as the engine's own git checkout does), is checked out on this host from
// the mirror's bare repositories into CacheDir, once per commit, and handed
// to the engine as a host directory. A repository or submodule absent from
// the mirror is a *FetchError when the component builds; a mirror build
// never falls back to the network.
type GitMirror struct {
	Mirror   mirror.Mirror
	CacheDir string // checkouts, one directory per URL and commit
	// Shown names the mirror in errors when Mirror.Dir is a copy of it
	// (the Dagger module's, inside its container): "DIR", as --mirror DIR.
	Shown string

	mu sync.Mutex // one checkout at a time: variants share a source
}

// dest is where c's pinned source is checked out.
func (g *GitMirror) dest(c Component) string {
	s := c.Source
	var name string
	if rel, err := mirror.RelPath(s.Git); err == nil {
		name = strings.TrimSuffix(rel, ".git")
	} else {
		sum := sha256.Sum256([]byte(s.Git))
		name = "url-" + hex.EncodeToString(sum[:8])
	}
	return filepath.Join(g.CacheDir, filepath.FromSlash(name)+"@"+s.Commit)
}

// Checkout returns the host directory holding c's pinned source, checking
// it out of the mirror when it is not there yet; the error is a
// *FetchError.
func (g *GitMirror) Checkout(c Component) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	dest := g.dest(c)
	if err := g.Mirror.Checkout(c.Source.Git, c.Source.Commit, dest); err != nil {
		repo, _ := g.Mirror.Path(c.Source.Git)
		dir := g.Mirror.Dir
		if g.Shown != "" {
			repo = strings.ReplaceAll(repo, dir, g.Shown)
			err = errors.New(strings.ReplaceAll(err.Error(), dir, g.Shown))
			dir = g.Shown
		}
		return "", &FetchError{Component: c.Key(), Git: c.Source.Git, Ref: c.Source.Ref, Commit: c.Source.Commit, Mirror: dir, MirrorRepo: repo, Err: err}
	}
	return dest, nil
}

// tree is c's source as a host directory; Checkout (run by the build
// before the tree is read) fills it.
func (g *GitMirror) tree(client *dagger.Client, c Component) *dagger.Directory {
	return client.Host().Directory(g.dest(c))
}
