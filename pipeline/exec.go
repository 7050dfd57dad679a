package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	lib "dagger.io/dagger"

	"github.com/haloforge/haloforge/images"
	"github.com/haloforge/haloforge/pipeline/internal/dagger"
	"github.com/haloforge/haloforge/recipes"
)

// sel is what to plan: target and selection.
type sel struct {
	target   string
	profile  string
	only     []string
	variants []string
}

// connect opens a dagger.io/dagger client on the module's own session, so
// package images (written against the library) builds in the same session
// and objects pass between the two by ID.
func connect(ctx context.Context) (*lib.Client, error) {
	c, err := lib.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect package images to the engine session: %w", err)
	}
	return c, nil
}

// baseContainer is the base image in the library's types, the plan's
// other bases (from the same tarball, see images.TarballBases), and where
// the base came from.
func (m *Haloforge) baseContainer(ctx context.Context, c *lib.Client, spec images.Spec) (*lib.Container, map[string]*lib.Container, string, error) {
	if m.BaseTarball == nil && m.Base == "" {
		return nil, nil, "", images.MissingBase(spec.Base)
	}
	if m.BaseTarball != nil {
		id, err := m.BaseTarball.ID(ctx)
		if err != nil {
			return nil, nil, "", fmt.Errorf("base tarball: %w", err)
		}
		name, _ := m.BaseTarball.Name(ctx)
		base, others := images.TarballBases(c, spec, c.LoadFileFromID(lib.FileID(id)))
		return base, others, "tarball:" + name, nil
	}
	return c.Container().From(m.Base), nil, m.Base, nil
}

// sourceTrees are the with-source trees in the library's types, without
// recipes.SourceExcludes, as the plan digests and the executor builds them.
func (m *Haloforge) sourceTrees(ctx context.Context, c *lib.Client) (map[string]*lib.Directory, error) {
	out := map[string]*lib.Directory{}
	for _, s := range m.Sources {
		id, err := s.Dir.ID(ctx)
		if err != nil {
			return nil, fmt.Errorf("source override %s: %w", s.Component, err)
		}
		if _, dup := out[s.Component]; dup {
			return nil, fmt.Errorf("with-source %s given twice; keep one", s.Component)
		}
		out[s.Component] = c.Directory().WithDirectory(".", c.LoadDirectoryFromID(lib.DirectoryID(id)),
			lib.DirectoryWithDirectoryOpts{Exclude: recipes.SourceExcludes})
	}
	return out, nil
}

// request is the plan request of s: the module's recipes and lock and the
// with-source trees, exported under tmp so that recipes.PlanFor reads and
// digests them as `haloforge plan` does on the host.
func (m *Haloforge) request(ctx context.Context, s sel, trees map[string]*lib.Directory, tmp string) (recipes.Request, error) {
	r := recipes.Request{Target: s.target, NoCheckout: true,
		Selection: recipes.Selection{Profile: s.profile, Only: s.only, Variants: s.variants}}
	if m.Recipes != nil {
		r.Recipes = filepath.Join(tmp, "recipes")
		if _, err := m.Recipes.Export(ctx, r.Recipes); err != nil {
			return r, fmt.Errorf("read --recipes: %w", err)
		}
	}
	if m.Lock != nil {
		r.Lock = filepath.Join(tmp, recipes.DefaultLockFile)
		if _, err := m.Lock.Export(ctx, r.Lock); err != nil {
			return r, fmt.Errorf("read the stack lock: %w", err)
		}
	}
	for i, s := range m.Sources {
		dir := filepath.Join(tmp, "source-"+strconv.Itoa(i))
		if _, err := trees[s.Component].Export(ctx, dir); err != nil {
			return r, fmt.Errorf("source override %s=%s: %w", s.Component, s.Path, err)
		}
		r.Sources = append(r.Sources, recipes.SourceDir{Component: s.Component, Dir: dir, Path: s.Path})
	}
	return r, nil
}

