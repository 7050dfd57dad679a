package runtime

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/images/base"
	"github.com/haloforge/haloforge/internal/dockertest"
)

func TestParseProvenance(t *testing.T) {
	good := "apt noise\n" + marker + "\nllama.cpp-tools=1:0.7.0+dfsg-2\nlibggml0=0.27.0-1\n---\nversion: 0.7.0 (build 11669, commit Debian)\nbuilt with GNU 16.2.0 for Linux x86_64\n"
	tests := []struct {
		name, out, pkgs, llama, err string
	}{
		{"ok", good, "libggml0=0.27.0-1,llama.cpp-tools=1:0.7.0+dfsg-2", "version: 0.7.0 (build 11669, commit Debian); built with GNU 16.2.0 for Linux x86_64", ""},
		{"no marker", "E: Unable to locate package\n", "", "", "provenance block missing"},
		{"no version", marker + "\nllama.cpp-tools=1\n", "", "", "llama-bench version missing"},
		{"no llama-bench", marker + "\nllama.cpp-tools=1\n---\nsh: llama-bench: not found\n", "", "", "provenance incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkgs, llama, err := parseProvenance(tt.out)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || pkgs != tt.pkgs || llama != tt.llama {
				t.Fatalf("got %q %q %v", pkgs, llama, err)
			}
		})
	}
}

func TestInputsChangeWithPackages(t *testing.T) {
	a := Smoke(t.TempDir(), nil)
	b := a
	b.Packages = append([]string{"vulkan-tools"}, a.Packages...)
	if a.Inputs("sha256:x") == b.Inputs("sha256:x") || a.Inputs("sha256:x") == a.Inputs("sha256:y") {
		t.Error("inputs digest ignores packages or base")
	}
	if a.Base.Inputs() != base.Sid(t.TempDir(), nil).Inputs() {
		t.Error("base inputs depend on the cache directory")
	}
}

// TestEnsureIdempotent: with the smoke image built (scripts/test.sh builds it
// first), Ensure finds it by its inputs label and builds nothing.
func TestEnsureIdempotent(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, SmokeRef)
	ctx := context.Background()
	before, err := dc.ImageInspect(ctx, SmokeRef)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	info, err := Smoke(t.TempDir(), nil).Ensure(ctx, dc)
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != before.ID {
		t.Errorf("image rebuilt: %s -> %s", before.ID, info.ID)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Ensure of an existing image took %s", d)
	}
	for _, k := range []string{base.LabelInputs, base.LabelCreated, LabelPackages, LabelLlamaBench, LabelBaseDigest} {
		if info.Labels[k] == "" {
			t.Errorf("label %s missing", k)
		}
	}
	if !strings.Contains(info.Labels[LabelPackages], "llama.cpp-tools=") || !strings.Contains(info.Labels[LabelPackages], "mesa-vulkan-drivers=") {
		t.Errorf("packages label %q", info.Labels[LabelPackages])
	}
}

// TestScriptAptOptionsFromBase: the smoke script's apt-get options are the
// sid base's apt_options from recipes/base.yaml, not a constant.
func TestScriptAptOptionsFromBase(t *testing.T) {
	s := Smoke(t.TempDir(), nil)
	if !strings.Contains(s.script(), "apt-get -o Acquire::Check-Valid-Until=false install -y") {
		t.Errorf("smoke script lacks base.yaml's apt option:\n%s", s.script())
	}
	s.Base.AptOptions = nil
	if strings.Contains(s.script(), "Check-Valid-Until") {
		t.Errorf("option not taken from the base:\n%s", s.script())
	}
}
