package images

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/haloforge/haloforge/recipes"
)

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
		c, err := componentOf(st)
		if err != nil {
			return Spec{}, err
		}
		c.Base = baseRef[st.Base]
		s.Components = append(s.Components, c)
		if st.Runtime != nil {
			im := imageOf(st, c.Key())
			im.Base = baseRef[st.Base]
			s.Images = append(s.Images, im)
		}
	}
	if err := s.Validate(); err != nil {
		return Spec{}, fmt.Errorf("plan for %s cannot be executed: %w", p.Target, err)
	}
	return s, nil
}

// sourceOf is the executor's form of a step's source.
func sourceOf(st recipes.Step) (Source, error) {
	switch st.Source.Kind {
	case "git":
		return Source{Git: st.Source.URL, Commit: st.Source.Commit, Ref: st.Source.Ref}, nil
	case "tarball":
		return Source{URL: st.Source.URL, SHA256: st.Source.SHA256}, nil
	case "path":
		return Source{URL: "local:" + st.Source.Path, SHA256: strings.TrimPrefix(st.Source.Digest, "sha256:")}, nil
	}
	return Source{}, fmt.Errorf("plan step %s: source kind %q is not one of git, tarball, path; regenerate the plan", st.ID, st.Source.Kind)
}

// componentOf is the build step of plan step st.
func componentOf(st recipes.Step) (Component, error) {
	src, err := sourceOf(st)
	if err != nil {
		return Component{}, err
	}
	c := Component{
		Name: st.Component, Variant: st.Variant, Version: st.Version, Source: src,
		CacheKey: st.Key, PrefixDir: st.Prefix, SrcDir: st.Source.Dir, Outputs: st.Outputs,
		// The recipe's heavy: bounds the step's jobs by memory.
		Heavy: st.Heavy,
		Env:   map[string]string{},
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
	return c, nil
}

// imageOf is the runtime image of plan step st (built as component key).
func imageOf(st recipes.Step, key string) Image {
	im := Image{Name: imageName(st.Runtime.Image), Ref: st.Runtime.Image,
		Packages: st.Runtime.Packages, Env: map[string]string{}, Labels: map[string]string{}}
	cs := map[string]bool{}
	for _, cp := range st.Runtime.Copies {
		im.Copies = append(im.Copies, Copy{From: cp.From, Path: cp.Path})
		if !cs[cp.From] {
			cs[cp.From] = true
			im.Components = append(im.Components, cp.From)
		}
	}
	if !cs[st.ID] {
		im.Components = append(im.Components, key)
	}
	for _, e := range st.Runtime.Env {
		im.Env[e.Name] = e.Value
	}
	for _, l := range st.Labels {
		im.Labels[l.Name] = l.Value
	}
	return im
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
