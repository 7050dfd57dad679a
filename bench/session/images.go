package session

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/recipes"
)

// StackImages is the plan bench resolves a suite's image aliases through:
// the plan `haloforge build` makes of the same lock, recipes, target,
// profile and source overrides, and the commands that build its images.
type StackImages struct {
	Plan *recipes.Plan
	// Lock is the plan's lock; LockFile where it was read ("" when derived
	// from the recipes).
	Lock     *recipes.Lock
	LockFile string
	// Profile is the suite's profile the plan was made for.
	Profile string
	// Info is the plan's provenance (digest, step keys), recorded with a
	// run whose images were resolved through it; nil records the plan of
	// the lock alone.
	Info *bench.StackInfo
	// Commands returns the haloforge build and dagger call lines that
	// build and load the named images of the plan.
	Commands func(images []string) (build, dagger string)
}

// Resolved is how a case's image reference was chosen.
type Resolved struct {
	// Alias is the reference the suite names (haloforge/<image>:<target>)
	// when the image was resolved through the plan.
	Alias string
	// Image is the plan's image (step, name, exact reference).
	Image recipes.PlanImage
	// Override is the backend whose --image BACKEND=REF chose the image.
	Override string
	stack    *StackImages
}

// ResolveImages chooses the image every case runs: --image BACKEND=REF
// (overrides) replaces the backend's suite image; a suite image named by
// the alias haloforge/<image>:<target> becomes the exact reference of that
// image in the plan stack(profile) returns (asked for only when some case
// needs it; a nil stack leaves aliases as named); any other reference runs
// as named. It returns the cases with
// their images replaced and how each resolved reference was chosen.
func ResolveImages(s *suite.Suite, cases []suite.Case, target string, overrides map[string]string, stack func(profile string) (*StackImages, error)) ([]suite.Case, map[string]Resolved, error) {
	for b, ref := range overrides {
		if _, ok := s.Backends[b]; !ok {
			return nil, nil, fmt.Errorf("--image %s=%s: suite %s has no backend %q; its backends: %s", b, ref, s.Name, b, strings.Join(slices.Sorted(maps.Keys(s.Backends)), ", "))
		}
		if strings.TrimSpace(ref) == "" {
			return nil, nil, fmt.Errorf("--image %s=: give an image reference, e.g. --image %s=haloforge/llama-cpu:gfx1151-0123456789ab", b, b)
		}
	}
	out := make([]suite.Case, len(cases))
	how := map[string]Resolved{}
	var st *StackImages
	for i, c := range cases {
		if ref, ok := overrides[c.Backend]; ok && c.Image == s.Backends[c.Backend].Image {
			c.Image = ref
			how[ref] = Resolved{Override: c.Backend}
			out[i] = c
			continue
		}
		n, ok := recipes.ParseImageRef(c.Image)
		if !ok || n.Key != "" || stack == nil {
			out[i] = c
			continue
		}
		if n.Target != target {
			return nil, nil, fmt.Errorf("case %s: suite %s names %s, an image for %s, but this run is for --target %s: pass --target %s", c.ID, s.Name, c.Image, n.Target, target, n.Target)
		}
		if st == nil {
			var err error
			if st, err = stack(s.Profile); err != nil {
				return nil, nil, fmt.Errorf("suite %s names %s, which bench resolves through the build plan: %w", s.Name, c.Image, err)
			}
		}
		im, ok := st.Plan.ImageByAlias(c.Image)
		if !ok {
			return nil, nil, fmt.Errorf("case %s: %s is not an image of the plan (target %s, profile %q; it makes %s): fix the suite's image, or run another image with --image %s=REF", c.ID, c.Image, st.Plan.Target, s.Profile, aliases(st.Plan), c.Backend)
		}
		c.Image = im.Ref
		how[im.Ref] = Resolved{Alias: n.Alias(), Image: im, stack: st}
		out[i] = c
	}
	return out, how, nil
}

func aliases(p *recipes.Plan) string {
	var a []string
	for _, im := range p.Images() {
		a = append(a, im.Alias)
	}
	if len(a) == 0 {
		return "no runtime image"
	}
	return strings.Join(a, ", ")
}

// stackOf is the plan the images were resolved through, if any.
func stackOf(how map[string]Resolved) *StackImages {
	for _, r := range how {
		if r.stack != nil {
			return r.stack
		}
	}
	return nil
}

// lockOf is the lock of the plan the images were resolved through, if any.
func lockOf(how map[string]Resolved) *recipes.Lock {
	if st := stackOf(how); st != nil {
		return st.Lock
	}
	return nil
}

