package images

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"dagger.io/dagger"
)

// Builder executes a Spec on a Dagger engine. Construct it with NewBuilder;
// it is safe for concurrent use.
type Builder struct {
	client *dagger.Client
	spec   Spec
	base   *dagger.Container // the default base (Spec.Base)
	bases  map[string]*dagger.Container
	jobs   Parallelism
	mirror *GitMirror // git sources from a local mirror; nil: from the git host
	clean  bool       // no kept build directories: every step builds from empty

	mu      sync.Mutex
	sources map[string]*dagger.Directory // overrides, by component name
	trees   map[string]*dagger.Directory // component install trees, by key
	steps   map[string]*dagger.Container // last step container, by key
}

// NewBuilder returns a Builder for spec running on client, starting every
// container from base (pulled or imported by the caller).
func NewBuilder(client *dagger.Client, spec Spec, base *dagger.Container, jobs Parallelism) (*Builder, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if jobs.Light < 1 || jobs.Heavy < 1 {
		return nil, fmt.Errorf("build parallelism %+v: job counts must be at least 1", jobs)
	}
	if err := CheckBaseOrigin(spec.Base); err != nil {
		return nil, err
	}
	return &Builder{
		client: client, spec: spec, base: base, jobs: jobs, bases: map[string]*dagger.Container{},
		sources: map[string]*dagger.Directory{},
		trees:   map[string]*dagger.Directory{},
		steps:   map[string]*dagger.Container{},
	}, nil
}

// Spec returns the spec the builder executes.
func (b *Builder) Spec() Spec { return b.spec }

// Overrides returns the source overrides of the spec: path and content
// digest as the plan recorded them.
func (b *Builder) Overrides() Overrides { return b.spec.Overrides() }

// OverrideSource gives the tree of component name (every variant of it),
// whose source the plan names as a local path. Set every override before
// building anything.
func (b *Builder) OverrideSource(name string, dir *dagger.Directory) error {
	if _, ok := b.spec.Overrides()[name]; !ok {
		return fmt.Errorf("source override %s: the plan builds %s from its pin, not from a local tree; plan with --source %s=DIR (known components: %s)", name, name, name, strings.Join(b.spec.keys(), ", "))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.trees) > 0 {
		return fmt.Errorf("source override %s: set overrides before building anything", name)
	}
	b.sources[name] = dir
	return nil
}

// source returns the source tree of c: the override, a git checkout of the
// pinned commit, or the verified and unpacked tarball.
func (b *Builder) source(c Component) (*dagger.Directory, error) {
	if d, ok := b.sources[c.Name]; ok {
		return d, nil
	}
	s := c.Source
	if strings.HasPrefix(s.URL, "local:") {
		return nil, fmt.Errorf("%s: the plan builds it from %s, but no directory was given for it; pass the source override again", c.Key(), strings.TrimPrefix(s.URL, "local:"))
	}
	switch {
	case s.Git != "" && len(s.Commit) == 40:
		if b.mirror != nil {
			return b.mirror.tree(b.client, c), nil
		}
		return b.client.Git(s.Git).Commit(s.Commit).Tree(), nil
	case s.URL != "" && len(s.SHA256) == 64:
		archive := b.client.HTTP(s.URL)
		unpack := b.base.
			WithMountedFile("/src.archive", archive).
			WithExec([]string{"sh", "-c", `set -eu
echo "$1  /src.archive" | sha256sum -c -
mkdir -p /out && tar -xf /src.archive -C /out --strip-components=1`, StepMarkerPrefix + c.Key() + ":fetch", s.SHA256})
		return unpack.Directory("/out"), nil
	}
	return nil, fmt.Errorf("%s: source %s is not pinned (need a git URL with a 40-hex commit or a URL with a sha256); fix its recipe or pass a source override", c.Key(), s)
}

// Toolchain returns the builder container of t on the default base: the
// base with its build packages installed, apt caches mounted. Equal
// toolchains yield equal (and therefore cached) containers.
func (b *Builder) Toolchain(t Toolchain) *dagger.Container {
	return b.aptInstall(b.base, b.spec.Base, t.Packages)
}

