package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/runner"
	"github.com/haloforge/haloforge/images/runtime"
)

func init() { addCommand(newImageCmd()) }

func newImageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image smoke",
		Short: "Build the smoke suite's runtime image from Debian sid packages (no registry)",
		Long: `Build haloforge/runtime-smoke:sid, the image the smoke suite runs in, without
any container registry:

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
from haloforge build --export (or dagger call build-stack export-images).`,
		Example:   `  haloforge image smoke      # build (or confirm) the smoke image and print its labels`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"smoke"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "smoke" {
				return fmt.Errorf("unknown image %q: the only image built here is smoke (the stack's images come from haloforge build --export)", args[0])
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
	return cmd
}
