package ci

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// lint runs actionlint over one workflow file with the project's config and
// shellcheck when it is installed, returning the errors it reports.
func lint(t *testing.T, path string) []*actionlint.Error {
	t.Helper()
	var out bytes.Buffer
	opts := &actionlint.LinterOptions{ConfigFile: "actionlint.yaml", Oneline: true}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	} else if os.Getenv("CI") != "" {
		t.Fatalf("shellcheck not found: CI installs it (apt-get install shellcheck) so run: scripts are checked too")
	}
	l, err := actionlint.NewLinter(&out, opts)
	if err != nil {
		t.Fatalf("actionlint: %v", err)
	}
	errs, err := l.LintFile(path, nil)
	if err != nil {
		t.Fatalf("actionlint %s: %v", path, err)
	}
	return errs
}

func TestNightlyWorkflowIsLintClean(t *testing.T) {
	for _, e := range lint(t, "nightly.yml") {
		t.Errorf("%s:%d:%d: %s [%s]", e.Filepath, e.Line, e.Column, e.Message, e.Kind)
	}
}

// The linter must actually catch mistakes: a copy of the workflow with an
// unknown runner label and a bad expression is rejected.
func TestLinterCatchesBrokenWorkflow(t *testing.T) {
	src, err := os.ReadFile("nightly.yml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(src), "[self-hosted, linux, gfx1151]", "[self-hosted, linux, gfx9999]", 1)
	broken = strings.Replace(broken, "${{ inputs.target || 'gfx1151' }}", "${{ inputs.targett || 'gfx1151' }}", 1)
	if broken == string(src) {
		t.Fatal("test no longer edits the workflow: update the replaced strings")
	}
	p := filepath.Join(t.TempDir(), "broken.yml")
	if err := os.WriteFile(p, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	errs := lint(t, p)
	var label, input bool
	for _, e := range errs {
		label = label || strings.Contains(e.Message, "gfx9999")
		input = input || strings.Contains(e.Message, "targett")
	}
	if !label || !input {
		t.Fatalf("actionlint missed planted errors (label %v, input %v): %v", label, input, errs)
	}
}

// Every step of the workflow calls ci/nightly.sh with a step the script knows,
// so `ci/nightly.sh all` really runs what the workflow runs.
func TestWorkflowStepsExistInScript(t *testing.T) {
	wf, err := os.ReadFile("nightly.yml")
	if err != nil {
		t.Fatal(err)
	}
	sh, err := os.ReadFile("nightly.sh")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(wf), "\n") {
		_, step, ok := strings.Cut(strings.TrimSpace(line), "run: ci/nightly.sh ")
		if !ok {
			continue
		}
		n++
		if !strings.Contains(string(sh), "\n  "+step+")") {
			t.Errorf("workflow runs `ci/nightly.sh %s` but nightly.sh has no %q case", step, step)
		}
	}
	if n < 8 {
		t.Fatalf("found only %d nightly.sh steps in the workflow", n)
	}
}