// aptInstall installs pkgs into c (started from base def) with the shared
// apt caches mounted, and unmounts them again so they stay out of the
// result.
func (b *Builder) aptInstall(c *dagger.Container, def Base, pkgs []string) *dagger.Container {
	return b.withApt(c).
		WithExec(AptInstallArgv(pkgs, def.AptOptions...)).
		WithoutMount("/var/cache/apt/archives").
		WithoutMount("/var/lib/apt/lists")
}

func (b *Builder) withApt(c *dagger.Container) *dagger.Container {
	locked := dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}
	return c.
		WithMountedCache("/var/cache/apt/archives", b.client.CacheVolume(AptArchivesVolume), locked).
		WithMountedCache("/var/lib/apt/lists", b.client.CacheVolume(AptListsVolume), locked)
}

// Component returns the install tree of component key, defining (lazily) its
// build and the builds of everything it needs. Nothing runs until the tree
// is evaluated (see Sync).
func (b *Builder) Component(key string) (*dagger.Directory, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.component(key)
}

func (b *Builder) component(key string) (*dagger.Directory, error) {
	if t, ok := b.trees[key]; ok {
		return t, nil
	}
	c, ok := b.spec.Component(key)
	if !ok {
		return nil, fmt.Errorf("unknown component %q; known: %s", key, strings.Join(b.spec.keys(), ", "))
	}
	src, err := b.source(c)
	if err != nil {
		return nil, err
	}
	baseCtr, baseDef, err := b.baseFor(key, c.Base)
	if err != nil {
		return nil, err
	}
	ctr := b.aptInstall(baseCtr, baseDef, c.Toolchain.Packages)
	var prefixes []string
	for _, n := range c.Needs {
		dep, err := b.component(n)
		if err != nil {
			return nil, fmt.Errorf("%s needs %s: %w", key, n, err)
		}
		nc, _ := b.spec.Component(n)
		ctr = ctr.WithDirectory(nc.Prefix(), dep)
		prefixes = append(prefixes, nc.Prefix())
	}
	env := BuildEnv(c, b.jobs.For(c), prefixes)
	for _, k := range SortedKeys(env) {
		ctr = ctr.WithEnvVariable(k, env[k])
	}
	// One exec per step: the source tree volume is locked for the whole
	// step, so two builds never share a build directory (see
	// incremental.go).
	bk := b.spec.BuildKey(c)
	locked := dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}
	ctr = ctr.WithMountedDirectory(SourceInDir, src)
	if !b.clean {
		ctr = ctr.WithMountedCache(c.Dir(), b.client.CacheVolume(TreeVolumeFor(c, bk)), locked)
	}
	// A clean step has no tree volume: the source directory starts empty
	// in the container, as in a first build, and the step's cache key
	// differs from the incremental one's, so it runs again.
	ctr = ctr.
		WithMountedCache(CCacheDir, b.client.CacheVolume(CCacheVolumeFor(c.Toolchain))).
		WithMountedCache(DownloadDir, b.client.CacheVolume(DownloadVolume)).
		WithWorkdir(c.Dir())
	// The script goes in as a file, so the engine's progress log shows a
	// one-line exec rather than the whole script; it is part of the
	// step's cache key either way.
	argv := IncrementalArgv(key, c, bk, DefaultStepPaths())
	ctr = ctr.
		WithNewFile(StepScriptPath, argv[2]).
		WithExec([]string{argv[0], argv[1], ". " + StepScriptPath, argv[3]})
	tree := ctr.Directory(c.Prefix())
	b.trees[key] = tree
	b.steps[key] = ctr
	return tree, nil
}

