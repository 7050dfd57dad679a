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
