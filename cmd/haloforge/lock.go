package main

import (
	"fmt"
	"io"
	"os"

	"github.com/haloforge/haloforge/recipes"
	"github.com/spf13/cobra"
)

func init() { addCommand(newLockCmd()) }

func newLockCmd() *cobra.Command {
	f := &planFlags{}
	var check, update bool
	var rootfs string
	up := &lockUpdate{}
	c := &cobra.Command{
		Use:   "lock [--update [COMPONENT...]]",
		Short: "Write or check stack.lock, the record of every exact input",
		Long: `lock writes stack.lock from the recipes: every component's exact source (git
commit or tarball sha256) and version, the Debian sid base identity (archive
snapshot, InRelease sha256, rootfs digest once known) and tool versions.
Pins are edited in recipes/components/*.yaml and recipes/base.yaml; the lock
follows. plan refuses recipes that disagree with the lock.

Tool versions and the rootfs digest are kept from the existing lock (the
digest only while the base is unchanged).

Examples:
  haloforge lock --recipes recipes             # after editing a pin
  haloforge lock --check --recipes recipes     # CI: fail if the lock is stale
  haloforge lock --rootfs-sha256 HEX           # record the base rootfs digest
  haloforge lock --update --dry-run            # what would the moving refs bring?
  haloforge lock --update llama.cpp            # move llama.cpp to its ref's newest commit
  haloforge lock --update --ref llama.cpp=master   # follow another branch or tag

--update asks each upstream (git ls-remote) which commit the recipe's
source.ref (a branch or tag) points at now, prints the diff of pins, then
rewrites the pins in the recipe files (comments kept) and the lock. It edits
the recipes directory of this checkout (--recipes, default: recipes/ beside
stack.lock). On a terminal it asks before writing (--yes skips the question).

Exit status: 0 ok (or up to date), 1 --check found a stale lock, 2 bad input.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 && !update {
				return fmt.Errorf("component names are for --update; plain lock takes none")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if update {
				return up.run(cmd.Context(), f, args, cmd.InOrStdin(), cmd.OutOrStdout())
			}
			if check {
				return checkLock(f, cmd.OutOrStdout())
			}
			return writeLock(f, rootfs, cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVar(&update, "update", false, "resolve moving refs (branches, tags) to new commits; optional COMPONENT args")
	c.Flags().StringArrayVar(&up.refs, "ref", nil, "with --update: COMPONENT=REF follows another branch or tag (repeatable)")
	c.Flags().BoolVar(&up.dryRun, "dry-run", false, "with --update: show the diff of pins, write nothing")
	c.Flags().BoolVar(&up.yes, "yes", false, "with --update: write without asking")
	c.Flags().BoolVar(&check, "check", false, "do not write; fail if the lock disagrees with the recipes")
	c.Flags().StringVar(&rootfs, "rootfs-sha256", "", "record the sha256 of the debootstrapped base rootfs tarball")
	f.addRecipeFlags(c)
	return c
}

// lockTarget is the lock file lock writes or checks: --lock, else the
// checkout's stack.lock, else stack.lock here.
func (f *planFlags) lockTarget() (recipes.Request, string, error) {
	req, err := f.request()
	if err != nil {
		return req, "", err
	}
	if path, ok := req.LockFile(); ok {
		return req, path, nil
	}
	return req, recipes.DefaultLockFile, nil
}

// checkLock is lock --check: exit 1 when the lock is missing, stale or not
// in canonical form.
func checkLock(f *planFlags, out io.Writer) error {
	req, path, err := f.lockTarget()
	if err != nil {
		return inputExit(err)
	}
	set, err := req.LoadSet()
	if err != nil {
		return inputExit(err)
	}
	if _, err := os.Stat(path); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("%s: no lock to check; run `haloforge lock` to write it", path)}
	}
	l, err := recipes.CheckLockFile(path, set)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	_, err = fmt.Fprintf(out, "%s is up to date (%s)\n", path, l.Digest())
	return err
}

// writeLock is plain lock: write the lock of the recipes.
func writeLock(f *planFlags, rootfs string, out io.Writer) error {
	req, path, err := f.lockTarget()
	if err != nil {
		return inputExit(err)
	}
	set, err := req.LoadSet()
	if err != nil {
		return inputExit(err)
	}
	prev, _ := recipes.LoadLock(path) // a missing or broken lock is replaced
	next, err := recipes.WriteLock(path, set, prev, rootfs)
	if err != nil {
		return inputExit(err)
	}
	_, err = fmt.Fprintf(out, "wrote %s (%d components, %s)\n", path, len(next.Components), next.Digest())
	return err
}
