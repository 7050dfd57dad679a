package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/runner"
	"github.com/haloforge/haloforge/images/base"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/recipes"
)

func init() { addCommand(newImageCmd()) }

func newImageCmd() *cobra.Command {
	var (
		f   planFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "image smoke | image base [NAME]",
		Short: "Build the smoke suite's runtime image, or the base tarball haloforge build needs (no registry)",
		Long: `image smoke builds haloforge/runtime-smoke:sid, the image the smoke suite
runs in, without any container registry:

  1. haloforge/base:sid: debootstrap --variant=minbase sid (needs root and the
     debootstrap package; the rootfs tarball is cached under
     $(haloforge home)/cache/images), imported with the Engine API.
  2. haloforge/runtime-smoke:sid: a container from the base runs apt-get install
     llama.cpp-tools libggml0-backend-vulkan mesa-vulkan-drivers
     llama.cpp-tools-extra libggml0-backend-rpc (Debian sid's llama-bench, the
     ggml Vulkan backend, Mesa lavapipe, and ggml's RPC server and backend for
     RPC suites) and is committed with
     OCI labels: package versions, llama-bench --version, build date, base digest.

Both steps are skipped when an image with the same inputs (label
io.haloforge.inputs) exists. haloforge bench builds the image on first use.
The stack's images (ROCm, HIP, rocWMMA, Vulkan/RADV; named
haloforge/<image>:<target>-<key> and aliased haloforge/<image>:<target>) come
from haloforge build --export (or dagger call build-stack export-images).

image base writes the base image the build plan starts from as a docker-save
tarball, the file haloforge build --base-tarball and dagger call
--base-tarball take: the plan's base for the given selection (--profile,
--only, --variant, --target, --recipes, --lock, as for build), or the base
NAME of recipes/base.yaml. It checks that the archive still serves the
pinned dists/<suite>/InRelease (sha256 in base.yaml; use the snapshot.debian.org
URL the error names when it moved on), debootstraps it (root and the
debootstrap package; the rootfs is cached under $(haloforge home)/cache/images),
imports it as haloforge/base:<suite> and saves it to -o FILE (default
base-<NAME>.tar here).`,
		Example: `  haloforge image smoke                          # build (or confirm) the smoke image and print its labels
  haloforge image base --profile smoke           # base-debian-trixie.tar, the base the smoke stack builds on
  haloforge build --profile smoke --base-tarball base-debian-trixie.tar --export
  haloforge image base debian-sid -o sid.tar     # a base by its base.yaml name`,
		Args:      cobra.RangeArgs(1, 2),
		ValidArgs: []string{"smoke", "base"},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case args[0] == "base":
				return runImageBase(cmd, f, args[1:], out)
			case args[0] != "smoke":
				return fmt.Errorf("unknown image %q: image smoke (the smoke suite's image) or image base (the build's base tarball); the stack's images come from haloforge build --export", args[0])
			case len(args) > 1:
				return fmt.Errorf("image smoke takes no further argument (got %q)", args[1])
			}
			d, err := runner.Connect(cmd.Context())
			if err != nil {
				return err
			}
			defer func() { _ = d.Close() }()
			info, err := runtime.Smoke(bench.ImageCacheDir(bench.Home()), cmd.ErrOrStderr()).Ensure(cmd.Context(), d)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			_, _ = fmt.Fprintf(out, "%s %s\n", info.Ref, info.ID)
			for _, k := range slices.Sorted(maps.Keys(info.Labels)) {
				_, _ = fmt.Fprintf(out, "  %s=%s\n", k, strings.ReplaceAll(info.Labels[k], ",", ", "))
			}
			return nil
		},
	}
	f.addSelectionFlags(cmd, "image base: plan")
	f.addRecipeFlags(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "image base: write the tarball to FILE (default base-NAME.tar in this directory)")
	return cmd
}

// runImageBase makes the base tarball: the plan's base, or the base named.
func runImageBase(cmd *cobra.Command, f planFlags, args []string, out string) error {
	req, err := f.request()
	if err != nil {
		return err
	}
	plan, in, err := recipes.PlanFor(req, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	name := plan.Base.Lock.Name
	if len(args) == 1 {
		name = args[0]
	}
	b, ok := in.Set.BaseNamed(name)
	if !ok {
		return fmt.Errorf("no base %q in %s: known bases %s", name, "recipes/base.yaml", strings.Join(in.Set.BaseNames(), ", "))
	}
	if len(args) == 0 && len(plan.Bases) > 0 {
		var others []string
		for _, o := range plan.Bases {
			others = append(others, o.Lock.Name)
		}
		_, _ = fmt.Fprintf(cmd.ErrOrStderr(), "note: this selection also builds on %s; make each with haloforge image base NAME\n", strings.Join(others, ", "))
	}
	if out == "" {
		out = "base-" + b.Name + ".tar"
	}
	d, err := runner.Connect(cmd.Context())
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	ref := b.Image + ":" + b.Suite
	spec := base.FromRecipes(b, ref, bench.ImageCacheDir(bench.Home()), cmd.ErrOrStderr())
	id, err := spec.Ensure(cmd.Context(), d)
	if err != nil {
		return fmt.Errorf("base %s: %w", b.Name, err)
	}
	n, err := base.Save(cmd.Context(), d, ref, out)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(cmd.OutOrStdout(), "%s %s (%s, snapshot %s): wrote %s (%d MB)\nuse it as: haloforge build --base-tarball %s ...\n",
		ref, id, b.Name, b.Snapshot, out, n>>20, out)
	return nil
}
