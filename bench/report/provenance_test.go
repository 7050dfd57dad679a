package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/bench"
)

// TestImageProvenance: images built by the pipeline (lock-digest label) are
// listed with alias, id, lock and component version; others are not.
func TestImageProvenance(t *testing.T) {
	run := bench.Run{ID: "r1", Suite: "smoke-stack", Images: map[string]bench.ImageInfo{
		"haloforge/llama-cpu:gfx1151-ebb0e566e45d": {Ref: "haloforge/llama-cpu:gfx1151-ebb0e566e45d", Alias: "haloforge/llama-cpu:gfx1151",
			ID: "sha256:0123456789abcdef0123", Labels: map[string]string{
				labelLockDigest: "sha256:81bc81d65239dffea4bd", labelComponent: "llama.cpp", labelVersion: "b5600", labelRevision: "sha256:54776e1108b0aaaa"}},
		"haloforge/runtime-smoke:sid": {Ref: "haloforge/runtime-smoke:sid", ID: "sha256:d9350f12f54c", Labels: map[string]string{"x": "y"}},
	}}
	rep := Build(run, Target{})
	if len(rep.Images) != 1 || rep.Images[0].Version != "b5600" || rep.Images[0].Alias != "haloforge/llama-cpu:gfx1151" {
		t.Fatalf("images: %+v", rep.Images)
	}
	var b bytes.Buffer
	if err := rep.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	want := "| haloforge/llama-cpu:gfx1151-ebb0e566e45d | haloforge/llama-cpu:gfx1151 | sha256:0123456789ab | sha256:81bc81d65239 | llama.cpp b5600 (sha256:54776e1108b0) |"
	if !strings.Contains(b.String(), "## Images") || !strings.Contains(b.String(), want) || strings.Contains(b.String(), "runtime-smoke") {
		t.Errorf("markdown lacks %q or lists the smoke image:\n%s", want, b.String())
	}
}
