package images

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"

	"dagger.io/dagger"

	"github.com/haloforge/haloforge/recipes"
)

// Execution is what a build needs besides its plan.
type Execution struct {
	// Base is the container every builder and runtime image starts from.
	Base *dagger.Container
	// BaseFrom says where Base came from (a reference or tarball:PATH); it
	// is recorded in provenance.
	BaseFrom string
	// Sources are the trees of the plan's source overrides, by component.
	Sources map[string]*dagger.Directory
	// Jobs pins the compile jobs; zero derives them from this machine's
	// memory and cores (see LocalParallelism).
	Jobs int
	// Bases are the containers of the plan's other bases, by Spec.Bases
	// ref (steps whose recipe names another base than the plan's).
	Bases map[string]*dagger.Container
	// Images selects runtime images by name; empty means all.
	Images []string
	// Mirror, when set, serves git sources from a local mirror.
	Mirror *GitMirror
	// Clean builds every selected step from an empty build directory
	// instead of the one kept from its previous build (docs/incremental-builds.md).
	Clean bool
}

// Stack is a defined (not yet evaluated) set of runtime images.
type Stack struct {
	builder *Builder
	names   []string
	images  map[string]*dagger.Container
	mans    map[string]Manifest
}

// Execute is the executor: `haloforge build` and the Dagger module both
// build through it, from the spec FromPlan makes of the plan. It defines
// the runtime images of spec on client; nothing is built until Sync or an
// export. Definition errors (unknown image, a missing or extra source tree,
// invalid spec) come back at once.
func Execute(ctx context.Context, client *dagger.Client, spec Spec, ex Execution) (*Stack, error) {
	spec.Base.From = ex.BaseFrom
	// The other bases come from the same tarball (TarballBases).
	spec.Bases = slices.Clone(spec.Bases)
	for i := range spec.Bases {
		if _, ok := ex.Bases[spec.Bases[i].Ref]; ok && spec.Bases[i].From == "" {
			spec.Bases[i].From = ex.BaseFrom
		}
	}
	jobs, err := LocalParallelism(ex.Jobs)
	if err != nil {
		return nil, err
	}
	b, err := NewBuilder(client, spec, ex.Base, jobs)
	if err != nil {
		return nil, err
	}
	b.mirror = ex.Mirror
	b.clean = ex.Clean
	for ref, ctr := range ex.Bases {
		if err := b.WithBase(ref, ctr); err != nil {
			return nil, err
		}
	}
	over := spec.Overrides()
	for _, name := range slices.Sorted(maps.Keys(over)) {
		dir, ok := ex.Sources[name]
		if !ok {
			return nil, fmt.Errorf("the plan builds %s from %s, but no directory was given for it; pass the source override again", name, over[name].Path)
		}
		if err := b.OverrideSource(name, dir); err != nil {
			return nil, err
		}
	}
	for name := range ex.Sources {
		if _, ok := over[name]; !ok {
			return nil, fmt.Errorf("source override %s: the plan builds %s from its pin; plan with the override", name, name)
		}
	}
	return defineStack(b, ex.Images)
}

// defineStack defines runtime images names (all when empty) on b.
func defineStack(b *Builder, names []string) (*Stack, error) {
	if len(names) == 0 {
		for _, im := range b.spec.Images {
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

// HostBase is the base container from the client's host: the
// docker-save/OCI tarball when tarball is set (with the plan's other bases
// from the same tarball, by plan reference: see TarballBases), else the
// reference ref pulled by the engine. The third result says where it came
// from.
func HostBase(client *dagger.Client, spec Spec, ref, tarball string) (*dagger.Container, map[string]*dagger.Container, string, error) {
	if tarball == "" && ref == "" {
		return nil, nil, "", MissingBase(spec.Base)
	}
	if tarball == "" {
		return client.Container().From(ref), nil, ref, nil
	}
	abs, err := filepath.Abs(tarball)
	if err != nil {
		return nil, nil, "", err
	}
	if err := CheckTarballBases(spec, abs); err != nil {
		return nil, nil, "", err
	}
	base, others := TarballBases(client, spec, client.Host().File(abs))
	return base, others, "tarball:" + tarball, nil
}

// HostSources loads the trees of spec's source overrides from the
// client's host, at the paths the plan records, without
// recipes.SourceExcludes (the paths DigestDir leaves out).
func HostSources(client *dagger.Client, spec Spec) map[string]*dagger.Directory {
	out := map[string]*dagger.Directory{}
	for name, o := range spec.Overrides() {
		out[name] = client.Host().Directory(o.Path, dagger.HostDirectoryOpts{Exclude: recipes.SourceExcludes})
	}
	return out
}

// Jobs is the build parallelism the stack's steps run with.
func (s *Stack) Jobs() Parallelism { return s.builder.jobs }

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
// then every image whose components built. It keeps going past a failure
// and reports every one (see RunTasks): *StepErrors naming component and
// step with their log tails, *FetchErrors naming unfetchable sources.
func (s *Stack) Sync(ctx context.Context) error {
	var keys []string
	for _, n := range s.names {
		im, _ := s.builder.spec.Image(n)
		keys = append(keys, im.Components...)
	}
	tasks, err := s.builder.componentTasks(keys...)
	if err != nil {
		return err
	}
	for _, n := range s.names {
		im, _ := s.builder.spec.Image(n)
		ctr := s.images[n]
		tasks = append(tasks, Task{Key: "image " + n, Needs: im.Components,
			Run: func(ctx context.Context) error { return SyncImage(ctx, n, ctr) }})
	}
	_, err = RunTasks(ctx, tasks)
	return err
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

// Exported is one image loaded into Docker: its exact reference and alias
// (recipes.ImageRef, recipes.ImageAlias).
type Exported struct {
	Name, Ref, Alias string
}

// ExportImages loads every image of the stack into the Docker daemon of the
// client under its exact reference and then its alias, so the alias names
// the latest build (the naming rule is recipes.ImageRef's).
func (s *Stack) ExportImages(ctx context.Context) ([]Exported, error) {
	var out []Exported
	for _, n := range s.names {
		e, err := s.exportBoth(ctx, n)
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *Stack) exportBoth(ctx context.Context, name string) (Exported, error) {
	ref, err := s.ExportImage(ctx, name, "")
	if err != nil {
		return Exported{}, err
	}
	e := Exported{Name: name, Ref: ref}
	n, ok := recipes.ParseImageRef(ref)
	if !ok {
		return e, nil
	}
	if e.Alias, err = s.ExportImage(ctx, name, n.Alias()); err != nil {
		return e, err
	}
	return e, nil
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
