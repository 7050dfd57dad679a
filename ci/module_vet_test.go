package ci

import (
	"os/exec"
	"testing"
)

// TestModuleVets compiles and vets the Dagger module (pipeline/, its own Go
// module) from a fresh clone: its generated client (dagger.gen.go,
// internal/) is committed, so no engine is needed.
func TestModuleVets(t *testing.T) {
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = "../pipeline"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go vet ./... in pipeline/: %v\n%s", err, out)
	}
}

// TestModuleTestVets compiles and vets the module test (tests/, a Dagger
// module of its own that `make module-test` runs on an engine): its
// generated client is committed too, so a stale one shows here.
func TestModuleTestVets(t *testing.T) {
	cmd := exec.Command("go", "vet", "./...")
	cmd.Dir = "../tests"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go vet ./... in tests/: %v\n%s", err, out)
	}
}
