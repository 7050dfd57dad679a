package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/haloforge/haloforge/recipes"
	"golang.org/x/term"
)

// lockUpdate holds `haloforge lock --update` options.
type lockUpdate struct {
	refs   []string // COMPONENT=REF moves
	dryRun bool
	yes    bool
}

// updater is the recipes.Updater of the flags: --recipes (default the
// checkout's recipes/) and the lock beside them.
func (u *lockUpdate) updater(f *planFlags, log io.Writer) (*recipes.Updater, error) {
	_, path, err := f.lockTarget()
	if err != nil {
		return nil, err
	}
	dir := f.dir
	if dir == "" {
		c, ok := recipes.FindCheckout(".")
		if !ok || c.Recipes == "" {
			return nil, fmt.Errorf("lock --update edits pins in recipe files: pass --recipes DIR (a checkout's recipes/ directory)")
		}
		dir = c.Recipes
	}
	return &recipes.Updater{Recipes: filepath.Clean(dir), Lock: path, Refs: u.refs, Log: log}, nil
}

// run resolves moving refs for the named components (all when none), prints
// the diff of pins, and rewrites the recipe files and the lock.
func (u *lockUpdate) run(ctx context.Context, f *planFlags, args []string, stdin io.Reader, stdout io.Writer) error {
	up, err := u.updater(f, stdout)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	updates, err := up.Resolve(ctx, args)
	if err != nil {
		return inputExit(err)
	}
	for _, p := range updates {
		_, _ = fmt.Fprintln(stdout, p.String())
	}
	changed := recipes.Changed(updates)
	switch {
	case changed == 0:
		_, err = fmt.Fprintln(stdout, "every pin is current; nothing to write")
		return err
	case u.dryRun:
		_, err = fmt.Fprintf(stdout, "%d pin(s) would change (--dry-run: nothing written)\n", changed)
		return err
	case !u.confirm(stdin, stdout, changed):
		return &exitError{code: 1, err: fmt.Errorf("not written")}
	}
	next, err := up.Write(updates)
	if err != nil {
		return inputExit(err)
	}
	_, err = fmt.Fprintf(stdout, "wrote %d recipe pin(s) and %s (%s)\n", changed, up.Lock, next.Digest())
	return err
}

// confirm asks before writing when stdin is a terminal and --yes is not set.
func (u *lockUpdate) confirm(stdin io.Reader, stdout io.Writer, changed int) bool {
	f, ok := stdin.(*os.File)
	if !ok || u.yes || !term.IsTerminal(int(f.Fd())) {
		return true
	}
	_, _ = fmt.Fprintf(stdout, "write %d pin change(s) to the recipes and the lock? [y/N] ", changed)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}
