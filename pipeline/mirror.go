package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/haloforge/haloforge/images"
	"github.com/haloforge/haloforge/internal/mirror"
	"github.com/haloforge/haloforge/recipes"
)

// Where the module reads the --mirror directory. A module function runs in
// its own container, whose init (cmd/init/main.go in dagger v0.20.0,
// mainSession) serves the function's engine session with a filesync source
// and target over that container's filesystem. So Directory.Export writes
// into this container (engine/buildkit/filesync.go, LocalDirExport copies to
// the calling client), and host.directory reads from it: the engine itself
// implements currentModule.workdir as host.directory of the runtime
// container's workdir (core/schema/module.go, currentModuleWorkdir). The
// dagger.io/dagger client package images uses is connected to that same
// session (connect), so images.GitMirror's checkouts, made here with the
// git of the Go SDK's runtime container, reach the engine through
// Host().Directory exactly as they do for haloforge build --mirror.

// exportMirror writes the mirror repositories at rels (paths inside the
// --mirror directory; all of it for ".") into a new directory of this
// container and returns it. Entries that are not in the mirror are left out.
func (m *Haloforge) exportMirror(ctx context.Context, rels []string) (string, error) {
	dir, err := os.MkdirTemp("", "haloforge-mirror-")
	if err != nil {
		return "", err
	}
	for _, rel := range rels {
		if rel != "." {
			ok, err := m.Mirror.Exists(ctx, rel)
			if err != nil {
				return "", fmt.Errorf("read --mirror at %s: %w", rel, err)
			}
			if !ok {
				continue
			}
		}
		if _, err := m.Mirror.Directory(rel).Export(ctx, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return "", fmt.Errorf("read --mirror at %s: %w", rel, err)
		}
	}
	return dir, nil
}

// gitMirror is the --mirror directory as the executor's source mirror (nil
// without --mirror): all of it is exported into this container, since
// submodules name repositories the plan does not, and checkouts go to a
// directory beside it.
func (m *Haloforge) gitMirror(ctx context.Context) (*images.GitMirror, error) {
	if m.Mirror == nil {
		return nil, nil
	}
	dir, err := m.exportMirror(ctx, []string{"."})
	if err != nil {
		return nil, err
	}
	cache, err := os.MkdirTemp("", "haloforge-sources-")
	if err != nil {
		return nil, err
	}
	return &images.GitMirror{Mirror: mirror.Mirror{Dir: dir}, CacheDir: cache, Shown: "DIR"}, nil
}

// markMirror is Plan.MarkMirror against --mirror (nothing without it): only
// the repositories the plan's pinned git sources map to are exported. Paths
// in the result read DIR/HOST/OWNER/NAME.git, DIR being the --mirror
// directory, not this container's copy of it.
func (m *Haloforge) markMirror(ctx context.Context, p *recipes.Plan) error {
	if m.Mirror == nil {
		return nil
	}
	var rels []string
	seen := map[string]bool{}
	for _, s := range p.Steps {
		if s.Source.Kind != "git" {
			continue
		}
		rel, err := mirror.RelPath(s.Source.URL)
		if err != nil || seen[rel] {
			continue // MarkMirror names a URL without a mirror path
		}
		seen[rel] = true
		// Mirror.Repo also takes a checkout at DIR/HOST/OWNER/NAME/.git.
		rels = append(rels, rel, strings.TrimSuffix(rel, ".git")+"/.git")
	}
	dir, err := m.exportMirror(ctx, rels)
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	merr := p.MarkMirror(mirror.Mirror{Dir: dir})
	shown := func(path string) string {
		if rel, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(rel, "..") {
			return "DIR/" + filepath.ToSlash(rel)
		}
		return path
	}
	for i := range p.Steps {
		if sm := p.Steps[i].Mirror; sm != nil {
			sm.Repo = shown(sm.Repo)
		}
	}
	var e *recipes.MirrorError
	if errors.As(merr, &e) {
		e.Dir = "DIR (--mirror)"
		for i := range e.Missing {
			e.Missing[i].Repo = shown(e.Missing[i].Repo)
		}
	}
	return merr
}