// makePlan plans s through recipes.PlanFor, the plan `haloforge plan` makes.
func (m *Haloforge) makePlan(ctx context.Context, s sel, trees map[string]*lib.Directory) (*recipes.Plan, error) {
	tmp, err := os.MkdirTemp("", "haloforge-plan-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	req, err := m.request(ctx, s, trees, tmp)
	if err != nil {
		return nil, err
	}
	p, _, err := recipes.PlanFor(req, io.Discard)
	return p, err
}

// stepError keeps the full text of a failed build (every failed step
// and source fetch, with component, step or source and log tails) when
// the module returns it; see images.PlainError.
func stepError(err error) error { return images.PlainError(err) }

// stack plans s and hands the plan to images.Execute, the executor
// `haloforge build` uses too.
func (m *Haloforge) stack(ctx context.Context, c *lib.Client, s sel) (*images.Stack, error) {
	trees, err := m.sourceTrees(ctx, c)
	if err != nil {
		return nil, err
	}
	p, err := m.makePlan(ctx, s, trees)
	if err != nil {
		return nil, err
	}
	spec, err := images.FromPlan(p)
	if err != nil {
		return nil, err
	}
	base, bases, from, err := m.baseContainer(ctx, c, spec)
	if err != nil {
		return nil, err
	}
	gm, err := m.gitMirror(ctx)
	if err != nil {
		return nil, err
	}
	return images.Execute(ctx, c, spec, images.Execution{Base: base, Bases: bases, BaseFrom: from, Sources: trees, Jobs: m.Jobs, Mirror: gm})
}

func (m *Haloforge) buildStack(ctx context.Context, s sel) (*Stack, error) {
	c, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	st, err := m.stack(ctx, c, s)
	if err != nil {
		return nil, err
	}
	if err := st.Sync(ctx); err != nil {
		return nil, stepError(err)
	}
	lid, err := st.Loader().ID(ctx)
	if err != nil {
		return nil, err
	}
	out := &Stack{Target: s.target, Loader: dag.LoadContainerFromID(dagger.ContainerID(lid))}
	for _, n := range st.Names() {
		ctr, _ := st.Image(n)
		id, err := ctr.ID(ctx)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", n, err)
		}
		man, _ := st.Manifest(n)
		mj, err := man.JSON()
		if err != nil {
			return nil, err
		}
		out.Names = append(out.Names, n)
		out.Refs = append(out.Refs, man.Ref)
		alias := ""
		if rn, ok := recipes.ParseImageRef(man.Ref); ok {
			alias = rn.Alias()
		}
		out.Aliases = append(out.Aliases, alias)
		out.Containers = append(out.Containers, dag.LoadContainerFromID(dagger.ContainerID(id)))
		out.Manifests = append(out.Manifests, string(mj))
	}
	return out, nil
}

func (m *Haloforge) build(ctx context.Context, component, variant, target string) (*dagger.Directory, error) {
	c, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	st, err := m.stack(ctx, c, sel{target: target, only: []string{component}, variants: []string{variant}})
	if err != nil {
		return nil, err
	}
	key := images.Component{Name: component, Variant: variant}.Key()
	if err := st.Builder().Sync(ctx, key); err != nil {
		return nil, stepError(err)
	}
	tree, err := st.Builder().Component(key)
	if err != nil {
		return nil, err
	}
	id, err := tree.ID(ctx)
	if err != nil {
		return nil, err
	}
	return dag.LoadDirectoryFromID(dagger.DirectoryID(id)), nil
}

func (m *Haloforge) plan(ctx context.Context, s sel) (string, error) {
	c, err := connect(ctx)
	if err != nil {
		return "", err
	}
	trees, err := m.sourceTrees(ctx, c)
	if err != nil {
		return "", err
	}
	p, err := m.makePlan(ctx, s, trees)
	if err != nil {
		return "", err
	}
	if err := m.markMirror(ctx, p); err != nil {
		return "", err
	}
	return string(p.JSON()), nil
}

// exportImages loads the stack's images into the Docker daemon behind
// docker through images.LoadInto, the loader of the executor.
func (s *Stack) exportImages(ctx context.Context, docker *dagger.Socket) (string, error) {
	c, err := connect(ctx)
	if err != nil {
		return "", err
	}
	sid, err := docker.ID(ctx)
	if err != nil {
		return "", fmt.Errorf("docker socket: %w", err)
	}
	lid, err := s.Loader.ID(ctx)
	if err != nil {
		return "", err
	}
	var imgs []images.LoadImage
	for i, n := range s.Names {
		id, err := s.Containers[i].ID(ctx)
		if err != nil {
			return "", fmt.Errorf("image %s: %w", n, err)
		}
		refs := []string{s.Refs[i]}
		if s.Aliases[i] != "" {
			refs = append(refs, s.Aliases[i])
		}
		imgs = append(imgs, images.LoadImage{Name: n, Refs: refs, Image: c.LoadContainerFromID(lib.ContainerID(id))})
	}
	return images.LoadInto(ctx, c.LoadContainerFromID(lib.ContainerID(lid)), c.LoadSocketFromID(lib.SocketID(sid)), imgs)
}