// Runtime returns runtime image name: base, runtime packages, the install
// trees of its components (and what they need), environment, provenance
// labels and /etc/haloforge/manifest.json. No compilers or headers.
func (b *Builder) Runtime(name string) (*dagger.Container, Manifest, error) {
	im, err := b.spec.Image(name)
	if err != nil {
		return nil, Manifest{}, err
	}
	m, err := ManifestFor(b.spec, im, b.Overrides())
	if err != nil {
		return nil, Manifest{}, err
	}
	mj, err := m.JSON()
	if err != nil {
		return nil, Manifest{}, err
	}
	labels, err := ImageLabels(im, m)
	if err != nil {
		return nil, Manifest{}, err
	}
	comps, err := b.spec.Closure(im.Components...)
	if err != nil {
		return nil, Manifest{}, err
	}
	ctr, baseDef, err := b.baseFor("image "+name, im.Base)
	if err != nil {
		return nil, Manifest{}, err
	}
	if len(im.Packages) > 0 {
		ctr = b.aptInstall(ctr, baseDef, im.Packages)
	}
	var prefixes []string
	for _, c := range comps {
		tree, err := b.Component(c.Key())
		if err != nil {
			return nil, Manifest{}, err
		}
		if len(im.Copies) == 0 {
			ctr = ctr.WithDirectory(c.Prefix(), tree)
		}
		prefixes = append(prefixes, c.Prefix())
	}
	for _, cp := range im.Copies {
		b.mu.Lock()
		step := b.steps[cp.From]
		b.mu.Unlock()
		if step == nil {
			return nil, Manifest{}, fmt.Errorf("image %s copies %s from %s, which the image does not build", name, cp.Path, cp.From)
		}
		ctr = ctr.WithDirectory(cp.Path, step.Directory(cp.Path))
	}
	env := RuntimeEnv(prefixes, im.Env)
	for _, k := range SortedKeys(env) {
		ctr = ctr.WithEnvVariable(k, env[k])
	}
	ctr = ctr.WithNewFile(ManifestPath, string(mj))
	for _, k := range SortedKeys(labels) {
		ctr = ctr.WithLabel(k, labels[k])
	}
	return ctr.WithWorkdir("/"), m, nil
}

// Sync builds the given components (and what they need), concurrently where
// the engine allows. The build keeps going past a failure with every step
// that does not need the failed one; the error lists every failure (see
// RunTasks): a *StepError naming component and step with the tail of its
// log, or a *FetchError naming the source that could not be fetched.
func (b *Builder) Sync(ctx context.Context, keys ...string) error {
	tasks, err := b.componentTasks(keys...)
	if err != nil {
		return err
	}
	_, err = RunTasks(ctx, tasks)
	return err
}

// componentTasks are the build tasks of the given components and what they
// need: fetch the source (a *FetchError on failure), then build (a
// *StepError when a step fails).
func (b *Builder) componentTasks(keys ...string) ([]Task, error) {
	comps, err := b.spec.Closure(keys...)
	if err != nil {
		return nil, err
	}
	var tasks []Task
	for _, c := range comps {
		tree, err := b.Component(c.Key())
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, Task{Key: c.Key(), Needs: c.Needs, Run: func(ctx context.Context) error {
			if err := b.fetch(ctx, c); err != nil {
				return err
			}
			_, err := tree.Sync(ctx)
			return AsStepError(c.Key(), err)
		}})
	}
	return tasks, nil
}

// SyncImage builds runtime image ctr and maps a failure to a *StepError.
func SyncImage(ctx context.Context, name string, ctr *dagger.Container) error {
	_, err := ctr.Sync(ctx)
	return AsStepError("image "+name, err)
}

// AsStepError converts an engine error into a *StepError when it comes from
// a haloforge step (recognised by its sh -c $0 marker); other errors are
// wrapped with what was being built. nil stays nil.
func AsStepError(what string, err error) error {
	if err == nil {
		return nil
	}
	var ee *dagger.ExecError
	if errors.As(err, &ee) {
		comp, step, ok := ParseStepMarker(ee.Cmd)
		if !ok {
			comp, step = what, "exec"
		}
		out := ee.Stdout
		if strings.TrimSpace(ee.Stderr) != "" {
			out = strings.TrimRight(out, "\n") + "\n" + ee.Stderr
		}
		cmd := ee.Cmd
		if ok && len(cmd) > 2 {
			cmd = []string{strings.TrimSpace(lastLine(cmd[2]))}
		}
		// An incremental step names each command it starts.
		if s, c, found := ParseStepLine(out); ok && found {
			step, cmd = s, []string{c}
		}
		return &StepError{Component: comp, Step: step, Cmd: cmd, ExitCode: ee.ExitCode, Tail: Tail(out, TailLines), Err: err}
	}
	return fmt.Errorf("build %s: %w", what, err)
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
