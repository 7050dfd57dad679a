package recipes

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/haloforge/haloforge/internal/atomicfile"
)

// Updater moves pins to the commits their moving refs (branches, tags)
// point at now, in the recipe files, and rewrites the lock from them: the
// work of `haloforge lock --update`.
type Updater struct {
	// Recipes is the recipes directory whose files are edited.
	Recipes string
	// Lock is the lock file rewritten after the recipes.
	Lock string
	// Refs are COMPONENT=REF moves to another branch or tag.
	Refs []string
	// LsRemote asks an upstream which commits its refs point at; nil runs
	// `git ls-remote` (GitLsRemote).
	LsRemote func(ctx context.Context, url, ref string) ([]byte, error)
	// Log receives one line per skipped component.
	Log io.Writer
}

// GitLsRemote runs `git ls-remote` for ref (and its peeled tag) at url.
func GitLsRemote(ctx context.Context, url, ref string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "ls-remote", "--heads", "--tags", url, ref, "refs/tags/"+ref+"^{}")
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-remote %s %s: %w: %s; check the URL and your network", url, ref, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// moves parses Refs into component -> ref.
func (u *Updater) moves() (map[string]string, error) {
	moves := map[string]string{}
	for _, m := range u.Refs {
		comp, ref, ok := strings.Cut(m, "=")
		if !ok || comp == "" || ref == "" {
			return nil, &InputError{Kind: ErrMalformed, Field: "--ref", Problem: fmt.Sprintf("%q: want COMPONENT=REF", m), Fix: "write e.g. --ref llama.cpp=master"}
		}
		moves[comp] = ref
	}
	return moves, nil
}

// updateNames are the components to update: names, plus the components --ref
// moves; every component when neither is given.
func updateNames(set *Set, names []string, moves map[string]string) []string {
	out := slices.Clone(names)
	for _, comp := range slices.Sorted(maps.Keys(moves)) {
		if !slices.Contains(out, comp) {
			out = append(out, comp)
		}
	}
	if len(out) == 0 {
		return set.Names()
	}
	return out
}

// Resolve asks each upstream where the refs of the named components (all
// when none) point now and returns the pin moves, changed or not.
func (u *Updater) Resolve(ctx context.Context, names []string) ([]PinUpdate, error) {
	set, err := Load(u.Recipes)
	if err != nil {
		return nil, err
	}
	moves, err := u.moves()
	if err != nil {
		return nil, err
	}
	var updates []PinUpdate
	for _, name := range updateNames(set, names, moves) {
		r, ok := set.Recipe(name)
		if !ok {
			return nil, &InputError{Kind: ErrUnknownComponent, Field: "lock --update", Problem: "unknown component " + quote(name),
				Fix: "use one of: " + strings.Join(set.Names(), ", ")}
		}
		p, ok, err := u.resolveOne(ctx, r, moves[name])
		if err != nil {
			return nil, err
		}
		if ok {
			updates = append(updates, p)
		}
	}
	return updates, nil
}

// resolveOne is the pin move of r; false when r has nothing to follow.
func (u *Updater) resolveOne(ctx context.Context, r *Recipe, move string) (PinUpdate, bool, error) {
	if r.Source.Git == "" {
		u.logf("%-20s skipped: a tarball pin (sha256) has no moving ref\n", r.Name)
		return PinUpdate{}, false, nil
	}
	ref := r.Source.Ref
	if move != "" {
		ref = move
	}
	if ref == "" {
		u.logf("%-20s skipped: no source.ref to follow (add one, or pass --ref %s=BRANCH)\n", r.Name, r.Name)
		return PinUpdate{}, false, nil
	}
	var out []byte
	if !IsCommit(ref) { // an exact commit needs no upstream
		ls := u.LsRemote
		if ls == nil {
			ls = GitLsRemote
		}
		var err error
		if out, err = ls(ctx, r.Source.Git, ref); err != nil {
			return PinUpdate{}, false, fmt.Errorf("%s: %w", r.Name, err)
		}
	}
	commit, kind, err := ResolveRef(out, ref)
	if err != nil {
		return PinUpdate{}, false, fmt.Errorf("%s (%s): %w", r.Name, r.Source.Git, err)
	}
	return PinUpdate{
		Component: r.Name, File: r.File, OldRef: r.Source.Ref, Ref: ref, RefKind: kind,
		OldCommit: r.Source.Commit, NewCommit: commit,
		OldVersion: r.Version, NewVersion: NextVersion(r.Version, r.Source.Commit, commit, ref, kind),
	}, true, nil
}

func (u *Updater) logf(format string, args ...any) {
	if u.Log != nil {
		_, _ = fmt.Fprintf(u.Log, format, args...)
	}
}

// Changed counts the updates that change a recipe.
func Changed(updates []PinUpdate) int {
	n := 0
	for _, p := range updates {
		if p.Changed() {
			n++
		}
	}
	return n
}

// Write applies the changed updates to their recipe files (comments kept)
// and rewrites the lock from the updated recipes. A stale or broken lock is
// replaced; tool versions and the rootfs digest carry over from a good one.
func (u *Updater) Write(updates []PinUpdate) (*Lock, error) {
	for _, p := range updates {
		if !p.Changed() {
			continue
		}
		data, err := os.ReadFile(p.File)
		if err != nil {
			return nil, err
		}
		next, err := ApplyPinUpdate(p.File, data, p)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(p.File, next, 0o644); err != nil {
			return nil, err
		}
	}
	set, err := Load(u.Recipes)
	if err != nil {
		return nil, err
	}
	prev, _ := LoadLock(u.Lock)
	return WriteLock(u.Lock, set, prev, "")
}

// WriteLock writes the lock of set to path, keeping tools and the rootfs
// digest of prev (nil for none); rootfs, when set, records a new rootfs
// sha256.
func WriteLock(path string, set *Set, prev *Lock, rootfs string) (*Lock, error) {
	next := MakeLock(set, prev)
	if rootfs != "" {
		if !IsSHA256(rootfs) {
			return nil, &InputError{Kind: ErrMalformed, Field: "--rootfs-sha256", Problem: quote(rootfs) + " is not a 64-hex sha256",
				Fix: "pass the sha256sum of the rootfs tarball"}
		}
		next.Base.RootfsSHA256 = rootfs
	}
	if err := atomicfile.Write(path, next.Marshal(), 0o644); err != nil {
		return nil, fmt.Errorf("writing %s: %w; check the directory is writable", path, err)
	}
	return next, nil
}

// CheckLockFile reports whether the lock file at path matches set and is
// in canonical form; it returns the lock.
func CheckLockFile(path string, set *Set) (*Lock, error) {
	l, err := LoadLock(path)
	if err != nil {
		return nil, err
	}
	if err := l.Check(set, nil); err != nil {
		return nil, err
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(onDisk, MakeLock(set, l).Marshal()) {
		return nil, fmt.Errorf("%s: not in canonical form; run `haloforge lock` to rewrite it", path)
	}
	return l, nil
}
