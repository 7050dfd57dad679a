package images

import (
	"strings"
	"testing"

	"github.com/haloforge/haloforge/recipes"
)

func TestFromPlanSmoke(t *testing.T) {
	s := testSpec(t)
	if len(s.Components) != 2 || len(s.Images) != 2 {
		t.Fatalf("smoke spec has %d components, %d images; want 2 and 2", len(s.Components), len(s.Images))
	}
	c, ok := s.Component("llama.cpp/vulkan")
	if !ok {
		t.Fatal("no llama.cpp/vulkan component")
	}
	if c.Prefix() != "/opt/haloforge/llama.cpp/vulkan" || c.Dir() != "/src/llama.cpp" {
		t.Errorf("prefix %q dir %q", c.Prefix(), c.Dir())
	}
	if c.Heavy {
		t.Error("llama.cpp vulkan marked as a heavy (ROCm-class) compile")
	}
	pk := strings.Join(c.Toolchain.Packages, " ")
	if !strings.Contains(pk, "ccache") || !strings.Contains(pk, "glslc") {
		t.Errorf("toolchain packages %q lack ccache or glslc", pk)
	}
	last := c.Commands[len(c.Commands)-1]
	if last.Step != "verify" || !strings.Contains(strings.Join(last.Args, " "), "/opt/haloforge/llama.cpp/vulkan/bin/llama-bench") {
		t.Errorf("last command %+v does not verify the outputs", last)
	}
	im, err := s.Image("llama-vulkan")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(im.Ref, "haloforge/llama-vulkan:gfx1151-") || len(im.Copies) == 0 {
		t.Errorf("image %+v", im)
	}
	cpu, _ := s.Component("llama.cpp/cpu")
	if cpu.Toolchain.Name == c.Toolchain.Name {
		t.Error("different build packages share a toolchain name")
	}
}

func TestFromPlanFullStack(t *testing.T) {
	set, err := recipes.Default()
	if err != nil {
		t.Fatal(err)
	}
	target, _ := recipes.LookupTarget("gfx1151")
	p, err := recipes.MakePlan(set, recipes.MakeLock(set, nil), target, recipes.Selection{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromPlan(p)
	if err != nil {
		t.Fatalf("the full gfx1151 plan is not executable: %v", err)
	}
	var names []string
	for _, im := range s.Images {
		names = append(names, im.Name)
	}
	joined := " " + strings.Join(names, " ") + " "
	for _, want := range []string{"llama-cpu", "llama-vulkan", "llama-hip", "llama-hip-rocwmma"} {
		if !strings.Contains(joined, " "+want+" ") {
			t.Errorf("full stack lacks image %s; has %v", want, names)
		}
	}
	// The executor's heavy steps are exactly the recipes' heavy: ones.
	heavy := 0
	for _, st := range p.Steps {
		c, ok := s.Component(st.ID)
		if !ok {
			t.Fatalf("plan step %s has no spec component", st.ID)
		}
		if c.Heavy != st.Heavy {
			t.Errorf("%s: spec heavy %v, recipe heavy %v", st.ID, c.Heavy, st.Heavy)
		}
		if c.Heavy {
			heavy++
		}
	}
	if rock, ok := s.Component("therock/default"); !ok || !rock.Heavy || heavy == 0 {
		t.Errorf("therock/default missing or not heavy (recipes/components/therock.yaml says heavy: true); %d heavy steps", heavy)
	}
	if hip, ok := s.Component("llama.cpp/hip"); !ok || len(hip.Needs) == 0 {
		t.Errorf("llama.cpp/hip should need therock: %+v", hip.Needs)
	}
}

func TestFromPlanRejects(t *testing.T) {
	if _, err := FromPlan(nil); err == nil {
		t.Error("nil plan accepted")
	}
	p := testPlan(t)
	p.Steps[0].Source.Kind = "svn"
	if _, err := FromPlan(p); err == nil || !strings.Contains(err.Error(), `source kind "svn"`) {
		t.Errorf("unknown source kind: %v", err)
	}
}

func TestImageName(t *testing.T) {
	for ref, want := range map[string]string{
		"haloforge/llama-cpu:gfx1151-578587e74bb8": "llama-cpu",
		"registry:5000/x/y/pytorch:tag":            "pytorch",
		"bench":                                    "bench",
	} {
		if got := imageName(ref); got != want {
			t.Errorf("imageName(%q) = %q, want %q", ref, got, want)
		}
	}
}
