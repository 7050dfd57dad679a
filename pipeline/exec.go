package main

import (
	"context"
	"errors"
	"fmt"
	"os"

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

// baseContainer is the base image in the library's types, and where it came from.
func (m *Haloforge) baseContainer(ctx context.Context, c *lib.Client) (*lib.Container, string, error) {
	if m.BaseTarball != nil {
		id, err := m.BaseTarball.ID(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("base tarball: %w", err)
		}
		name, _ := m.BaseTarball.Name(ctx)
		return c.Container().Import(c.LoadFileFromID(lib.FileID(id))), "tarball:" + name, nil
	}
	return c.Container().From(m.Base), m.Base, nil
}

// overrides converts with-source entries for package images.
func (m *Haloforge) overrides(ctx context.Context, c *lib.Client) ([]images.SourceOverride, error) {
	var out []images.SourceOverride
	for _, s := range m.Sources {
		id, err := s.Dir.ID(ctx)
		if err != nil {
			return nil, fmt.Errorf("source override %s: %w", s.Component, err)
		}
		out = append(out, images.SourceOverride{Component: s.Component, Path: s.Path, Dir: c.LoadDirectoryFromID(lib.DirectoryID(id))})
	}
	return out, nil
}

// request builds the planning request: built-in recipes, the lock file.
func (m *Haloforge) request(ctx context.Context, c *lib.Client, s sel) (images.Request, error) {
	ov, err := m.overrides(ctx, c)
	if err != nil {
		return images.Request{}, err
	}
	set, err := m.recipeSet(ctx)
	if err != nil {
		return images.Request{}, err
	}
	var lock *recipes.Lock
	if m.Lock != nil {
		text, err := m.Lock.Contents(ctx)
		if err != nil {
			return images.Request{}, fmt.Errorf("read the stack lock: %w", err)
		}
		if lock, err = recipes.ParseLock(recipes.DefaultLockFile, []byte(text)); err != nil {
			return images.Request{}, err
		}
	}
	return images.Request{Target: s.target, Profile: s.profile, Only: s.only, Variants: s.variants,
		Set: set, Lock: lock, Sources: ov}, nil
}

// stepError keeps a failed step's message (component, step, log tail) when
// the module returns it: the generated dispatch code reports the innermost
// engine error of a wrapped chain, which would drop the component and step,
// so a *images.StepError is returned as a plain error with its full text.
func stepError(err error) error {
	var se *images.StepError
	if errors.As(err, &se) {
		return errors.New(se.Error())
	}
	return err
}

// recipeSet loads --recipes (exported into the module's container first) or
// the recipes built into the module.
func (m *Haloforge) recipeSet(ctx context.Context) (*recipes.Set, error) {
	if m.Recipes == nil {
		return recipes.Default()
	}
	dir, err := os.MkdirTemp("", "haloforge-recipes-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if _, err := m.Recipes.Export(ctx, dir); err != nil {
		return nil, fmt.Errorf("read --recipes: %w", err)
	}
	set, err := recipes.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("--recipes: %w", err)
	}
	return set, nil
}

func (m *Haloforge) stack(ctx context.Context, c *lib.Client, s sel) (*images.Stack, error) {
	req, err := m.request(ctx, c, s)
	if err != nil {
		return nil, err
	}
	spec, _, err := images.SpecFor(ctx, req)
	if err != nil {
		return nil, err
	}
	base, from, err := m.baseContainer(ctx, c)
	if err != nil {
		return nil, err
	}
	spec.Base.From = from
	jobs, err := images.LocalParallelism(m.Jobs)
	if err != nil {
		return nil, err
	}
	return images.BuildStack(ctx, c, images.StackOptions{Spec: spec, Base: base, Jobs: jobs, Sources: req.Sources})
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
	out := &Stack{Target: s.target}
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
	req, err := m.request(ctx, c, s)
	if err != nil {
		return "", err
	}
	p, err := images.MakePlan(ctx, req)
	if err != nil {
		return "", err
	}
	return string(p.JSON()), nil
}
