package images

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/haloforge/haloforge/internal/mirror"
)

// emptyMirror is a real mirror directory that holds no repository.
func emptyMirror(t *testing.T) *GitMirror {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "mirror"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &GitMirror{Mirror: mirror.Mirror{Dir: filepath.Join(root, "mirror")}, CacheDir: filepath.Join(root, "sources")}
}

const llamaCommit = "d17a809ef0af09b16625e991a76f6fe80d9c332e"

func llamaCPU() Component {
	return Component{Name: "llama.cpp", Variant: "cpu", Version: "b5600",
		Source: Source{Git: "https://github.com/ggml-org/llama.cpp", Ref: "b5600", Commit: llamaCommit}}
}

// TestFetchErrorFromMirror: a source the mirror lacks fails through the real
// checkout with a message naming component, URL, ref, commit, the mirror,
// and the ways out.
func TestFetchErrorFromMirror(t *testing.T) {
	g := emptyMirror(t)
	_, err := g.Checkout(llamaCPU())
	var fe *FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("error %T %v, want *FetchError", err, err)
	}
	if !errors.Is(err, mirror.ErrNotInMirror) {
		t.Errorf("error does not wrap ErrNotInMirror: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"llama.cpp/cpu: cannot fetch source https://github.com/ggml-org/llama.cpp ref b5600 commit " + llamaCommit,
		"from the mirror " + g.Mirror.Dir,
		"not in mirror",
		"git clone --mirror https://github.com/ggml-org/llama.cpp " + filepath.Join(g.Mirror.Dir, "github.com", "ggml-org", "llama.cpp"),
		"haloforge build --source llama.cpp=DIR",
		"dagger call with-source --component llama.cpp --dir DIR",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

// TestFetchErrorMessages: the engine-fetch forms (git host, tarball) say
// what failed and point at the mirror, the override and the network.
func TestFetchErrorMessages(t *testing.T) {
	engineErr := errors.New(`git error: exit status 128`)
	git := (&FetchError{Component: "llama.cpp/vulkan", Git: "https://github.com/ggml-org/llama.cpp", Ref: "b5600", Commit: llamaCommit, Err: engineErr}).Error()
	for _, want := range []string{
		"llama.cpp/vulkan: cannot fetch source https://github.com/ggml-org/llama.cpp ref b5600 commit " + llamaCommit + ": git error: exit status 128",
		"check the network and that the commit exists at https://github.com/ggml-org/llama.cpp",
		"haloforge build --mirror DIR (or $HALOFORGE_MIRROR=DIR)",
		"haloforge build --source llama.cpp=DIR",
		"with-source --component llama.cpp",
	} {
		if !strings.Contains(git, want) {
			t.Errorf("git message lacks %q:\n%s", want, git)
		}
	}
	if strings.Contains(git, "from the mirror") {
		t.Errorf("engine fetch names a mirror:\n%s", git)
	}
	tar := (&FetchError{Component: "therock", URL: "https://example.org/therock.tar.gz", SHA256: strings.Repeat("a", 64), Err: errors.New("404 Not Found")}).Error()
	for _, want := range []string{"therock: cannot fetch source https://example.org/therock.tar.gz (sha256 aaaa", "404 Not Found", "--source therock=DIR"} {
		if !strings.Contains(tar, want) {
			t.Errorf("tarball message lacks %q:\n%s", want, tar)
		}
	}
}

// failingStep runs a real command that fails and turns its result into the
// *StepError a build step gives.
func failingStep(key, script string) func(context.Context) error {
	return func(ctx context.Context) error {
		out, err := exec.CommandContext(ctx, "sh", "-c", script).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return err
		}
		return &StepError{Component: key, Step: "build", Cmd: []string{script}, ExitCode: ee.ExitCode(), Tail: Tail(string(out), TailLines), Err: err}
	}
}

// TestRunTasksReportsEveryFailure: two independent variants fail (a real
// failing command, a real mirror checkout of a missing repository); the
// build keeps going with the independent task, does not run the task that
// needs a failed one, and reports both failures with their log tails.
func TestRunTasksReportsEveryFailure(t *testing.T) {
	g := emptyMirror(t)
	var ranIndependent, ranDependent, ranAfter atomic.Bool
	tasks := []Task{
		{Key: "llama.cpp/cpu", Run: func(context.Context) error { _, err := g.Checkout(llamaCPU()); return err }},
		{Key: "llama.cpp/vulkan", Run: failingStep("llama.cpp/vulkan", "echo 'ggml-vulkan.cpp:12: error: no glslc'; echo 'ninja: build stopped'; exit 3")},
		{Key: "rocwmma", Run: func(ctx context.Context) error { ranIndependent.Store(true); return ctx.Err() }},
		{Key: "rocm-bandwidth-test", Needs: []string{"rocwmma"}, Run: func(ctx context.Context) error {
			ranAfter.Store(true)
			return exec.CommandContext(ctx, "true").Run()
		}},
		{Key: "image llama-cpu", Needs: []string{"llama.cpp/cpu"}, Run: func(context.Context) error { ranDependent.Store(true); return nil }},
	}
	failed, err := RunTasks(context.Background(), tasks)
	if err == nil {
		t.Fatal("two failing tasks, no error")
	}
	var be *BuildErrors
	if !errors.As(err, &be) {
		t.Fatalf("error %T, want *BuildErrors:\n%v", err, err)
	}
	if len(be.Failures) != 2 || be.Total != 5 {
		t.Fatalf("%d failures of %d tasks, want 2 of 5: %v", len(be.Failures), be.Total, err)
	}
	var fe *FetchError
	var se *StepError
	if !errors.As(be.Failures[0], &fe) || fe.Component != "llama.cpp/cpu" {
		t.Errorf("first failure %v, want the cpu fetch (task order)", be.Failures[0])
	}
	if !errors.As(be.Failures[1], &se) || se.Component != "llama.cpp/vulkan" || se.ExitCode != 3 {
		t.Errorf("second failure %v, want the vulkan step (exit 3)", be.Failures[1])
	}
	if !errors.As(err, &fe) || !errors.As(err, &se) {
		t.Error("errors.As does not reach the failures through *BuildErrors")
	}
	if !ranIndependent.Load() || !ranAfter.Load() {
		t.Error("independent tasks did not run after the failures")
	}
	if ranDependent.Load() {
		t.Error("a task whose need failed ran")
	}
	want := map[string]bool{"llama.cpp/cpu": true, "llama.cpp/vulkan": true, "image llama-cpu": true}
	if len(failed) != len(want) {
		t.Errorf("failed = %v, want %v", failed, want)
	}
	for k := range want {
		if !failed[k] {
			t.Errorf("failed lacks %s: %v", k, failed)
		}
	}
	msg := err.Error()
	for _, want := range []string{
		"2 of 5 build steps failed, 1 not built because a step they need failed",
		"[1/2] llama.cpp/cpu: cannot fetch source https://github.com/ggml-org/llama.cpp ref b5600 commit " + llamaCommit,
		"[2/2] llama.cpp/vulkan: step \"build\" failed (exit 3)",
		"ggml-vulkan.cpp:12: error: no glslc\nninja: build stopped",
		"not built: image llama-cpu (needs llama.cpp/cpu)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if plain := PlainError(err); plain.Error() != msg || errors.As(plain, &be) {
		t.Errorf("PlainError changed the text or kept the chain: %v", plain)
	}
}

// TestRunTasksSingleFailure: one failure and nothing skipped is the error
// itself, so callers see a plain *StepError.
func TestRunTasksSingleFailure(t *testing.T) {
	_, err := RunTasks(context.Background(), []Task{
		{Key: "a", Run: failingStep("a", "echo boom; exit 2")},
		{Key: "b", Run: func(context.Context) error { return nil }},
	})
	var se *StepError
	if !errors.As(err, &se) || se.Component != "a" || se.Tail != "boom" {
		t.Fatalf("got %T %v, want the *StepError of a", err, err)
	}
	if _, err := RunTasks(context.Background(), []Task{{Key: "a", Run: func(context.Context) error { return nil }}}); err != nil {
		t.Errorf("all tasks succeeded, error %v", err)
	}
	if _, err := RunTasks(context.Background(), []Task{{Key: "a"}, {Key: "a"}}); err == nil || !strings.Contains(err.Error(), "a listed twice") {
		t.Errorf("duplicate task: %v", err)
	}
}

// TestRunTasksCanceled: a canceled build starts nothing more.
func TestRunTasksCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Bool
	_, err := RunTasks(ctx, []Task{{Key: "a", Run: func(context.Context) error { ran.Store(true); return nil }}})
	if ran.Load() || !errors.Is(err, context.Canceled) {
		t.Errorf("ran=%v err=%v, want nothing run and context.Canceled", ran.Load(), err)
	}
}
