// Haloforge builds the AMD ROCm software stack for Strix Halo (gfx1151) —
// TheRock (ROCm 6.4), rocWMMA, hipBLASLt, AOTriton, Composable Kernel,
// PyTorch and llama.cpp cpu/hip/hip-rocwmma/vulkan — into cached container
// images, every component its own cached step, with provenance labels.
//
// This module is a thin layer: what to build comes from the plan (package
// recipes) and how containers are built lives in package images. Every
// function here converts arguments, calls those packages and hands the
// resulting containers back to the engine.
package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/haloforge/haloforge/pipeline/internal/dagger"
)

// Haloforge is the entry point: pick a base image and source overrides, then
// build-stack, build or plan.
type Haloforge struct {
	// Base image reference every builder and runtime image starts from.
	// +private
	Base string
	// Base image as a docker-save or OCI tarball; wins over Base when set.
	// +private
	BaseTarball *dagger.File
	// Build jobs per compile; 0 derives them from the engine host's memory
	// (about 4 GB per ROCm job) and cores.
	// +private
	Jobs int
	// Source overrides added with with-source.
	// +private
	Sources []*Source
	// The stack lock (stack.lock at the repository root).
	// +private
	Lock *dagger.File
	// Recipes directory replacing the recipes built into the module.
	// +private
	Recipes *dagger.Directory
	// Mirror of bare git repositories that git sources come from.
	// +private
	Mirror *dagger.Directory
}

// Source is a local source tree that replaces a component's pinned source.
type Source struct {
	// Component name, for example llama.cpp.
	Component string
	// Path as given by the user, recorded in provenance.
	Path string
	// Directory holding the source tree.
	Dir *dagger.Directory
}

func New(
	// Base image reference pinned by digest (NAME@sha256:...), pulled
	// through the engine's registry mirror: the plan's base from
	// recipes/base.yaml. Give it, or --base-tarball.
	// +optional
	base string,
	// Base image as a docker-save or OCI tarball (for example made with
	// debootstrap, docker import and docker save); wins over --base.
	// +optional
	baseTarball *dagger.File,
	// Build jobs per compile; 0 derives them from the engine host's memory
	// (about 4 GB per ROCm job) and cores.
	// +optional
	jobs int,
	// The stack lock: every exact input (commits, sha256 sums, base image).
	// +optional
	// +defaultPath="/stack.lock"
	lock *dagger.File,
	// Recipes directory (base.yaml + components/) to use instead of the
	// recipes built into the module, for trying recipe changes.
	// +optional
	recipes *dagger.Directory,
	// A mirror of bare git repositories laid out DIR/HOST/OWNER/NAME.git,
	// as haloforge build --mirror reads it (git clone --mirror URL
	// DIR/HOST/OWNER/NAME.git; entries must be repositories, not links out
	// of DIR): git sources and their submodules are checked out from it,
	// never from a git host, and plan shows whether each pin is there.
	// +optional
	mirror *dagger.Directory,
) *Haloforge {
	return &Haloforge{Base: base, BaseTarball: baseTarball, Jobs: jobs, Lock: lock, Recipes: recipes, Mirror: mirror}
}

// Build a component from a local source tree instead of its pinned commit.
//
// The path and the directory's content digest (the digest haloforge plan
// --source computes) are recorded in every image's provenance. Example:
// dagger call --base-tarball base.tar with-source --component llama.cpp --dir ./my-llama.cpp --path ./my-llama.cpp build-stack --profile smoke export-images --docker /var/run/docker.sock
func (m *Haloforge) WithSource(
	// Component name, for example llama.cpp.
	component string,
	// Directory holding the source tree; .git and a top-level build
	// directory are left out (recipes.SourceExcludes).
	// +ignore=["**/.git", "build"]
	dir *dagger.Directory,
	// Path to record in provenance (defaults to the component name).
	// +optional
	path string,
) (*Haloforge, error) {
	if strings.TrimSpace(component) == "" {
		return nil, fmt.Errorf("with-source: --component is empty; name the component to override, for example llama.cpp")
	}
	if path == "" {
		path = "(directory for " + component + ")"
	}
	cp := *m
	cp.Sources = append(append([]*Source(nil), m.Sources...), &Source{Component: component, Path: path, Dir: dir})
	return &cp, nil
}

