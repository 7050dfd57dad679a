package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/moby/moby/client"
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

image base writes the base images the build plan starts from as one
docker-save tarball, the file haloforge build --base-tarball and dagger call
--base-tarball take: every base the given selection builds on (--profile,
--only, --variant, --target, --recipes, --lock, as for build; the whole
gfx1151 stack builds on debian-trixie and, for the distro ROCm variants, on
debian-sid), or the base NAME of recipes/base.yaml. For each it checks that
the archive still serves the pinned dists/<suite>/InRelease (sha256 in
base.yaml; use the snapshot.debian.org URL the error names when it moved on),
debootstraps it (root and the debootstrap package; the rootfs is cached under
$(haloforge home)/cache/images), imports it as haloforge/base:<suite>, tags it
with its plan reference (haloforge/base:<suite>-<snapshot>-<key>, the tag the
build imports it by) and saves them all to -o FILE (default
base-<NAME>[+<NAME>].tar here).`,
		Example: `  haloforge image smoke                          # build (or confirm) the smoke image and print its labels
  haloforge image base --profile smoke           # base-debian-trixie.tar, the base the smoke stack builds on
  haloforge build --profile smoke --base-tarball base-debian-trixie.tar --export
  haloforge image base -o base.tar               # the whole gfx1151 stack: debian-trixie and debian-sid in one file
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
	// The bases to save: NAME, or every base the selection builds on, each
	// tagged with its plan reference (the tag the executor imports it by,
	// see images.TarballBases).
	planRef := map[string]string{plan.Base.Lock.Name: plan.Base.Image}
	names := []string{plan.Base.Lock.Name}
	for _, o := range plan.Bases {
		planRef[o.Lock.Name] = o.Image
		names = append(names, o.Lock.Name)
	}
	if len(args) == 1 {
		names = args[:1]
	}
	var bs []*recipes.Base
	for _, name := range names {
		b, ok := in.Set.BaseNamed(name)
		if !ok {
			return fmt.Errorf("no base %q in %s: known bases %s", name, "recipes/base.yaml", strings.Join(in.Set.BaseNames(), ", "))
		}
		bs = append(bs, b)
	}
	if out == "" {
		out = "base-" + strings.Join(names, "+") + ".tar"
	}
	d, err := runner.Connect(cmd.Context())
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	var refs []string
	for _, b := range bs {
		ref := b.Image + ":" + b.Suite
		spec := base.FromRecipes(b, ref, bench.ImageCacheDir(bench.Home()), cmd.ErrOrStderr())
		id, err := spec.Ensure(cmd.Context(), d)
		if err != nil {
			return fmt.Errorf("base %s: %w", b.Name, err)
		}
		refs = append(refs, ref)
		if pr := planRef[b.Name]; pr != "" && pr != ref {
			if _, err := d.ImageTag(cmd.Context(), client.ImageTagOptions{Source: id, Target: pr}); err != nil {
				return fmt.Errorf("base %s: tag %s as %s: %w", b.Name, id, pr, err)
			}
			refs = append(refs, pr)
		}
		_, _ = fmt.Fprintf(cmd.OutOrStdout(), "%s %s (%s, snapshot %s)\n", ref, id, b.Name, b.Snapshot)
	}
	n, err := base.Save(cmd.Context(), d, refs, out)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d MB): %s\nuse it as: haloforge build --base-tarball %s ... (or dagger call --base-tarball %s ...)\n",
		out, n>>20, strings.Join(refs, ", "), out, out)
	return nil
}
