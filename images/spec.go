package images

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Spec is what images executes: one GPU target, the components to build in
// dependency order, and the runtime images assembled from them. It is plain
// data, produced from the plan (see FromPlan) or written by hand in tests.
type Spec struct {
	// Target is the GPU target, for example gfx1151.
	Target string `json:"target"`
	// LockDigest identifies the stack.lock the plan was made from.
	LockDigest string `json:"lock_digest"`
	// Base describes the default base image builder and runtime images start from.
	Base Base `json:"base"`
	// Bases are the other bases components and images name (Component.Base).
	Bases []Base `json:"bases,omitempty"`
	// Components in dependency order (a component appears after all it needs).
	Components []Component `json:"components"`
	// Images are the runtime images, each assembled from component outputs.
	Images []Image `json:"images"`
}

// Base is the base image: a reference the engine can pull (through a
// registry mirror) or a docker-save/OCI tarball imported with Container.Import.
type Base struct {
	// Ref is the image reference, for example debian:sid.
	Ref string `json:"ref"`
	// Digest pins Ref when set (sha256:...).
	Digest string `json:"digest,omitempty"`
	// From says where the engine got the base in this build (a registry
	// reference or a tarball path), when it differs from Ref.
	From string `json:"from,omitempty"`
	// Name is the base's name in recipes/base.yaml (debian-trixie).
	Name string `json:"name,omitempty"`
	// AptOptions go to every apt-get run on this base.
	AptOptions []string `json:"apt_options,omitempty"`
}

// Component is one build step: a source tree built with a toolchain into an
// install tree under Prefix.
type Component struct {
	// Name is the component name (llama.cpp, therock, rocwmma, ...).
	Name string `json:"name"`
	// Variant distinguishes builds of one source (cpu, hip, vulkan...); may be empty.
	Variant string `json:"variant,omitempty"`
	// Version is the human version (b5600, 6.4.1).
	Version string `json:"version"`
	// Source is where the pinned source comes from.
	Source Source `json:"source"`
	// Needs lists the keys (Key()) of components whose install trees this
	// build needs (for example llama.cpp/hip needs therock).
	Needs []string `json:"needs,omitempty"`
	// Toolchain names the builder image (apt packages) this step runs in.
	Toolchain Toolchain `json:"toolchain"`
	// Commands run in order in the source directory; each is one argv. The
	// variables $PREFIX, $JOBS, $SRC and $BUILD are exported to them.
	Commands []Command `json:"commands"`
	// Env is extra environment for the build commands.
	Env map[string]string `json:"env,omitempty"`
	// Heavy marks ROCm-class compiles whose job count is bounded by memory.
	Heavy bool `json:"heavy,omitempty"`
	// CacheKey is the plan's content-derived key for this step, recorded in
	// provenance and used to name the step in logs.
	CacheKey string `json:"cache_key,omitempty"`
	// PrefixDir overrides the install prefix (the plan's prefix).
	PrefixDir string `json:"prefix,omitempty"`
	// SrcDir is where the source is mounted and commands run (default /src).
	SrcDir string `json:"src_dir,omitempty"`
	// Outputs are absolute paths that must exist after the last command.
	Outputs []string `json:"outputs,omitempty"`
	// Base is the Ref of the base this component builds on when it is not
	// Spec.Base (one of Spec.Bases).
	Base string `json:"base,omitempty"`
}

// Key identifies a component inside a Spec: name, or name/variant.
func (c Component) Key() string {
	if c.Variant == "" {
		return c.Name
	}
	return c.Name + "/" + c.Variant
}

// Prefix is where the component installs, inside builder and runtime images.
func (c Component) Prefix() string {
	if c.PrefixDir != "" {
		return c.PrefixDir
	}
	return "/opt/haloforge/" + slug(c.Key())
}

// Dir is where the component's source is mounted and its commands run.
func (c Component) Dir() string {
	if c.SrcDir != "" {
		return c.SrcDir
	}
	return SourceDir
}

