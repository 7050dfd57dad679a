package recipes

import (
	"strings"
	"testing"
)

func TestImageNaming(t *testing.T) {
	key := "ebb0e566e45d11223344556677889900aabbccddeeff00112233445566778899"
	for _, tc := range []struct{ image, variant, target, ref, alias string }{
		{"llama", "cpu", "gfx1151", "haloforge/llama-cpu:gfx1151-ebb0e566e45d", "haloforge/llama-cpu:gfx1151"},
		{"llama", "hip-rocwmma", "gfx1100", "haloforge/llama-hip-rocwmma:gfx1100-ebb0e566e45d", "haloforge/llama-hip-rocwmma:gfx1100"},
		{"rbt", "default", "gfx1151", "haloforge/rbt:gfx1151-ebb0e566e45d", "haloforge/rbt:gfx1151"},
		{"rbt", "distro", "gfx1201", "haloforge/rbt-distro:gfx1201-ebb0e566e45d", "haloforge/rbt-distro:gfx1201"},
	} {
		img := VariantImage(tc.image, tc.variant)
		if got := ImageRef(img, tc.target, key); got != tc.ref {
			t.Errorf("ImageRef(%s, %s) = %s, want %s", img, tc.target, got, tc.ref)
		}
		if got := ImageAlias(img, tc.target); got != tc.alias {
			t.Errorf("ImageAlias(%s, %s) = %s, want %s", img, tc.target, got, tc.alias)
		}
		n, ok := ParseImageRef(tc.ref)
		if !ok || n.Image != img || n.Target != tc.target || n.Key != key[:12] || n.Alias() != tc.alias {
			t.Errorf("ParseImageRef(%s) = %+v, %v", tc.ref, n, ok)
		}
		a, ok := ParseImageRef(tc.alias)
		if !ok || a.Key != "" || a.Alias() != tc.alias {
			t.Errorf("ParseImageRef(%s) = %+v, %v", tc.alias, a, ok)
		}
	}
}

func TestParseImageRefRejects(t *testing.T) {
	for _, ref := range []string{
		"haloforge/runtime-smoke:sid",              // not a target tag
		"haloforge/base:trixie-20261121T091544Z",   // base images are not runtime images
		"haloforge/llama-cpu",                      // no tag
		"haloforge/llama-cpu:gfx9999",              // unknown target
		"haloforge/llama-cpu:gfx1151-EBB0E566E45D", // key not lowercase hex
		"haloforge/llama-cpu:gfx1151-ebb0e566",     // short key
		"other/llama-cpu:gfx1151",                  // another namespace
		"registry.lab/haloforge/llama-cpu:gfx1151", // a registry prefix
		"haloforge/llama-cpu@sha256:0123",          // digest reference
		"haloforge/a/b:gfx1151",                    // nested repository
		"haloforge/:gfx1151",
		"",
	} {
		if n, ok := ParseImageRef(ref); ok {
			t.Errorf("ParseImageRef(%q) = %+v, want not a plan image", ref, n)
		}
	}
}

// Every runtime image of a real plan is named by the rule, and its alias
// resolves back to it.
func TestPlanImagesFollowTheRule(t *testing.T) {
	p, _, err := PlanFor(Request{Recipes: "../recipes", Lock: "../stack.lock", Target: "gfx1151"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ims := p.Images()
	if len(ims) < 4 {
		t.Fatalf("plan has %d runtime images, want the whole stack's", len(ims))
	}
	seen := map[string]bool{}
	for _, im := range ims {
		if seen[im.Alias] {
			t.Errorf("alias %s names two images of one plan", im.Alias)
		}
		seen[im.Alias] = true
		st, ok := stepByID(p, im.Step)
		if !ok {
			t.Fatalf("no step %s", im.Step)
		}
		if want := ImageRef(im.Name, "gfx1151", st.Key); im.Ref != want {
			t.Errorf("%s: ref %s, want %s", im.Step, im.Ref, want)
		}
		if !strings.HasSuffix(st.BuildImage, ":gfx1151-"+st.Key[:12]) || st.BuildImage != ImageRef(im.Name+"-build", "gfx1151", st.Key) {
			t.Errorf("%s: build image %s does not follow the rule", im.Step, st.BuildImage)
		}
		got, ok := p.ImageByAlias(im.Alias)
		if !ok || got != im {
			t.Errorf("ImageByAlias(%s) = %+v, %v", im.Alias, got, ok)
		}
	}
	for _, a := range []string{"haloforge/llama-cpu:gfx1151", "haloforge/llama-vulkan:gfx1151", "haloforge/rbt:gfx1151", "haloforge/mamf-hipblaslt:gfx1151"} {
		if !seen[a] {
			t.Errorf("the plan makes no %s (the seed suite names it)", a)
		}
	}
	if _, ok := p.ImageByAlias("haloforge/llama-cpu:gfx1100"); ok {
		t.Error("an alias of another target resolved")
	}
}

func stepByID(p *Plan, id string) (Step, bool) {
	for _, s := range p.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

func TestBuildCommands(t *testing.T) {
	req := Request{Target: "gfx1151", Lock: "my lock/stack.lock", Selection: Selection{Profile: "smoke"},
		Sources: []SourceDir{{Component: "llama.cpp", Dir: "/src/llama.cpp"}}}
	h, d := BuildCommands(req, []string{"llama-cpu"}, "trixie.tar")
	wantH := "haloforge build --target gfx1151 --lock 'my lock/stack.lock' --profile smoke --base-tarball trixie.tar --source llama.cpp=/src/llama.cpp --image llama-cpu --export"
	wantD := "dagger call --base-tarball trixie.tar --lock 'my lock/stack.lock' with-source --component llama.cpp --dir /src/llama.cpp --path /src/llama.cpp build-stack --target gfx1151 --profile smoke export-images"
	if h != wantH {
		t.Errorf("build line\n got %s\nwant %s", h, wantH)
	}
	if d != wantD {
		t.Errorf("dagger line\n got %s\nwant %s", d, wantD)
	}
	h, d = BuildCommands(Request{}, nil, "")
	if h != "haloforge build --target gfx1151 --base-tarball BASE.tar --export" || d != "dagger call --base-tarball BASE.tar build-stack --target gfx1151 export-images" {
		t.Errorf("defaults: %s | %s", h, d)
	}
}
