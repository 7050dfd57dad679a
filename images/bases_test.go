package images

import (
	"strings"
	"testing"

	"github.com/haloforge/haloforge/recipes"
)

func TestCheckBaseOrigin(t *testing.T) {
	ref := "haloforge/base:trixie-20261121T091544Z-19020d0ca5b2"
	tests := []struct {
		from string
		want string // "" = accepted
	}{
		{"", ""},
		{"tarball:/var/cache/haloforge/rootfs-trixie.tar", ""},
		{"docker.io/library/debian@sha256:" + strings.Repeat("a", 64), ""},
		{"debian:sid", `base debian-trixie comes from the registry tag "debian:sid", which is not pinned: the plan builds on ` + ref},
		{"debian:trixie", `import that base as a tarball (--base-tarball, made by debootstrap from base.yaml) or pin the reference by digest`},
	}
	for _, tc := range tests {
		err := CheckBaseOrigin(Base{Ref: ref, Name: "debian-trixie", From: tc.from})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: unexpected error %v", tc.from, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want it to contain %q", tc.from, err, tc.want)
		}
	}
}

// TestFromPlanBases: the distro provider's steps and images build on the
// plan's sid base, everything else on the default base, and each base
// brings its own apt options.
func TestFromPlanBases(t *testing.T) {
	set, err := recipes.Default()
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := recipes.LookupTarget("gfx1151")
	p, err := recipes.MakePlan(set, recipes.MakeLock(set, nil), tg, recipes.Selection{Only: []string{"llama.cpp", "rocm-bandwidth-test"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromPlan(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Bases) != 1 || s.Bases[0].Name != "debian-sid" || !strings.HasPrefix(s.Bases[0].Ref, "haloforge/base:sid-20261030T080801Z-") {
		t.Fatalf("bases = %+v", s.Bases)
	}
	if s.Base.Name != "debian-trixie" || len(s.Base.AptOptions) != 0 {
		t.Errorf("default base = %+v", s.Base)
	}
	if got := s.Bases[0].AptOptions; len(got) != 1 || got[0] != "Acquire::Check-Valid-Until=false" {
		t.Errorf("sid apt options = %v", got)
	}
	for _, c := range s.Components {
		onSid := c.Variant == "hip-distro" || c.Variant == "distro"
		if (c.Base == s.Bases[0].Ref) != onSid {
			t.Errorf("%s builds on %q", c.Key(), c.Base)
		}
	}
	for _, im := range s.Images {
		onSid := strings.Contains(im.Name, "distro")
		if (im.Base == s.Bases[0].Ref) != onSid {
			t.Errorf("image %s starts from %q", im.Name, im.Base)
		}
	}
}

func TestAptInstallArgvOptions(t *testing.T) {
	plain := AptInstallArgv([]string{"cmake"})[2]
	if strings.Contains(plain, " -o ") {
		t.Errorf("no options given, script has one:\n%s", plain)
	}
	withOpt := AptInstallArgv([]string{"cmake"}, "Acquire::Check-Valid-Until=false")[2]
	for _, want := range []string{"apt-get -o Acquire::Check-Valid-Until=false update -qq", "apt-get -o Acquire::Check-Valid-Until=false install -y -qq --no-install-recommends cmake"} {
		if !strings.Contains(withOpt, want) {
			t.Errorf("script lacks %q:\n%s", want, withOpt)
		}
	}
}
