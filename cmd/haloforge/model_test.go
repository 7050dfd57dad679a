package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModelTinyAndInspect(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.gguf")
	out, err := runCLI(t, "model", "tiny", "--type", "q8_0", "-o", p, "--seed", "3", "--n-layer", "2")
	if err != nil || !strings.Contains(out, "wrote "+p) || !strings.Contains(out, "file_type 7, 2 layers") {
		t.Fatalf("tiny: %v\n%s", err, out)
	}
	out, err = runCLI(t, "model", "inspect", p)
	if err != nil || !strings.Contains(out, "general.architecture") || !strings.Contains(out, "blk.1.ffn_down.weight") {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	// A truncated copy is rejected with the file named.
	b, _ := os.ReadFile(p)
	cut := filepath.Join(dir, "cut.gguf")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runCLI(t, "model", "inspect", cut)
	if err == nil || !strings.Contains(err.Error(), cut) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated file: %v", err)
	}
	if _, err := runCLI(t, "model", "tiny", "--type", "q5_k", "-o", filepath.Join(dir, "x.gguf")); err == nil || !strings.Contains(err.Error(), "unknown tensor type") {
		t.Fatalf("bad type: %v", err)
	}
}
