package recipes

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestToolchainsHold: the built-in recipes' toolchain requirements hold on
// the bases they build on, for every variant.
func TestToolchainsHold(t *testing.T) {
	set := mustDefault(t)
	var ids []string
	for _, r := range set.Recipes {
		for _, v := range r.Variants {
			ids = append(ids, r.Name+"/"+v.Name)
		}
	}
	if err := CheckToolchains(set, ids); err != nil {
		t.Fatalf("built-in recipes violate their toolchain constraints:\n%v", err)
	}
	// Each from-source ROCm component states at least one requirement.
	for _, name := range []string{"therock", "pytorch", "aotriton", "llama.cpp", "rocm-bandwidth-test"} {
		r, _ := set.Recipe(name)
		if len(r.Toolchain) == 0 {
			t.Errorf("%s declares no toolchain requirement", name)
		}
	}
}

// TestToolchainCMake4: a recipes copy whose default base provides CMake 4
// (Debian sid of 2026-10) fails to plan in milliseconds, naming TheRock,
// the upstream source, the base and the fix.
func TestToolchainCMake4(t *testing.T) {
	m := tree(t, edit{"components/therock.yaml", "heavy: true\n", "heavy: true\nbase: debian-sid\n"})
	set, err := LoadFS(m, "recipes")
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := LookupTarget("gfx1151")
	start := time.Now()
	_, err = MakePlan(set, MakeLock(set, nil), tg, Selection{Only: []string{"therock"}}, nil)
	took := time.Since(start)
	if err == nil {
		t.Fatal("plan on a CMake 4 base succeeded")
	}
	t.Logf("error after %s:\n%v", took, err)
	if !errors.Is(err, ErrConstraint) {
		t.Errorf("kind: %v is not ErrConstraint", err)
	}
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("%T is not an *InputError", err)
	}
	lines := strings.Split(err.Error(), "\n")
	want := []*regexp.Regexp{
		regexp.MustCompile(`^recipes/components/therock\.yaml:\d+: toolchain\[0\]\.version: therock: needs cmake >= 3\.25, < 4 \(TheRock docs/environment_setup_guide\.md at f3d0ac98\); base debian-sid@20261030 provides 4\.3\.4; fix: use base debian-trixie \(CMake 3\.31\) or ` + "`pip install 'cmake<4'`" + ` in the venv`),
		regexp.MustCompile(`^recipes/components/therock\.yaml:\d+: toolchain\[1\]\.version: therock: needs gcc < 15 \(.*TheRock #3477 #3517\); base debian-sid@20261030 provides 16\.2\.0; fix: use base debian-trixie \(GCC 14\)$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d violations, want %d", len(lines), len(want))
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("violation %d\n  %s\ndoes not match\n  %s", i, lines[i], re)
		}
	}
	if took > time.Second {
		t.Errorf("constraint check took %s; it must fail before anything builds", took)
	}
	// The line points at the requirement's version in the recipe.
	if got, wantLine := ie.Line, lineOfText(t, m, "components/therock.yaml", `version: ">= 3.25, < 4"`); got != wantLine {
		t.Errorf("line = %d, want %d", got, wantLine)
	}
}

// TestToolchainCases: table of requirement and base edits and what the check says.
func TestToolchainCases(t *testing.T) {
	const pt = "components/pytorch.yaml"
	tests := []struct {
		name  string
		edits []edit
		only  string
		kind  error
		want  string // regexp on the error, "" for none
	}{
		{name: "python 3.14 base breaks PyTorch 2.8",
			edits: []edit{{"base.yaml", "python: 3.13.5 ", "python: 3.14.0 "}},
			only:  "pytorch", kind: ErrConstraint,
			want: `^recipes/components/pytorch\.yaml:\d+: toolchain\[0\]\.version: pytorch: needs python >= 3\.9, < 3\.14 \(pytorch#156856: Python 3\.14 from 2\.9\.0; TheRock PR #4145: 2\.8 not supported\); base debian-trixie@20261121 provides 3\.14\.0; fix: use base debian-trixie`},
		{name: "boundary: cmake 3.99.99 still satisfies < 4",
			edits: []edit{{"base.yaml", "cmake: 3.31.6 ", "cmake: 3.99.99 "}},
			only:  "therock"},
		{name: "boundary: cmake 4.0.0 does not",
			edits: []edit{{"base.yaml", "cmake: 3.31.6 ", "cmake: 4.0.0 "}},
			only:  "therock", kind: ErrConstraint,
			want: `therock: needs cmake >= 3\.25, < 4 .*; base debian-trixie@20261121 provides 4\.0\.0;`},
		{name: "cmake below TheRock's minimum",
			edits: []edit{{"base.yaml", "cmake: 3.31.6 ", "cmake: 3.22.1 "}},
			only:  "therock", kind: ErrConstraint,
			want: `provides 3\.22\.1; fix:`},
		{name: "dependency's requirement is checked too",
			edits: []edit{{"base.yaml", "gcc: 14.2.0 ", "gcc: 15.1.0 "}},
			only:  "llama.cpp", kind: ErrConstraint,
			want: `therock: needs gcc < 15 .*provides 15\.1\.0`},
		{name: "base that does not record the tool",
			edits: []edit{{"base.yaml", "      make: 4.4.1       # make 4.4.1-2\n", ""}, {"components/therock.yaml", "  - tool: gcc\n", "  - tool: make\n    version: \">= 4\"\n    source: elfutils CMakeLists.txt\n  - tool: gcc\n"}},
			only:  "therock", kind: ErrConstraint,
			want: `therock: needs make >= 4 \(elfutils CMakeLists\.txt\); base debian-trixie@20261121 does not record a make version; fix: record the make version trixie provides under provides: in recipes/base\.yaml`},
		{name: "distro variant on the default base",
			edits: []edit{{"components/llama.cpp.yaml", "    base: debian-sid\n", ""}},
			only:  "llama.cpp", kind: ErrConstraint,
			want: `llama\.cpp/hip-distro: needs hip >= 6\.4, < 6\.5 \(Debian sid libamdhip64-dev 6\.4\.x .*\); base debian-trixie@20261121 does not record a hip version`},
		{name: "bad constraint is a load error", edits: []edit{{pt, `version: ">= 3.9, < 3.14"`, `version: "3.14 or older"`}},
			kind: ErrConstraint, want: `^recipes/components/pytorch\.yaml:\d+: toolchain\[0\]\.version: invalid version constraint "3\.14 or older"`},
		{name: "requirement without a source", edits: []edit{{pt, "    source: \"pytorch#156856: Python 3.14 from 2.9.0; TheRock PR #4145: 2.8 not supported\"\n", ""}},
			kind: ErrMalformed, want: `^recipes/components/pytorch\.yaml:\d+: toolchain\[0\]\.source: toolchain requirement for python has no source; fix: say where`},
		{name: "unparsable provided version", edits: []edit{{"base.yaml", "cmake: 3.31.6 ", "cmake: three "}},
			kind: ErrMalformed, want: `^recipes/base\.yaml:\d+: bases\[0\]\.provides\.cmake: cmake version "three" is not a dotted version`},
		{name: "unknown base", edits: []edit{{"components/therock.yaml", "heavy: true\n", "heavy: true\nbase: debian-bookworm\n"}},
			kind: ErrMalformed, want: `^recipes/components/therock\.yaml:\d+: base: unknown base "debian-bookworm"; fix: use one of the bases in base\.yaml: debian-trixie, debian-sid$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := LoadFS(tree(t, tc.edits...), "recipes")
			if err == nil {
				tg, _ := LookupTarget("gfx1151")
				_, err = MakePlan(set, MakeLock(set, nil), tg, Selection{Only: []string{tc.only}}, nil)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tc.kind) {
				t.Errorf("kind: %v is not %v", err, tc.kind)
			}
			if !regexp.MustCompile(tc.want).MatchString(err.Error()) {
				t.Errorf("message\n  %s\ndoes not match\n  %s", err, tc.want)
			}
		})
	}
}

// TestToolchainGolden: the message for every violation of the stack on
// Debian sid (CMake 4, GCC 16, Python 3.14), as `haloforge plan` prints it.
func TestToolchainGolden(t *testing.T) {
	m := tree(t, edit{"base.yaml", "  - name: debian-trixie\n", "  - name: debian-trixie-unused\n"})
	// Make sid the default base by moving the trixie entry behind it.
	data := string(m["base.yaml"].Data)
	i := strings.Index(data, "  # Debian 13")
	j := strings.Index(data, "  # Debian sid")
	m["base.yaml"].Data = []byte(data[:i] + data[j:] + data[i:j])
	set, err := LoadFS(m, "recipes")
	if err != nil {
		t.Fatal(err)
	}
	if set.Base.Name != "debian-sid" {
		t.Fatalf("default base = %s", set.Base.Name)
	}
	tg, _ := LookupTarget("gfx1151")
	_, err = MakePlan(set, MakeLock(set, nil), tg, Selection{}, nil)
	if err == nil {
		t.Fatal("the mid-2025 stack planned on Debian sid of 2026-10")
	}
	golden(t, "toolchain_sid.txt", []byte(err.Error()+"\n"))
}
