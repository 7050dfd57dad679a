package recipes

import "strings"

// Image references: the one naming rule for the images a plan produces,
// used by plan, build --export, bench, the Dagger module and the docs.
//
//   - haloforge/<image>:<target>-<key> is the exact reference: it names one
//     build of the image, <key> being the first 12 hex digits of the step's
//     cache key (recipes, lock, target and source overrides went into it).
//     Build images are haloforge/<image>-build:<target>-<key>.
//   - haloforge/<image>:<target> is the alias suites name. build --export
//     (and the module's export-images) tag it too, moved to the latest
//     build; bench resolves it through the plan of its lock, recipes,
//     target and source overrides to the exact reference and runs that.
//
// <image> is VariantImage: the recipe's image name, with -<variant> for
// every variant but "default" (llama-cpu, llama-hip-rocwmma, rbt,
// rbt-distro).

// ImageNamespace is the repository prefix of every image a plan produces.
const ImageNamespace = "haloforge"

// keyTagLen is how many hex digits of the cache key an exact tag carries.
const keyTagLen = 12

// DefaultVariant is the variant name that adds nothing to an image name.
const DefaultVariant = "default"

// VariantImage is the image name of variant of a recipe whose image is
// image: image for the default variant, image-variant for the others.
func VariantImage(image, variant string) string {
	if variant == DefaultVariant || variant == "" {
		return image
	}
	return image + "-" + variant
}

// ImageRef is the exact reference of image built for target from the
// step with cache key key: haloforge/<image>:<target>-<key[:12]>.
func ImageRef(image, target, key string) string {
	if len(key) > keyTagLen {
		key = key[:keyTagLen]
	}
	return ImageAlias(image, target) + "-" + key
}

// ImageAlias is the alias suites use for image on target:
// haloforge/<image>:<target>.
func ImageAlias(image, target string) string {
	return ImageNamespace + "/" + image + ":" + target
}

// ImageName is a parsed haloforge image reference.
type ImageName struct {
	Image  string // llama-cpu
	Target string // gfx1151
	Key    string // 12 hex digits for an exact reference, "" for an alias
}

// Alias is the alias of the image the reference names.
func (n ImageName) Alias() string { return ImageAlias(n.Image, n.Target) }

// ParseImageRef reads a reference made by ImageRef or ImageAlias. ok is
// false for any other reference (another repository, a tag that does not
// start with a known GPU target, a digest reference).
func ParseImageRef(ref string) (ImageName, bool) {
	rest, found := strings.CutPrefix(ref, ImageNamespace+"/")
	if !found || strings.Contains(rest, "@") {
		return ImageName{}, false
	}
	image, tag, found := strings.Cut(rest, ":")
	if !found || image == "" || strings.ContainsAny(image, "/:") {
		return ImageName{}, false
	}
	target, key, _ := strings.Cut(tag, "-")
	if _, err := LookupTarget(target); err != nil {
		return ImageName{}, false
	}
	if key != "" && (len(key) != keyTagLen || strings.Trim(key, "0123456789abcdef") != "") {
		return ImageName{}, false
	}
	return ImageName{Image: image, Target: target, Key: key}, true
}

// PlanImage is one runtime image a plan produces.
type PlanImage struct {
	Step  string // step id, llama.cpp/cpu
	Name  string // image name, llama-cpu
	Ref   string // exact reference
	Alias string // alias reference
}

// Images lists the runtime images of the plan in step order.
func (p *Plan) Images() []PlanImage {
	var out []PlanImage
	for _, st := range p.Steps {
		if st.Runtime == nil {
			continue
		}
		n, ok := ParseImageRef(st.Runtime.Image)
		if !ok {
			continue // plans name their images by ImageRef
		}
		out = append(out, PlanImage{Step: st.ID, Name: n.Image, Ref: st.Runtime.Image, Alias: n.Alias()})
	}
	return out
}

// ImageByAlias is the runtime image of the plan whose alias is alias.
func (p *Plan) ImageByAlias(alias string) (PlanImage, bool) {
	for _, im := range p.Images() {
		if im.Alias == alias {
			return im, true
		}
	}
	return PlanImage{}, false
}

// BuildCommands are the two command lines that build and load into Docker
// the images of req's plan (all when images is empty): haloforge build and
// the Dagger module's build-stack (which exports every image of the
// selection). baseTarball is the --base-tarball to show; "" shows a
// placeholder.
func BuildCommands(req Request, images []string, baseTarball string) (haloforge, dagger string) {
	if baseTarball == "" {
		baseTarball = "BASE.tar"
	}
	target := req.Target
	if target == "" {
		target = DefaultTarget
	}
	h := []string{"haloforge", "build", "--target", target}
	d := []string{"dagger", "call", "--base-tarball", baseTarball}
	if req.Lock != "" {
		h = append(h, "--lock", req.Lock)
		d = append(d, "--lock", req.Lock)
	}
	if req.Recipes != "" {
		h = append(h, "--recipes", req.Recipes)
		d = append(d, "--recipes", req.Recipes)
	}
	sel := req.Selection
	var bs []string
	if sel.Profile != "" {
		h = append(h, "--profile", sel.Profile)
		bs = append(bs, "--profile", sel.Profile)
	}
	if len(sel.Only) > 0 {
		h = append(h, "--only", strings.Join(sel.Only, ","))
		bs = append(bs, "--only", strings.Join(sel.Only, ","))
	}
	if len(sel.Variants) > 0 {
		h = append(h, "--variant", strings.Join(sel.Variants, ","))
		bs = append(bs, "--variant", strings.Join(sel.Variants, ","))
	}
	h = append(h, "--base-tarball", baseTarball)
	for _, s := range req.Sources {
		h = append(h, "--source", s.Component+"="+s.Dir)
		d = append(d, "with-source", "--component", s.Component, "--dir", s.Dir, "--path", s.Dir)
	}
	for _, im := range images {
		h = append(h, "--image", im)
	}
	h = append(h, "--export")
	d = append(d, "build-stack", "--target", target)
	d = append(d, bs...)
	d = append(d, "export-images")
	return shellJoin(h), shellJoin(d)
}

// shellJoin quotes the words that a POSIX shell would split or expand.
func shellJoin(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w == "" || strings.ContainsAny(w, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			w = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		out[i] = w
	}
	return strings.Join(out, " ")
}
