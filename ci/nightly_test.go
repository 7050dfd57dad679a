package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
	"github.com/haloforge/haloforge/internal/testfix"
)

// nightly runs `ci/nightly.sh all` on the smoke profile, the same steps the
// workflow runs, with its own results home and output directory.
func nightly(t *testing.T, home, out string, extra ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("bash", "nightly.sh", "all")
	cmd.Env = append(os.Environ(), "HALOFORGE_PROFILE=smoke", "HALOFORGE_HOME="+home, "HALOFORGE_OUT="+out, "GITHUB_STEP_SUMMARY=")
	cmd.Env = append(cmd.Env, extra...)
	b, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nightly.sh: %v", err)
	}
	return string(b), code
}

// TestNightlySmokeProfile runs the nightly twice on the smoke profile against
// the real daemon: the first night becomes the baseline, the second is
// compared with it and becomes the new last good nightly.
func TestNightlySmokeProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the smoke suite twice; skipped with -short")
	}
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	home := t.TempDir()
	out1, out2 := filepath.Join(t.TempDir(), "n1"), filepath.Join(t.TempDir(), "n2")

	log, code := nightly(t, home, out1)
	if code != 0 {
		t.Fatalf("first night: exit %d\n%s", code, log)
	}
	for _, f := range []string{"doctor.txt", "images.txt", "run-id", "report.md", "report.json", "report.html", "summary.md", "run/run.json"} {
		if st, err := os.Stat(filepath.Join(out1, f)); err != nil || st.Size() == 0 {
			t.Errorf("first night: %s missing or empty", f)
		}
	}
	first, _ := os.ReadFile(filepath.Join(out1, "run-id"))
	lastGood, _ := os.ReadFile(filepath.Join(home, "nightly", "last-good"))
	if strings.TrimSpace(string(lastGood)) != strings.TrimSpace(string(first)) {
		t.Fatalf("first night should become the baseline: last-good %q, run %q\n%s", lastGood, first, log)
	}
	if !strings.Contains(log, "no last good nightly yet") {
		t.Errorf("first night did not say it is the baseline:\n%s", log)
	}

	// A huge threshold: the second night is judged on the flow, not on this
	// busy machine's timing noise (compare's own tests plant regressions).
	log, code = nightly(t, home, out2, "HALOFORGE_THRESHOLD=1000%")
	if code != 0 {
		t.Fatalf("second night: exit %d\n%s", code, log)
	}
	second, _ := os.ReadFile(filepath.Join(out2, "run-id"))
	cmp, err := os.ReadFile(filepath.Join(out2, "compare.txt"))
	if err != nil || !strings.Contains(string(cmp), strings.TrimSpace(string(first))) || !strings.Contains(string(cmp), strings.TrimSpace(string(second))) {
		t.Fatalf("second night's compare.txt does not compare the two nights (%v):\n%s", err, cmp)
	}
	summary, _ := os.ReadFile(filepath.Join(out2, "summary.md"))
	if !strings.Contains(string(summary), "no regression against "+strings.TrimSpace(string(first))) {
		t.Errorf("job summary lacks the verdict:\n%s", summary)
	}
	lastGood, _ = os.ReadFile(filepath.Join(home, "nightly", "last-good"))
	if strings.TrimSpace(string(lastGood)) != strings.TrimSpace(string(second)) {
		t.Errorf("last-good %q, want the second night %q", lastGood, second)
	}
	t.Logf("second night:\n%s", log)
}

