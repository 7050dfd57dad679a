package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/haloforge/haloforge/internal/atomicfile"
	"github.com/haloforge/haloforge/recipes"
	"golang.org/x/term"
)

// lockUpdate holds `haloforge lock --update` options.
type lockUpdate struct {
	refs   []string // COMPONENT=REF moves
	dryRun bool
	yes    bool
	git    string // git binary
}

// lsRemote asks the upstream which commits its refs point at. It is the one
// place that talks to the network; tests point recipes at local repositories.
func (u *lockUpdate) lsRemote(ctx context.Context, url, ref string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, u.git, "ls-remote", "--heads", "--tags", url, ref, "refs/tags/"+ref+"^{}")
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-remote %s %s: %w: %s; check the URL and your network", url, ref, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// run resolves moving refs for the named components (all when none), prints
// the diff of pins, and rewrites the recipe files and the lock.
func (u *lockUpdate) run(ctx context.Context, f *planFlags, args []string, stdin io.Reader, stdout io.Writer) error {
	if f.dir == "" {
		path, found := f.lockPath()
		if !found {
			return &exitError{code: 2, err: fmt.Errorf("lock --update edits pins in recipe files: pass --recipes DIR (a checkout's recipes/ directory)")}
		}
		f.dir = filepath.Join(filepath.Dir(path), "recipes")
		if f.lockFile == "" {
			f.lockFile = path
		}
	}
	set, err := recipes.Load(f.dir)
	if err != nil {
		return inputExit(err)
	}
	names := slices.Clone(args)
	moves := map[string]string{}
	for _, m := range u.refs {
		comp, ref, ok := strings.Cut(m, "=")
		if !ok || comp == "" || ref == "" {
			return &exitError{code: 2, err: fmt.Errorf("--ref %q: want COMPONENT=REF, e.g. --ref llama.cpp=master", m)}
		}
		moves[comp] = ref
	}
	// --ref alone updates just the components it moves.
	for _, comp := range slices.Sorted(maps.Keys(moves)) {
		if !slices.Contains(names, comp) && (len(args) > 0 || len(u.refs) > 0) {
			names = append(names, comp)
		}
	}
	if len(names) == 0 {
		names = set.Names()
	}
	var updates []recipes.PinUpdate
	for _, name := range names {
		r, ok := set.Recipe(name)
		if !ok {
			return &exitError{code: 2, err: fmt.Errorf("lock --update: unknown component %q; fix: use one of: %s", name, strings.Join(set.Names(), ", "))}
		}
		if r.Source.Git == "" {
			_, _ = fmt.Fprintf(stdout, "%-20s skipped: a tarball pin (sha256) has no moving ref\n", name)
			continue
		}
		ref := r.Source.Ref
		if m, ok := moves[name]; ok {
			ref = m
		}
		if ref == "" {
			_, _ = fmt.Fprintf(stdout, "%-20s skipped: no source.ref to follow (add one, or pass --ref %s=BRANCH)\n", name, name)
			continue
		}
		var out []byte
		if !recipes.IsCommit(ref) { // an exact commit needs no upstream
			if out, err = u.lsRemote(ctx, r.Source.Git, ref); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		commit, kind, err := recipes.ResolveRef(out, ref)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", name, r.Source.Git, err)
		}
		updates = append(updates, recipes.PinUpdate{
			Component: name, File: r.File, OldRef: r.Source.Ref, Ref: ref, RefKind: kind,
			OldCommit: r.Source.Commit, NewCommit: commit,
			OldVersion: r.Version, NewVersion: recipes.NextVersion(r.Version, r.Source.Commit, commit, ref, kind),
		})
	}
	changed := 0
	for _, p := range updates {
		_, _ = fmt.Fprintln(stdout, p.String())
		if p.Changed() {
			changed++
		}
	}
	if changed == 0 {
		_, _ = fmt.Fprintln(stdout, "every pin is current; nothing to write")
		return nil
	}
	if u.dryRun {
		_, _ = fmt.Fprintf(stdout, "%d pin(s) would change (--dry-run: nothing written)\n", changed)
		return nil
	}
	if f, ok := stdin.(*os.File); ok && !u.yes && term.IsTerminal(int(f.Fd())) {
		_, _ = fmt.Fprintf(stdout, "write %d pin change(s) to the recipes and the lock? [y/N] ", changed)
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return &exitError{code: 1, err: fmt.Errorf("not written")}
		}
	}
	for _, p := range updates {
		if !p.Changed() {
			continue
		}
		data, err := os.ReadFile(p.File)
		if err != nil {
			return err
		}
		next, err := recipes.ApplyPinUpdate(p.File, data, p)
		if err != nil {
			return inputExit(err)
		}
		if err := atomicfile.Write(p.File, next, 0o644); err != nil {
			return err
		}
	}
	set, err = recipes.Load(f.dir)
	if err != nil {
		return inputExit(err)
	}
	// A stale or broken lock is rewritten from the updated recipes.
	path, prev, _ := f.currentLock()
	next := recipes.MakeLock(set, prev)
	if err := atomicfile.Write(path, next.Marshal(), 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %d recipe pin(s) and %s (%s)\n", changed, path, next.Digest())
	return err
}