// Build every runtime image of the stack for a GPU target.
//
// Each component is its own cached step; builder and runtime images are
// separate; images carry OCI labels and /etc/haloforge/manifest.json. Load
// them into the host's Docker with export-images. Example:
// dagger call --base-tarball trixie.tar build-stack --target gfx1151 --profile smoke export-images --docker /var/run/docker.sock
func (m *Haloforge) BuildStack(
	ctx context.Context,
	// GPU target (gfx1151, gfx1100, gfx1201).
	// +optional
	// +default="gfx1151"
	target string,
	// Named selection: "" for everything, "smoke" for the offline smoke
	// stack (llama.cpp cpu and vulkan on Debian packages, no ROCm).
	// +optional
	profile string,
	// Build only these components (and what they need), e.g. llama.cpp.
	// +optional
	only []string,
	// Keep only these variants of the selected components, e.g. cpu,vulkan.
	// +optional
	variant []string,
) (*Stack, error) {
	return m.buildStack(ctx, sel{target: target, profile: profile, only: only, variants: variant})
}

// Build one component variant and what it needs; return its install tree.
//
// Example: dagger call --base-tarball base.tar build --component llama.cpp --variant hip export --path ./out
func (m *Haloforge) Build(
	ctx context.Context,
	// Component name, for example llama.cpp.
	component string,
	// Variant, for example hip.
	variant string,
	// GPU target.
	// +optional
	// +default="gfx1151"
	target string,
) (*dagger.Directory, error) {
	return m.build(ctx, component, variant, target)
}

// Print the build plan as JSON, without building anything.
//
// The plan lists every step with its exact pin, cache key, image names and
// labels: the same plan haloforge plan --json prints. With --mirror, each
// pinned git step also says where it is in the mirror (DIR/HOST/OWNER/NAME.git)
// and whether the commit is there; a missing one is an error. Example:
// dagger call --mirror /srv/haloforge-mirror plan --profile smoke
func (m *Haloforge) Plan(
	ctx context.Context,
	// GPU target.
	// +optional
	// +default="gfx1151"
	target string,
	// Named selection, e.g. smoke.
	// +optional
	profile string,
	// Plan only these components (and what they need).
	// +optional
	only []string,
	// Keep only these variants of the selected components.
	// +optional
	variant []string,
) (string, error) {
	return m.plan(ctx, sel{target: target, profile: profile, only: only, variants: variant})
}

// Stack is a built set of runtime images, one per name.
type Stack struct {
	// GPU target the stack was built for.
	Target string
	// Image names, in build order.
	Names []string
	// Exact image references, parallel to Names (haloforge/llama-hip:gfx1151-<key>).
	Refs []string
	// Alias references suites name, parallel to Names (haloforge/llama-hip:gfx1151).
	Aliases []string
	// Runtime images, parallel to Names.
	// +private
	Containers []*dagger.Container
	// Provenance manifests (JSON), parallel to Names.
	// +private
	Manifests []string
	// The container export-images loads images from (the plan's base
	// with curl).
	// +private
	Loader *dagger.Container
}

// One runtime image by name, ready for export-image, export or terminal.
func (s *Stack) Image(
	// Image name, for example llama-hip.
	name string,
) (*dagger.Container, error) {
	for i, n := range s.Names {
		if n == name {
			return s.Containers[i], nil
		}
	}
	return nil, fmt.Errorf("no image %q in this stack; known: %s", name, strings.Join(s.Names, ", "))
}

// The provenance manifest of one image, as JSON.
//
// It is the same file as /etc/haloforge/manifest.json inside the image.
func (s *Stack) Manifest(
	// Image name, for example llama-hip.
	name string,
) (string, error) {
	for i, n := range s.Names {
		if n == name {
			return s.Manifests[i], nil
		}
	}
	return "", fmt.Errorf("no image %q in this stack; known: %s", name, strings.Join(s.Names, ", "))
}

// Load every image into a Docker daemon under its exact reference and alias.
//
// Give the daemon's socket (the host's: --docker /var/run/docker.sock); the
// images go in through its Engine API (a module function cannot load
// images into the caller's Docker itself). The alias
// (haloforge/<image>:<target>) moves to this build, and haloforge bench
// runs the exact references (haloforge/<image>:<target>-<key>) its plan
// names. Example:
// dagger call --base-tarball trixie.tar build-stack --profile smoke export-images --docker /var/run/docker.sock
func (s *Stack) ExportImages(
	ctx context.Context,
	// The Docker daemon's socket, for example /var/run/docker.sock.
	docker *dagger.Socket,
) (string, error) {
	return s.exportImages(ctx, docker)
}