// TestNightlyPlanKeysFollowPins runs the full profile's build step in a copy
// of the checkout with a pin override and no reachable engine: the build
// itself fails, but plan.keys and plan-cache.txt, written first, must already
// describe the recipes and lock that build uses, after the override.
func TestNightlyPlanKeysFollowPins(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "recipes", "components"), os.DirFS("../recipes/components")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ from, to string }{
		{"../recipes/base.yaml", "recipes/base.yaml"},
		{"../stack.lock", "stack.lock"},
		{"nightly.sh", "ci/nightly.sh"},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f.to)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f.to), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	hf := filepath.Join(root, "bin", "haloforge")
	if b, err := exec.Command("go", "build", "-o", hf, "../cmd/haloforge").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	haloforge := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(hf, args...)
		cmd.Dir = root
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("haloforge %v: %v", args, err)
		}
		return string(b)
	}
	src := []string{"--target", "gfx1151", "--recipes", "recipes", "--lock", "stack.lock"}
	before := haloforge(append([]string{"plan", "--keys"}, src...)...)
	cached := filepath.Join(root, "before.keys")
	if err := os.WriteFile(cached, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(root, "out")
	const commit = "0123456789abcdef0123456789abcdef01234567" // exact: no ls-remote
	cmd := exec.Command("bash", filepath.Join(root, "ci", "nightly.sh"), "build")
	cmd.Env = append(os.Environ(), "HALOFORGE_PROFILE=full", "HALOFORGE_TARGET=gfx1151", "HALOFORGE_OUT="+out,
		"HALOFORGE_PINS=llama.cpp="+commit, "HALOFORGE_CACHED_FROM="+cached,
		"HALOFORGE_ENGINE=tcp://127.0.0.1:1", "GITHUB_STEP_SUMMARY=")
	log, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("build step succeeded without an engine:\n%s", log)
	}
	if !strings.Contains(string(log), "does not answer") {
		t.Fatalf("build step did not get as far as the engine:\n%s", log)
	}

	after := haloforge(append([]string{"plan", "--keys"}, src...)...)
	if after == before || !strings.Contains(haloforge(append([]string{"plan"}, src...)...), commit) {
		t.Fatalf("HALOFORGE_PINS did not move llama.cpp to %s in the checkout:\n%s", commit, log)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "plan.keys")); string(got) != after {
		t.Errorf("plan.keys is not the plan of the recipes and lock the build uses:\n%s\nwant:\n%s", got, after)
	}
	want := haloforge(append([]string{"plan", "--cached-from", cached}, src...)...)
	if got, _ := os.ReadFile(filepath.Join(out, "plan-cache.txt")); string(got) != want {
		t.Errorf("plan-cache.txt is not the plan of the recipes and lock the build uses:\n%s\nwant:\n%s", got, want)
	}
}

// TestNightlyWrongResultsFailFirstNight: the compare step of a night whose
// reference check came out wrong (the cases of a real run, a Vulkan check on
// a model of another seed than the CPU reference) fails with exit 3 even with
// no baseline, says so in the job summary, and publish does not make it the
// last good nightly.
func TestNightlyWrongResultsFailFirstNight(t *testing.T) {
	home, out := t.TempDir(), t.TempDir()
	testfix.RealRunDir(t, home, "nightly-wrong", "correct-cmp-b",
		`{"id":"nightly-wrong","suite":"smoke","target":"gfx1151","started":"2026-11-30T01:00:00Z","finished":"2026-11-30T01:05:00Z","cases":[]}`)
	if err := os.WriteFile(filepath.Join(out, "run-id"), []byte("nightly-wrong\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	step := func(name string) (string, int) {
		cmd := exec.Command("bash", "nightly.sh", name)
		cmd.Env = append(os.Environ(), "HALOFORGE_PROFILE=smoke", "HALOFORGE_HOME="+home, "HALOFORGE_OUT="+out, "GITHUB_STEP_SUMMARY=")
		b, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(b), ee.ExitCode()
		} else if err != nil {
			t.Fatalf("nightly.sh %s: %v", name, err)
		}
		return string(b), 0
	}
	if log, code := step("cli"); code != 0 {
		t.Fatalf("cli step: exit %d\n%s", code, log)
	}
	if b, err := exec.Command("../bin/haloforge", "db", "rebuild", "--home", home).CombinedOutput(); err != nil {
		t.Fatalf("db rebuild: %v\n%s", err, b)
	}
	log, code := step("compare")
	if code != 3 {
		t.Fatalf("compare step of a wrong first night: exit %d, want 3\n%s", code, log)
	}
	if !strings.Contains(log, "reference check(s) wrong") {
		t.Errorf("the step does not say why it failed:\n%s", log)
	}
	summary, _ := os.ReadFile(filepath.Join(out, "summary.md"))
	if !strings.Contains(string(summary), "WRONG RESULTS") {
		t.Errorf("job summary lacks the verdict:\n%s", summary)
	}
	if log, code := step("publish"); code != 0 {
		t.Fatalf("publish step: exit %d\n%s", code, log)
	}
	if _, err := os.Stat(filepath.Join(home, "nightly", "last-good")); err == nil {
		t.Error("a night with wrong results became the last good nightly")
	}
}