// MissingImageError says which resolved images are not in Docker and names
// the commands that build them.
type MissingImageError struct {
	Missing []MissingImage
}

// MissingImage is one image bench would run that Docker does not have.
type MissingImage struct {
	Ref      string
	Resolved Resolved
	// AliasKey is the cache key label of the image the alias names now
	// ("" when the alias is not in Docker).
	AliasKey string
	Err      error
}

func (e *MissingImageError) Error() string {
	var b strings.Builder
	var names []string
	var stack *StackImages
	for i, m := range e.Missing {
		if i > 0 {
			b.WriteString("\n")
		}
		r := m.Resolved
		if r.stack == nil {
			fmt.Fprintf(&b, "image %s (--image %s=%s) not found (%v): load or build it first", m.Ref, r.Override, m.Ref, m.Err)
			continue
		}
		stack = r.stack
		names = append(names, r.Image.Name)
		p := r.stack.Plan
		lock := r.stack.LockFile
		if lock == "" {
			lock = "derived from the recipes"
		}
		fmt.Fprintf(&b, "image %s not found: the suite's %s resolves through the plan (lock %s %s, target %s", m.Ref, r.Alias, lock, shortDigest(p.LockDigest), p.Target)
		if r.stack.Profile != "" {
			fmt.Fprintf(&b, ", profile %s", r.stack.Profile)
		}
		fmt.Fprintf(&b, ") to %s of step %s", m.Ref, r.Image.Step)
		if m.AliasKey != "" {
			fmt.Fprintf(&b, "; %s in Docker is another build (cache key %s)", r.Alias, shortDigest(m.AliasKey))
		} else {
			fmt.Fprintf(&b, "; %s is not in Docker either", r.Alias)
		}
	}
	if stack != nil {
		build, dagger := stack.Commands(names)
		fmt.Fprintf(&b, "\nBuild them with\n  %s\nor\n  %s\nor run other images with --image BACKEND=REF", build, dagger)
	}
	return b.String()
}

func shortDigest(d string) string {
	s := strings.TrimPrefix(d, "sha256:")
	if len(s) > 12 {
		s = s[:12]
	}
	if strings.HasPrefix(d, "sha256:") {
		return "sha256:" + s
	}
	return s
}

// EnsureImages checks every image the cases use exists, building the smoke
// runtime image when it is missing, and returns their provenance: the
// reference run, the alias it was resolved from, the image id and digest
// and the labels.
func EnsureImages(ctx context.Context, d runtime.Docker, home string, cases []suite.Case, how map[string]Resolved, noBuild bool, log io.Writer) (map[string]bench.ImageInfo, error) {
	var refs []string
	for _, c := range cases {
		if !slices.Contains(refs, c.Image) {
			refs = append(refs, c.Image)
		}
	}
	out := map[string]bench.ImageInfo{}
	missing := &MissingImageError{}
	for _, ref := range refs {
		img, err := d.ImageInspect(ctx, ref)
		if err != nil && ref == runtime.SmokeRef && !noBuild {
			_, _ = fmt.Fprintf(log, "image %s missing: building it (debootstrap Debian sid + apt-get, a few minutes the first time)\n", ref)
			info, err := runtime.Smoke(bench.ImageCacheDir(home), log).Ensure(ctx, d)
			if err != nil {
				return nil, err
			}
			out[ref] = info
			continue
		}
		if err != nil {
			r, ok := how[ref]
			if !ok {
				return nil, fmt.Errorf("image %s not found (%w): build it first (haloforge image smoke for the smoke image; haloforge build --export for the stack's images, see haloforge build --help)", ref, err)
			}
			m := MissingImage{Ref: ref, Resolved: r, Err: err}
			if r.Alias != "" {
				if a, aerr := d.ImageInspect(ctx, r.Alias); aerr == nil && a.Config != nil {
					m.AliasKey = a.Config.Labels[recipes.CacheKeyLabel]
				}
			}
			missing.Missing = append(missing.Missing, m)
			continue
		}
		info := bench.ImageInfo{Ref: ref, ID: img.ID, Alias: how[ref].Alias}
		if img.Descriptor != nil {
			info.Digest = img.Descriptor.Digest.String()
		} else if len(img.RepoDigests) > 0 {
			info.Digest = img.RepoDigests[0]
		}
		if img.Config != nil {
			info.Labels = img.Config.Labels
		}
		out[ref] = info
	}
	if len(missing.Missing) > 0 {
		return nil, missing
	}
	return out, nil
}
