package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"dagger.io/dagger"
	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/images"
	"github.com/haloforge/haloforge/internal/mirror"
)

func init() { addCommand(newBuildCmd()) }

type buildOpts struct {
	plan        planFlags
	base        string
	baseTarball string
	jobs        int
	images      []string
	clean       bool
	export      bool
	quiet       bool
	engine      string
	mirror      string
}

func newBuildCmd() *cobra.Command { return buildCommand(&buildOpts{}) }

// buildCommand is the build command writing its flags into o.
func buildCommand(o *buildOpts) *cobra.Command {
	c := &cobra.Command{
		Use:   "build",
		Short: "Build the stack's runtime images on a Dagger engine and load them into Docker",
		Long: `build runs the same pipeline as ` + "`dagger call build-stack`" + ` from the host, as a Dagger
client (dagger.Connect): every component is its own cached step, runtime images
carry provenance labels and /etc/haloforge/manifest.json, and with --export the
images are loaded into the local Docker daemon under their exact reference
haloforge/<image>:<target>-<key> (one build: <key> is the step's cache key,
see haloforge plan) and the alias haloforge/<image>:<target> that suites
name, moved to this build. haloforge bench runs the exact image its plan
names (see bench --help, "Images").

It needs the dagger CLI of the pinned version (v0.20.0) on PATH or in
_EXPERIMENTAL_DAGGER_CLI_BIN, and an engine it can reach (for a local engine
container: _EXPERIMENTAL_DAGGER_RUNNER_HOST=docker-container://NAME).

Several runners can share one engine, and so one cache: --engine ADDRESS (or
$HALOFORGE_ENGINE) sets _EXPERIMENTAL_DAGGER_RUNNER_HOST for this build, e.g.
tcp://build-host.lab:1234, ssh://runner@build-host.lab or
docker-container://haloforge-dagger-engine with DOCKER_HOST=ssh://runner@build-host.lab.
haloforge plan --cached-from shows which steps that cache already holds.
See docs/shared-engine.md (engine.json, cache volume, GC, security).

Examples:
  # the whole stack for gfx1151 (hours cold; minutes when cached)
  haloforge build --export

  # the offline smoke stack from a local llama.cpp checkout and a debootstrapped base
  haloforge build --profile smoke --base-tarball sid.tar --source llama.cpp=./llama.cpp --export

  # llama.cpp's HIP variant and the ROCm it needs, 4 jobs per compile
  haloforge build --only llama.cpp --variant hip --jobs 4 --export

  # the same images from empty build directories (incremental builds are the
  # default: a changed source reuses the step's kept build directory)
  haloforge build --profile smoke --source llama.cpp=./llama.cpp --clean --export

  # only the Vulkan image of the smoke stack
  haloforge build --profile smoke --image llama-vulkan --export

  # on the lab's shared engine
  haloforge build --engine tcp://build-host.lab:1234 --export

  # no git host: sources from a mirror of bare repositories
  haloforge build --profile smoke --mirror /srv/haloforge-mirror --export

Exit status: 0 ok, 2 bad input or a failed build step (the message names the
component, the step and the tail of its log).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBuild(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.plan.addSelectionFlags(c, "build")
	o.plan.addRecipeFlags(c)
	o.plan.addSourceFlag(c)
	f := c.Flags()
	f.StringVar(&o.base, "base", "", "base image reference pinned by digest (NAME@sha256:...), pulled through the engine's registry mirror; the plan's base from recipes/base.yaml")
	f.StringVar(&o.baseTarball, "base-tarball", "", "base image as a docker-save/OCI tarball; wins over --base")
	f.IntVar(&o.jobs, "jobs", 0, "compile jobs; 0 derives them from memory (about 4 GB per ROCm job) and cores")
	f.StringSliceVar(&o.images, "image", nil, "build only these images (repeatable)")
	f.BoolVar(&o.export, "export", false, "load the built images into the local Docker daemon")
	f.BoolVar(&o.clean, "clean", false, "build the selected steps from empty build directories instead of the ones kept from earlier builds (same result, slower; see docs/incremental-builds.md)")
	f.BoolVar(&o.quiet, "quiet", false, "do not stream the engine's progress to stderr")
	f.StringVar(&o.engine, "engine", "", "Dagger engine to build on, shared by several runners: tcp://HOST:PORT, ssh://USER@HOST, unix://SOCKET, docker-container://NAME, kube-pod://POD (default: $"+images.EngineEnv+", else $"+images.RunnerHostEnv+", else a local engine)")
	f.StringVar(&o.mirror, "mirror", "", "read git sources from this mirror of bare repositories (DIR/HOST/OWNER/NAME.git), never from a git host (default $"+mirror.EnvVar+"; see recipes check --help)")
	return c
}

// spec is what the build executes: the plan `haloforge plan` makes of the
// same flags (so the same cache keys), in the executor's form.
func (o *buildOpts) spec(stderr io.Writer) (images.Spec, error) {
	p, err := o.plan.makePlan(stderr)
	if err != nil {
		return images.Spec{}, err
	}
	return images.FromPlan(p)
}

// runBuild executes the spec of the flags with images.Execute on a Dagger
// engine, then loads the images into Docker with --export.
func runBuild(ctx context.Context, o *buildOpts, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	spec, err := o.spec(stderr)
	if err != nil {
		return inputExit(err)
	}
	gm, err := gitMirror(o.mirror)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	client, err := o.connect(ctx, stderr)
	if err != nil {
		return err
	}
	defer func() { _ = client.Close() }()
	base, bases, from, err := images.HostBase(client, spec, o.base, o.baseTarball)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := images.Execute(ctx, client, spec, images.Execution{Base: base, Bases: bases, BaseFrom: from,
		Sources: images.HostSources(client, spec), Jobs: o.jobs, Images: o.images, Mirror: gm, Clean: o.clean})
	if err != nil {
		return err
	}
	jobs := st.Jobs()
	_, _ = fmt.Fprintf(stderr, "haloforge: building %s for %s (jobs: %d light, %d heavy)\n", strings.Join(st.Names(), ", "), spec.Target, jobs.Light, jobs.Heavy)
	if err := st.Sync(ctx); err != nil {
		var se *images.StepError
		var fe *images.FetchError
		if errors.As(err, &se) || errors.As(err, &fe) {
			return &exitError{code: 2, err: err} // every failure, not only the first
		}
		return err
	}
	_, _ = fmt.Fprintf(stdout, "built %d images in %s\n", len(st.Names()), time.Since(start).Round(100*time.Millisecond))
	if sum, err := st.Summary(ctx, start); err != nil {
		_, _ = fmt.Fprintf(stderr, "haloforge: no step summary: %v\n", err)
	} else {
		_ = sum.Render(stdout)
	}
	if !o.export {
		return nil
	}
	exported, err := st.ExportImages(ctx)
	for _, e := range exported {
		_, _ = fmt.Fprintf(stdout, "exported %s as %s and %s\n", e.Name, e.Ref, e.Alias)
	}
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(stdout, "done in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// connect opens a Dagger session on the engine --engine (or the
// environment) names, streaming its progress to stderr unless --quiet.
func (o *buildOpts) connect(ctx context.Context, stderr io.Writer) (*dagger.Client, error) {
	logw := stderr
	if o.quiet {
		logw = io.Discard
	}
	client, engine, err := images.Connect(ctx, o.engine, logw)
	if err == nil && engine != "" && !o.quiet {
		_, _ = fmt.Fprintf(stderr, "haloforge: engine %s\n", engine)
	}
	return client, err
}
