package images

import (
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/haloforge/haloforge/recipes"
)

// baseOf is the executor's view of a plan base: the image name the plan
// gives it (which carries the suite, snapshot and key), its name in
// recipes/base.yaml and its apt options.
func baseOf(b recipes.BaseStep) Base {
	return Base{Ref: b.Image, Name: b.Lock.Name, AptOptions: append([]string(nil), b.AptOptions...)}
}

// base returns the spec's base called ref ("" is the default).
func (s Spec) base(ref string) (Base, bool) {
	if ref == "" || ref == s.Base.Ref {
		return s.Base, true
	}
	for _, b := range s.Bases {
		if b.Ref == ref {
			return b, true
		}
	}
	return Base{}, false
}

// CheckBaseOrigin refuses a base the engine took from an unpinned registry
// tag: the plan's keys cover the base's archive pin, so the containers must
// start from that pinned base (imported from the debootstrap tarball made
// from recipes/base.yaml) or from a reference pinned by digest.
func CheckBaseOrigin(b Base) error {
	from := b.From
	if from == "" || strings.HasPrefix(from, "tarball:") || strings.Contains(from, "@sha256:") {
		return nil
	}
	name := b.Name
	if name == "" {
		name = b.Ref
	}
	return fmt.Errorf("base %s comes from the registry tag %q, which is not pinned: the plan builds on %s (%s in recipes/base.yaml, pinned by archive snapshot and InRelease sha256); "+
		"import that base as a tarball (--base-tarball, made by debootstrap from base.yaml) or pin the reference by digest (NAME@sha256:...)", name, from, b.Ref, name)
}

// WithBase gives the builder the container of a non-default base ref (one
// of Spec.Bases). Call it before building anything.
func (b *Builder) WithBase(ref string, ctr *dagger.Container) error {
	if _, ok := b.spec.base(ref); !ok {
		return fmt.Errorf("base %s is not a base of this plan; known: %s", ref, strings.Join(b.baseRefs(), ", "))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bases[ref] = ctr
	return nil
}

func (b *Builder) baseRefs() []string {
	out := []string{b.spec.Base.Ref}
	for _, x := range b.spec.Bases {
		out = append(out, x.Ref)
	}
	return out
}

// baseFor returns the container and definition of the base what builds on.
func (b *Builder) baseFor(what, ref string) (*dagger.Container, Base, error) {
	def, ok := b.spec.base(ref)
	if !ok {
		return nil, Base{}, fmt.Errorf("%s builds on base %s, which the plan does not define; regenerate the plan", what, ref)
	}
	if ref == "" || ref == b.spec.Base.Ref {
		return b.base, def, nil
	}
	ctr, ok := b.bases[ref]
	if !ok {
		return nil, Base{}, fmt.Errorf("%s builds on base %s (%s in recipes/base.yaml), but the executor was given only %s; give a base tarball that holds every base of the plan: haloforge image base -o FILE with the same selection, then --base-tarball FILE", what, ref, def.Name, b.spec.Base.Ref)
	}
	return ctr, def, nil
}

// MissingBase is the error for a build given no base: it names the plan's
// base and the two ways to give it.
func MissingBase(b Base) error {
	name := b.Name
	if name == "" {
		name = b.Ref
	}
	return fmt.Errorf("no base image given: the plan builds on %s (%s in recipes/base.yaml, pinned by archive snapshot and InRelease sha256); "+
		"make it with `haloforge image base -o FILE` (same --profile/--only/--variant) and pass --base-tarball FILE, or pass a digest-pinned reference --base NAME@sha256:DIGEST", b.Ref, name)
}
