package check

import (
	"reflect"
	"strings"
	"testing"
)

func TestCMakeDecls(t *testing.T) {
	const text = `cmake_minimum_required(VERSION 3.21)
project(Demo VERSION 1.2.3 LANGUAGES CXX HIP)
include(CTest)
include(GNUInstallDirs)
# option(COMMENTED_OUT "not real" ON)
#[[ option(BRACKET_COMMENT "not real" ON) ]]
option(DEMO_FAST "fast path" OFF)
OPTION (DEMO_UPPER "upper-case command" ON)
cmake_dependent_option(DEMO_DEP "dependent" ON
    "DEMO_FAST" OFF)
set(DEMO_ARCH "gfx1100;gfx1151;gfx942" CACHE STRING "targets")
set(DEMO_PLAIN value)
set(DEMO_MSG "CACHE is a word here")
message(STATUS "option(DEMO_IN_STRING) ${DEMO_READ_IN_STRING}")
if (DEMO_BARE_READ AND NOT DEFINED DEMO_DEFINED_READ)
  find_package(hip REQUIRED)
endif()
set(X [=[ option(DEMO_IN_BRACKET) ]=])
string(REPLACE ")" "(" Y "${Z}")
`
	c := NewCMake()
	c.Add("CMakeLists.txt", text)
	want := map[string]string{
		"DEMO_FAST": "option", "DEMO_UPPER": "option", "DEMO_DEP": "cmake_dependent_option",
		"DEMO_ARCH": "cache", "BUILD_TESTING": "ctest",
	}
	got := map[string]string{}
	for n, d := range c.Decls {
		got[n] = d.Kind
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decls = %v, want %v", got, want)
	}
	if d := c.Decls["DEMO_DEP"]; d.Line != 9 || d.File != "CMakeLists.txt" {
		t.Errorf("DEMO_DEP at %+v, want line 9", d.Ref)
	}
	if d := c.Decls["DEMO_ARCH"]; d.Line != 11 {
		t.Errorf("DEMO_ARCH at line %d, want 11", d.Line)
	}
	for _, r := range []string{"DEMO_READ_IN_STRING", "DEMO_BARE_READ", "DEMO_DEFINED_READ", "Z", "DEMO_PLAIN"} {
		if !c.Declared(r) {
			t.Errorf("%s not recorded as read", r)
		}
	}
	for _, r := range []string{"COMMENTED_OUT", "BRACKET_COMMENT", "DEMO_IN_STRING", "DEMO_IN_BRACKET"} {
		if c.Declared(r) {
			t.Errorf("%s recorded though it is in a comment or string", r)
		}
	}
	if g := c.GFX["CMakeLists.txt"]; !reflect.DeepEqual(g, []string{"gfx1100", "gfx1151", "gfx942"}) {
		t.Errorf("gfx = %v", g)
	}
	for _, u := range []string{"language:HIP", "language:CXX", "package:hip", "include:gnuinstalldirs", "include:ctest"} {
		if !c.Uses[u] {
			t.Errorf("uses lacks %s: %v", u, c.Uses)
		}
	}
}

func TestParseCommandsLines(t *testing.T) {
	cmds := ParseCommands("a(x)\n\nb(\"multi\nline\" y)\n  c ( [[z\n]] )\nd(\"unterminated")
	var names []string
	var lines []int
	for _, c := range cmds {
		names = append(names, c.Name)
		lines = append(lines, c.Line)
	}
	if !reflect.DeepEqual(names, []string{"a", "b", "c", "d"}) || !reflect.DeepEqual(lines, []int{1, 3, 5, 7}) {
		t.Errorf("commands %v at %v", names, lines)
	}
	if a := cmds[1].Args; len(a) != 2 || a[0].Text != "multi\nline" || !a[0].Quoted || a[1].Text != "y" {
		t.Errorf("b args = %+v", a)
	}
	if a := cmds[2].Args; len(a) != 1 || a[0].Text != "z\n" {
		t.Errorf("c args = %+v", a)
	}
}

func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{
		"option(A \"x\" ON)", "set(B 1 CACHE BOOL \"\")", "#[[", "[[", "a(\"", "a(((", "x([=[ ]=] ${Y})",
		"cmake_dependent_option(C \"\" ON \"A\" OFF)\n# c\nif(D)\nendif()",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c := NewCMake()
		c.Add("f.cmake", text)
		lines := strings.Count(text, "\n") + 1
		for n, d := range c.Decls {
			if !identRE.MatchString(n) || d.Line < 1 || d.Line > lines {
				t.Fatalf("decl %q at line %d of %d", n, d.Line, lines)
			}
			if d.Kind != "ctest" && !strings.Contains(text, n) {
				t.Fatalf("decl %q not in the text", n)
			}
		}
		for n, r := range c.Reads {
			if !strings.Contains(text, n) || r.Line < 1 || r.Line > lines {
				t.Fatalf("read %q at line %d of %d", n, r.Line, lines)
			}
		}
	})
}