// Source is a component's upstream source.
type Source struct {
	// Git URL and exact commit, or
	Git    string `json:"git,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Ref is the recipe's tag or branch at Commit, for messages.
	Ref string `json:"ref,omitempty"`
	// a tarball URL and its sha256.
	URL    string `json:"url,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// String is the source as people write it.
func (s Source) String() string {
	switch {
	case s.Git != "":
		return s.Git + "@" + s.Commit
	case s.URL != "":
		return s.URL + "#sha256=" + s.SHA256
	}
	return "(none)"
}

// Toolchain is a builder image: the base plus build packages. Components with
// equal toolchains share one builder container (and its cache).
type Toolchain struct {
	// Name labels the builder in logs (for example rocm-dev, vulkan-dev).
	Name string `json:"name"`
	// Packages are the Debian packages installed into the builder.
	Packages []string `json:"packages"`
}

// Command is one named build command.
type Command struct {
	// Step names the command in errors and logs: configure, build, install.
	Step string `json:"step"`
	// Args is the argv, run through sh -c when Shell is set.
	Args []string `json:"args"`
	// Shell runs Args[0] as a shell script (for $(hipconfig -l)-style flags).
	Shell bool `json:"shell,omitempty"`
}

// Image is a runtime image: base, runtime packages, the install trees of its
// components and their environment. It carries no compilers or headers.
type Image struct {
	// Name is the short image name used by `image --name` (llama-hip).
	Name string `json:"name"`
	// Ref is its exact reference (recipes.ImageRef:
	// haloforge/llama-hip:gfx1151-<key>); it is also exported under the
	// alias recipes.ImageAlias names.
	Ref string `json:"ref"`
	// Components lists the component keys whose install trees it carries.
	Components []string `json:"components"`
	// Packages are Debian runtime packages (no -dev packages, no compilers).
	Packages []string `json:"packages,omitempty"`
	// Env is the runtime environment (PATH additions, ROCBLAS_USE_HIPBLASLT...).
	Env map[string]string `json:"env,omitempty"`
	// Copies are the paths taken from component steps; empty means each
	// component's whole prefix.
	Copies []Copy `json:"copies,omitempty"`
	// Labels are extra OCI labels from the plan.
	Labels map[string]string `json:"labels,omitempty"`
	// Base is the Ref of the base the image starts from when it is not
	// Spec.Base (one of Spec.Bases).
	Base string `json:"base,omitempty"`
}

// Copy is one path copied from a component step's container.
type Copy struct {
	From string `json:"from"`
	Path string `json:"path"`
}

var slugRE = regexp.MustCompile(`[^a-z0-9.-]+`)

func slug(s string) string {
	return strings.Trim(slugRE.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// Validate checks that the spec is executable: unique keys, dependencies
// declared before use, images naming known components, no compiler packages
// in runtime images.
func (s Spec) Validate() error {
	if s.Target == "" {
		return fmt.Errorf("spec: target is empty; pass a GPU target such as gfx1151")
	}
	if s.Base.Ref == "" {
		return fmt.Errorf("spec: base.ref is empty; name the base image (for example debian:sid)")
	}
	seen := map[string]bool{}
	for i, c := range s.Components {
		k := c.Key()
		if c.Name == "" {
			return fmt.Errorf("spec: components[%d]: name is empty", i)
		}
		if seen[k] {
			return fmt.Errorf("spec: components[%d]: %s appears twice; give each variant its own name", i, k)
		}
		for _, n := range c.Needs {
			if !seen[n] {
				return fmt.Errorf("spec: component %s needs %s, which is not built before it; order components by dependency", k, n)
			}
		}
		if len(c.Commands) == 0 {
			return fmt.Errorf("spec: component %s has no commands; its recipe needs configure/build/install steps", k)
		}
		seen[k] = true
	}
	names := map[string]bool{}
	for i, im := range s.Images {
		if im.Name == "" || im.Ref == "" {
			return fmt.Errorf("spec: images[%d]: name and ref are required", i)
		}
		if names[im.Name] {
			return fmt.Errorf("spec: image %s appears twice", im.Name)
		}
		names[im.Name] = true
		for _, k := range im.Components {
			if !seen[k] {
				return fmt.Errorf("spec: image %s carries unknown component %s; known: %s", im.Name, k, strings.Join(s.keys(), ", "))
			}
		}
		for _, p := range im.Packages {
			if isBuildOnlyPackage(p) {
				return fmt.Errorf("spec: image %s installs build-only package %s; runtime images carry no compilers or headers, move it to the component's toolchain", im.Name, p)
			}
		}
	}
	return nil
}

func (s Spec) keys() []string {
	var ks []string
	for _, c := range s.Components {
		ks = append(ks, c.Key())
	}
	sort.Strings(ks)
	return ks
}

// Component returns the component with key k.
func (s Spec) Component(k string) (Component, bool) {
	for _, c := range s.Components {
		if c.Key() == k {
			return c, true
		}
	}
	return Component{}, false
}

// Image returns the runtime image named name.
func (s Spec) Image(name string) (Image, error) {
	var known []string
	for _, im := range s.Images {
		if im.Name == name {
			return im, nil
		}
		known = append(known, im.Name)
	}
	return Image{}, fmt.Errorf("no image %q in the stack for %s; known images: %s", name, s.Target, strings.Join(known, ", "))
}

// Closure returns the components needed to build key, dependencies first.
func (s Spec) Closure(keys ...string) ([]Component, error) {
	want := map[string]bool{}
	var visit func(k string) error
	visit = func(k string) error {
		if want[k] {
			return nil
		}
		c, ok := s.Component(k)
		if !ok {
			return fmt.Errorf("unknown component %q; known: %s", k, strings.Join(s.keys(), ", "))
		}
		want[k] = true
		for _, n := range c.Needs {
			if err := visit(n); err != nil {
				return err
			}
		}
		return nil
	}
	for _, k := range keys {
		if err := visit(k); err != nil {
			return nil, err
		}
	}
	var out []Component
	for _, c := range s.Components {
		if want[c.Key()] {
			out = append(out, c)
		}
	}
	return out, nil
}

// isBuildOnlyPackage reports Debian packages that must not reach a runtime
// image: compilers, -dev packages, build systems.
func isBuildOnlyPackage(p string) bool {
	switch p {
	case "gcc", "g++", "clang", "cmake", "ninja-build", "make", "build-essential",
		"hipcc", "glslc", "ccache", "git", "pkgconf", "pkg-config":
		return true
	}
	return strings.HasSuffix(p, "-dev") || strings.HasPrefix(p, "gcc-") ||
		strings.HasPrefix(p, "g++-") || strings.HasPrefix(p, "clang-") ||
		strings.HasPrefix(p, "llvm-") && strings.HasSuffix(p, "-dev")
}
