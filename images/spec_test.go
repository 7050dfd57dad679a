package images

import (
	"strings"
	"testing"
)

func TestSpecValidate(t *testing.T) {
	ok := testSpec(t)
	if err := ok.Validate(); err != nil {
		t.Fatalf("smoke spec invalid: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*Spec)
		want   string
	}{
		{"no target", func(s *Spec) { s.Target = "" }, "target is empty"},
		{"no base", func(s *Spec) { s.Base.Ref = "" }, "base.ref is empty"},
		{"duplicate component", func(s *Spec) { s.Components = append(s.Components, s.Components[0]) }, "appears twice"},
		{"dependency after use", func(s *Spec) { s.Components[0].Needs = []string{"llama.cpp/vulkan"} }, "not built before it"},
		{"no commands", func(s *Spec) { s.Components[1].Commands = nil }, "has no commands"},
		{"unknown image component", func(s *Spec) { s.Images[0].Components = []string{"pytorch"} }, "unknown component pytorch"},
		{"compiler in runtime", func(s *Spec) { s.Images[1].Packages = append(s.Images[1].Packages, "libvulkan-dev") }, "build-only package libvulkan-dev"},
		{"gcc in runtime", func(s *Spec) { s.Images[0].Packages = []string{"g++-14"} }, "build-only package g++-14"},
		{"duplicate image", func(s *Spec) { s.Images = append(s.Images, s.Images[0]) }, "appears twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSpec(t)
			tc.mutate(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestClosure(t *testing.T) {
	s := Spec{Target: "gfx1151", Base: Base{Ref: "debian:sid"}, Components: []Component{
		{Name: "therock", Commands: []Command{{Step: "b"}}},
		{Name: "rocwmma", Needs: []string{"therock"}, Commands: []Command{{Step: "b"}}},
		{Name: "llama.cpp", Variant: "cpu", Commands: []Command{{Step: "b"}}},
		{Name: "llama.cpp", Variant: "hip-rocwmma", Needs: []string{"therock", "rocwmma"}, Commands: []Command{{Step: "b"}}},
	}}
	got, err := s.Closure("llama.cpp/hip-rocwmma")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range got {
		keys = append(keys, c.Key())
	}
	if strings.Join(keys, ",") != "therock,rocwmma,llama.cpp/hip-rocwmma" {
		t.Errorf("closure = %v", keys)
	}
	if _, err := s.Closure("llama.cpp/metal"); err == nil || !strings.Contains(err.Error(), "known: llama.cpp/cpu") {
		t.Errorf("unknown key error = %v", err)
	}
	if _, err := s.Image("llama-metal"); err == nil {
		t.Error("unknown image accepted")
	}
}

func TestComponentPrefix(t *testing.T) {
	if p := (Component{Name: "llama.cpp", Variant: "hip-rocwmma"}).Prefix(); p != "/opt/haloforge/llama.cpp-hip-rocwmma" {
		t.Errorf("prefix %q", p)
	}
	if p := (Component{Name: "Composable Kernel"}).Prefix(); p != "/opt/haloforge/composable-kernel" {
		t.Errorf("prefix %q", p)
	}
}
