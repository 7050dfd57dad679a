package images

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"dagger.io/dagger"

	"github.com/haloforge/haloforge/internal/mirror"
)

// GitMirror serves git sources from a local mirror instead of a git host
// (haloforge build --mirror DIR): the pinned commit, with its submodules
// (as the engine's own git checkout does), is checked out on this host from
// the mirror's bare repositories into CacheDir, once per commit, and handed
// to the engine as a host directory. A repository or submodule absent from
// the mirror is an error; a mirror build never falls back to the network.
type GitMirror struct {
	Mirror   mirror.Mirror
	CacheDir string // checkouts, one directory per URL and commit
}

// Checkout returns the host directory holding c's pinned source.
func (g *GitMirror) Checkout(c Component) (string, error) {
	s := c.Source
	name := s.Git
	if rel, err := mirror.RelPath(s.Git); err == nil {
		name = strings.TrimSuffix(rel, ".git")
	} else {
		sum := sha256.Sum256([]byte(s.Git))
		name = "url-" + hex.EncodeToString(sum[:8])
	}
	dest := filepath.Join(g.CacheDir, filepath.FromSlash(name)+"@"+s.Commit)
	if err := g.Mirror.Checkout(s.Git, s.Commit, dest); err != nil {
		return "", fmt.Errorf("%s: source from the mirror: %w", c.Key(), err)
	}
	return dest, nil
}

func (g *GitMirror) tree(client *dagger.Client, c Component) (*dagger.Directory, error) {
	dir, err := g.Checkout(c)
	if err != nil {
		return nil, err
	}
	return client.Host().Directory(dir), nil
}
