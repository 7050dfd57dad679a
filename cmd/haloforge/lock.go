package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/haloforge/haloforge/internal/atomicfile"
	"github.com/haloforge/haloforge/recipes"
	"github.com/spf13/cobra"
)

func init() { addCommand(newLockCmd()) }

func newLockCmd() *cobra.Command {
	f := &planFlags{}
	var check, update bool
	var rootfs string
	up := &lockUpdate{git: "git"}
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
			set, err := f.loadSet()
			if err != nil {
				return inputExit(err)
			}
			path, prev, err := f.currentLock()
			if err != nil && check {
				return inputExit(err)
			}
			if check {
				if prev == nil {
					return &exitError{code: 1, err: fmt.Errorf("%s: no lock to check; run `haloforge lock` to write it", path)}
				}
				if err := prev.Check(set, nil); err != nil {
					return &exitError{code: 1, err: err}
				}
				onDisk, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				if want := recipes.MakeLock(set, prev).Marshal(); !bytes.Equal(onDisk, want) {
					return &exitError{code: 1, err: fmt.Errorf("%s: not in canonical form; run `haloforge lock` to rewrite it", path)}
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s is up to date (%s)\n", path, prev.Digest())
				return err
			}
			next := recipes.MakeLock(set, prev)
			if rootfs != "" {
				if !recipes.IsSHA256(rootfs) {
					return &exitError{code: 2, err: fmt.Errorf("--rootfs-sha256 %q: not a 64-hex sha256; fix: pass the sha256sum of the rootfs tarball", rootfs)}
				}
				next.Base.RootfsSHA256 = rootfs
			}
			if err := atomicfile.Write(path, next.Marshal(), 0o644); err != nil {
				return fmt.Errorf("writing %s: %w; check the directory is writable", path, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d components, %s)\n", path, len(next.Components), next.Digest())
			return err
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

// currentLock is the lock file to write (--lock, else stack.lock here or
// above, else a new stack.lock here) and the lock it holds now, nil when
// there is none or it does not load (err says why).
func (f *planFlags) currentLock() (string, *recipes.Lock, error) {
	path, found := f.lockPath()
	if !found {
		return recipes.DefaultLockFile, nil, nil
	}
	prev, err := recipes.LoadLock(path)
	if err != nil {
		return path, nil, err
	}
	return path, prev, nil
}
