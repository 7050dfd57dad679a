package main

import (
	"strings"
	"testing"
)

// TestBuildBadInput checks the input errors build reports before it needs a
// Dagger engine: each is exit status 2 with a message naming the fix.
func TestBuildBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown target", []string{"build", "--target", "gfx9999"}, "gfx9999"},
		{"source without =", []string{"build", "--source", "llama.cpp"}, "want NAME=DIR"},
		{"source empty dir", []string{"build", "--source", "llama.cpp="}, "want NAME=DIR"},
		{"source missing dir", []string{"build", "--source", "llama.cpp=" + dir + "/nope"}, "not a directory"},
		{"source twice", []string{"build", "--source", "llama.cpp=" + dir, "--source", "llama.cpp=" + dir}, "given twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runPlanCLI(t, "", tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", stderr, tc.want)
			}
		})
	}
}

func TestBuildHelpTeaches(t *testing.T) {
	out, _, code := runPlanCLI(t, "", "build", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Examples:", "--source llama.cpp=", "_EXPERIMENTAL_DAGGER_RUNNER_HOST", "--export", "--jobs"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
