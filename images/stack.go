package images

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"

	"dagger.io/dagger"
	"golang.org/x/sync/errgroup"
)

// SourceOverride is a local source tree given for a component.
type SourceOverride struct {
	// Component is the component name (all its variants use the tree).
	Component string
	// Path is what the user typed, recorded in provenance.
	Path string
	// Dir is the directory as loaded into the engine.
	Dir *dagger.Directory
}

// StackOptions configure BuildStack.
type StackOptions struct {
	// Spec is what to build.
	Spec Spec
	// Base is the default base container (imported from the pinned
	// debootstrap tarball, or a digest-pinned reference).
	Base *dagger.Container
	// Bases are the containers of the plan's other bases, by Spec.Bases ref.
	Bases map[string]*dagger.Container
	// Jobs is the build parallelism; zero means derive it from this
	// machine's memory and cores (see LocalParallelism).
	Jobs Parallelism
	// Sources override pinned sources.
	Sources []SourceOverride
	// Images selects runtime images by name; empty means all.
	Images []string
}

// Stack is a defined (not yet evaluated) set of runtime images.
type Stack struct {
	builder *Builder
	names   []string
	images  map[string]*dagger.Container
	mans    map[string]Manifest
}

// BuildStack defines the runtime images of opts.Spec on client. Nothing is
// built until Sync or an export; definition errors (unknown image, bad
// override, invalid spec) come back at once.
func BuildStack(ctx context.Context, client *dagger.Client, opts StackOptions) (*Stack, error) {
	jobs := opts.Jobs
	if jobs.Light < 1 || jobs.Heavy < 1 {
		var err error
		if jobs, err = LocalParallelism(0); err != nil {
			return nil, err
		}
	}
	b, err := NewBuilder(client, opts.Spec, opts.Base, jobs)
	if err != nil {
		return nil, err
	}
	for ref, ctr := range opts.Bases {
		if err := b.WithBase(ref, ctr); err != nil {
			return nil, err
		}
	}
	for _, o := range opts.Sources {
		if err := b.OverrideSource(ctx, o.Component, o.Path, o.Dir); err != nil {
			return nil, err
		}
	}
	names := opts.Images
	if len(names) == 0 {
		for _, im := range opts.Spec.Images {
			names = append(names, im.Name)
		}
	}
	s := &Stack{builder: b, names: names, images: map[string]*dagger.Container{}, mans: map[string]Manifest{}}
	for _, n := range names {
		ctr, m, err := b.Runtime(n)
		if err != nil {
			return nil, err
		}
		s.images[n] = ctr
		s.mans[n] = m
	}
	return s, nil
}

// Names lists the stack's image names in spec order.
func (s *Stack) Names() []string { return append([]string(nil), s.names...) }

// Image returns the runtime image called name.
func (s *Stack) Image(name string) (*dagger.Container, error) {
	if c, ok := s.images[name]; ok {
		return c, nil
	}
	known := s.Names()
	sort.Strings(known)
	return nil, fmt.Errorf("no image %q in this stack; known: %v", name, known)
}

// Manifest returns the provenance manifest of image name.
func (s *Stack) Manifest(name string) (Manifest, bool) {
	m, ok := s.mans[name]
	return m, ok
}

// Builder exposes the builder (for single-component builds and overrides).
func (s *Stack) Builder() *Builder { return s.builder }

// Sync builds every component of the stack (concurrently where possible),
// then every image. The first failure is a *StepError naming component and
// step with its log tail.
func (s *Stack) Sync(ctx context.Context) error {
	var keys []string
	for _, n := range s.names {
		im, _ := s.builder.spec.Image(n)
		keys = append(keys, im.Components...)
	}
	if err := s.builder.Sync(ctx, keys...); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, n := range s.names {
		ctr := s.images[n]
		g.Go(func() error { return SyncImage(gctx, n, ctr) })
	}
	return g.Wait()
}

// ExportImage loads image name into the Docker daemon of the client (the
// dagger CLI's host) as ref (the spec's ref when empty).
func (s *Stack) ExportImage(ctx context.Context, name, ref string) (string, error) {
	ctr, err := s.Image(name)
	if err != nil {
		return "", err
	}
	if ref == "" {
		ref = s.mans[name].Ref
	}
	if err := ctr.ExportImage(ctx, ref); err != nil {
		return "", fmt.Errorf("export %s as %s to the local Docker daemon: %w (is DOCKER_HOST or /var/run/docker.sock reachable from the dagger CLI?)", name, ref, AsStepError("image "+name, err))
	}
	return ref, nil
}

// LocalParallelism derives job counts from this machine's /proc/meminfo and
// CPU count; override > 0 sets them. Inside a Dagger module the process runs
// in the engine's container, so this is the engine host's memory.
func LocalParallelism(override int) (Parallelism, error) {
	if override > 0 {
		return ParallelismFor(0, 1, override), nil
	}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return Parallelism{}, fmt.Errorf("read /proc/meminfo to size build parallelism: %w; pass --jobs", err)
	}
	mem, err := ParseMemTotal(string(b))
	if err != nil {
		return Parallelism{}, err
	}
	return ParallelismFor(mem, runtime.NumCPU(), 0), nil
}
