package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/haloforge/haloforge/recipes"
)

// heavyComponents are ROCm-class builds bounded by memory (about 4 GB a job).
var heavyComponents = map[string]bool{
	"therock": true, "composable-kernel": true, "hipblaslt": true,
	"aotriton": true, "pytorch": true, "rocwmma": true,
}

// FromPlan turns a recipes plan into the spec images executes: one
// component per step, one runtime image per step with a runtime, toolchains
// from build packages (plus ccache), commands as the plan resolved them.
func FromPlan(p *recipes.Plan) (Spec, error) {
	if p == nil {
		return Spec{}, fmt.Errorf("no plan to execute")
	}
	s := Spec{Target: p.Target, LockDigest: p.LockDigest, Base: baseOf(p.Base)}
	baseRef := map[string]string{}
	for _, b := range p.Bases {
		s.Bases = append(s.Bases, baseOf(b))
		baseRef[b.Lock.Name] = b.Image
	}
	for _, st := range p.Steps {
		c := Component{
			Name: st.Component, Variant: st.Variant, Version: st.Version,
			CacheKey: st.Key, PrefixDir: st.Prefix, SrcDir: st.Source.Dir, Outputs: st.Outputs,
			Heavy: heavyComponents[st.Component] || strings.HasPrefix(st.Variant, "hip"),
			Env:   map[string]string{},
			Base:  baseRef[st.Base],
		}
		switch st.Source.Kind {
		case "git":
			c.Source = Source{Git: st.Source.URL, Commit: st.Source.Commit}
		case "tarball":
			c.Source = Source{URL: st.Source.URL, SHA256: st.Source.SHA256}
		case "path":
			c.Source = Source{URL: "local:" + st.Source.Path, SHA256: strings.TrimPrefix(st.Source.Digest, "sha256:")}
		default:
			return Spec{}, fmt.Errorf("plan step %s: source kind %q is not one of git, tarball, path; regenerate the plan", st.ID, st.Source.Kind)
		}
		// A plan step's Mounts are its transitive dependencies, each once,
		// in build order; they include its direct Needs.
		for _, m := range st.Mounts {
			c.Needs = append(c.Needs, m.From)
		}
		pkgs := append(append([]string{}, st.BuildPackages...), "ccache")
		c.Toolchain = Toolchain{Name: toolchainName(pkgs), Packages: uniqueSorted(pkgs)}
		for _, e := range st.Env {
			c.Env[e.Name] = e.Value
		}
		for _, cmd := range st.Commands {
			c.Commands = append(c.Commands, Command{Step: cmd.Phase, Shell: true, Args: []string{cmd.Run}})
		}
		if len(c.Outputs) > 0 {
			c.Commands = append(c.Commands, Command{Step: "verify", Args: append([]string{"ls", "-ld"}, c.Outputs...)})
		}
		s.Components = append(s.Components, c)
		if st.Runtime == nil {
			continue
		}
		im := Image{Name: imageName(st.Runtime.Image), Ref: st.Runtime.Image,
			Packages: st.Runtime.Packages, Env: map[string]string{}, Labels: map[string]string{}, Base: baseRef[st.Base]}
		cs := map[string]bool{}
		for _, cp := range st.Runtime.Copies {
			im.Copies = append(im.Copies, Copy{From: cp.From, Path: cp.Path})
			if !cs[cp.From] {
				cs[cp.From] = true
				im.Components = append(im.Components, cp.From)
			}
		}
		if !cs[st.ID] {
			im.Components = append(im.Components, c.Key())
		}
		for _, e := range st.Runtime.Env {
			im.Env[e.Name] = e.Value
		}
		for _, l := range st.Labels {
			im.Labels[l.Name] = l.Value
		}
		s.Images = append(s.Images, im)
	}
	if err := s.Validate(); err != nil {
		return Spec{}, fmt.Errorf("plan for %s cannot be executed: %w", p.Target, err)
	}
	return s, nil
}

// imageName is the short name of an image reference:
// haloforge/llama-cpu:gfx1151-578587e74bb8 -> llama-cpu.
func imageName(ref string) string {
	n := ref
	if i := strings.LastIndex(n, "/"); i >= 0 {
		n = n[i+1:]
	}
	if i := strings.Index(n, ":"); i >= 0 {
		n = n[:i]
	}
	return n
}

func toolchainName(pkgs []string) string {
	sum := sha256.Sum256([]byte(strings.Join(uniqueSorted(pkgs), "\n")))
	return "builder-" + hex.EncodeToString(sum[:6])
}

// Request selects what to plan and build.
type Request struct {
	Target   string
	Profile  string
	Only     []string
	Variants []string
	// Set and Lock are the recipes and the lock; Set nil means the recipes
	// built into haloforge, Lock nil one derived from them.
	Set  *recipes.Set
	Lock *recipes.Lock
	// Sources override pinned sources; their digests are read from the engine.
	Sources []SourceOverride
}

// MakePlan computes the recipes plan for a request, reading override digests
// from the engine (Directory.Digest) so the plan's keys cover them.
func MakePlan(ctx context.Context, r Request) (*recipes.Plan, error) {
	set := r.Set
	if set == nil {
		var err error
		if set, err = recipes.Default(); err != nil {
			return nil, err
		}
	}
	lock := r.Lock
	if lock == nil {
		lock = recipes.MakeLock(set, nil)
	}
	target := r.Target
	if target == "" {
		target = recipes.DefaultTarget
	}
	t, err := recipes.LookupTarget(target)
	if err != nil {
		return nil, err
	}
	ov := map[string]recipes.SourceOverride{}
	for _, o := range r.Sources {
		d, err := o.Dir.Digest(ctx)
		if err != nil {
			return nil, fmt.Errorf("source override %s=%s: read its content digest: %w (does the directory exist?)", o.Component, o.Path, err)
		}
		ov[o.Component] = recipes.SourceOverride{Path: o.Path, Digest: d}
	}
	return recipes.MakePlan(set, lock, t, recipes.Selection{Profile: r.Profile, Only: r.Only, Variants: r.Variants}, ov)
}

// SpecFor plans a request and converts the plan for execution.
func SpecFor(ctx context.Context, r Request) (Spec, *recipes.Plan, error) {
	p, err := MakePlan(ctx, r)
	if err != nil {
		return Spec{}, nil, err
	}
	s, err := FromPlan(p)
	return s, p, err
}
