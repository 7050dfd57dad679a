// Tests is the module test of the haloforge Dagger module: it installs the
// module (..) as a dependency and calls its functions on a real engine, as
// a user's `dagger call` does. Run it with `make module-test` (it needs an
// engine, so it is not part of `go test ./...`).
//
// The layout follows the tests/ modules of dagger/dagger's toolchains
// (toolchains/release/gh/tests: a module named tests depending on "..").
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"dagger/tests/internal/dagger"
)

// llama.cpp's pin in recipes/components/llama.cpp.yaml and stack.lock.
const (
	llamaGit    = "https://github.com/ggml-org/llama.cpp.git"
	llamaCommit = "d17a809ef0af09b16625e991a76f6fe80d9c332e"
	// absentGit is a repository no network has: .invalid never resolves
	// (RFC 2606), so the failing fetch fails the same way everywhere.
	absentGit = "https://git.invalid/haloforge/absent-llama.cpp.git"
)

type Tests struct {
	// +private
	BaseTarball *dagger.File
	// +private
	Llama *dagger.Directory
	// +private
	Recipes *dagger.Directory
	// +private
	Lock *dagger.File
	// +private
	Jobs int
}

func New(
	// The plan's base (recipes/base.yaml, debian-trixie) as a docker-save
	// tarball.
	baseTarball *dagger.File,
	// llama.cpp source tree at the pinned commit (d17a809e, tag b5600) for
	// the smoke build and the export.
	// +optional
	// +ignore=["**/.git", "build"]
	llama *dagger.Directory,
	// The repository's recipes.
	// +defaultPath="/recipes"
	recipes *dagger.Directory,
	// The repository's stack lock.
	// +defaultPath="/stack.lock"
	lock *dagger.File,
	// Build jobs per compile; 0 derives them from the engine host.
	// +optional
	jobs int,
) *Tests {
	return &Tests{BaseTarball: baseTarball, Llama: llama, Recipes: recipes, Lock: lock, Jobs: jobs}
}

func (m *Tests) haloforge() *dagger.Haloforge {
	return dag.Haloforge(dagger.HaloforgeOpts{BaseTarball: m.BaseTarball, Jobs: m.Jobs})
}

// All runs every test: plan, failing step, failing fetch, then (given
// --llama) the smoke build with a source override and the export.
func (m *Tests) All(ctx context.Context) error {
	var errs []error
	for _, t := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"plan", m.Plan},
		{"failing-fetch", m.FailingFetch},
		{"failing-step", m.FailingStep},
		{"smoke-build", m.SmokeBuild},
		{"export", m.Export},
	} {
		if err := t.run(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.name, err))
			fmt.Printf("FAIL %s\n", t.name)
			continue
		}
		fmt.Printf("ok   %s\n", t.name)
	}
	return errors.Join(errs...)
}

// Plan: the smoke plan names llama.cpp cpu and vulkan at the pinned commit.
func (m *Tests) Plan(ctx context.Context) error {
	out, err := m.haloforge().Plan(ctx, dagger.HaloforgePlanOpts{Profile: "smoke"})
	if err != nil {
		return err
	}
	var p struct {
		Target string `json:"target"`
		Steps  []struct {
			Component string `json:"component"`
			Variant   string `json:"variant"`
			Source    struct {
				URL    string `json:"url"`
				Commit string `json:"commit"`
			} `json:"source"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		return fmt.Errorf("plan is not JSON: %w\n%.400s", err, out)
	}
	var got []string
	for _, s := range p.Steps {
		got = append(got, s.Component+"/"+s.Variant)
		if s.Source.URL != llamaGit || s.Source.Commit != llamaCommit {
			return fmt.Errorf("step %s/%s source %s@%s, want %s@%s", s.Component, s.Variant, s.Source.URL, s.Source.Commit, llamaGit, llamaCommit)
		}
	}
	if p.Target != "gfx1151" || strings.Join(got, ",") != "llama.cpp/cpu,llama.cpp/vulkan" {
		return fmt.Errorf("smoke plan: target %q steps %v, want gfx1151 llama.cpp/cpu,llama.cpp/vulkan", p.Target, got)
	}
	return nil
}

// FailingFetch: llama.cpp pinned to a repository that cannot be fetched
// (the recipe and the lock both moved to absentGit); the module's error
// names component, URL, ref and commit and the ways out, for both smoke
// variants together.
func (m *Tests) FailingFetch(ctx context.Context) error {
	recipe, err := m.Recipes.File("components/llama.cpp.yaml").Contents(ctx)
	if err != nil {
		return err
	}
	lock, err := m.Lock.Contents(ctx)
	if err != nil {
		return err
	}
	if !strings.Contains(recipe, "git: "+llamaGit) || !strings.Contains(lock, "git: "+llamaGit) {
		return fmt.Errorf("llama.cpp recipe or stack.lock no longer pins %s; update this test", llamaGit)
	}
	recipes := m.Recipes.WithNewFile("components/llama.cpp.yaml", strings.ReplaceAll(recipe, "git: "+llamaGit, "git: "+absentGit))
	hf := dag.Haloforge(dagger.HaloforgeOpts{BaseTarball: m.BaseTarball, Jobs: m.Jobs, Recipes: recipes,
		Lock: dag.File("stack.lock", strings.ReplaceAll(lock, "git: "+llamaGit, "git: "+absentGit))})
	_, err = hf.BuildStack(dagger.HaloforgeBuildStackOpts{Profile: "smoke"}).Names(ctx)
	return expectError(err,
		"2 of 4 build steps failed, 2 not built",
		"[1/2] llama.cpp/cpu: cannot fetch source "+absentGit+" ref b5600 commit "+llamaCommit,
		"[2/2] llama.cpp/vulkan: cannot fetch source "+absentGit+" ref b5600 commit "+llamaCommit,
		"haloforge build --mirror DIR (or $HALOFORGE_MIRROR=DIR)",
		"dagger call with-source --component llama.cpp --dir DIR",
		"not built: image llama-cpu (needs llama.cpp/cpu), image llama-vulkan (needs llama.cpp/vulkan)")
}

// plantedTree is a llama.cpp-shaped tree whose configure step fails: the
// build-info edit of the recipe succeeds, then CMake stops.
func plantedTree() *dagger.Directory {
	return dag.Directory().
		WithNewFile("cmake/build-info.cmake", "set(BUILD_NUMBER 0)\nset(BUILD_COMMIT \"unknown\")\n").
		WithNewFile("CMakeLists.txt", "cmake_minimum_required(VERSION 3.14)\nproject(planted C)\nmessage(FATAL_ERROR \"planted configure failure\")\n")
}

// FailingStep: both smoke variants fail their configure step on a planted
// source override; one error reports both, each with its log tail.
func (m *Tests) FailingStep(ctx context.Context) error {
	hf := m.haloforge().WithSource("llama.cpp", plantedTree(), dagger.HaloforgeWithSourceOpts{Path: "planted"})
	_, err := hf.BuildStack(dagger.HaloforgeBuildStackOpts{Profile: "smoke"}).Names(ctx)
	return expectError(err,
		"2 of 4 build steps failed",
		"[1/2] llama.cpp/cpu: step \"configure\" failed (exit 1)",
		"[2/2] llama.cpp/vulkan: step \"configure\" failed (exit 1)",
		"--- last lines of the configure log of llama.cpp/cpu ---",
		"--- last lines of the configure log of llama.cpp/vulkan ---",
		"planted configure failure")
}

// SmokeBuild: llama.cpp cpu from the --llama tree builds through
// build-stack; the image runs llama-cli --version with the pinned build
// and carries the override in its manifest.
func (m *Tests) SmokeBuild(ctx context.Context) error {
	if m.Llama == nil {
		return errors.New("no --llama source tree given")
	}
	st := m.haloforge().WithSource("llama.cpp", m.Llama, dagger.HaloforgeWithSourceOpts{Path: "llama.cpp-b5600"}).
		BuildStack(dagger.HaloforgeBuildStackOpts{Profile: "smoke", Variant: []string{"cpu"}})
	names, err := st.Names(ctx)
	if err != nil {
		return err
	}
	if strings.Join(names, ",") != "llama-cpu" {
		return fmt.Errorf("images %v, want [llama-cpu]", names)
	}
	out, err := st.Image("llama-cpu").WithExec([]string{"sh", "-c", "llama-cli --version 2>&1"}).Stdout(ctx)
	if err != nil {
		return err
	}
	if !strings.Contains(out, "version: 5600 (d17a809e)") {
		return fmt.Errorf("llama-cli --version printed %q, want version: 5600 (d17a809e)", out)
	}
	man, err := st.Manifest(ctx, "llama-cpu")
	if err != nil {
		return err
	}
	if !strings.Contains(man, "llama.cpp-b5600") {
		return fmt.Errorf("manifest does not record the source override path llama.cpp-b5600:\n%.600s", man)
	}
	return nil
}

// Export: build --component llama.cpp --variant cpu returns the install
// tree; exported to disk it holds llama-bench and llama-cli.
func (m *Tests) Export(ctx context.Context) error {
	if m.Llama == nil {
		return errors.New("no --llama source tree given")
	}
	tree := m.haloforge().WithSource("llama.cpp", m.Llama, dagger.HaloforgeWithSourceOpts{Path: "llama.cpp-b5600"}).
		Build("llama.cpp", "cpu")
	dir, err := os.MkdirTemp("", "haloforge-export-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if _, err := tree.Export(ctx, dir); err != nil {
		return err
	}
	for _, f := range []string{"bin/llama-bench", "bin/llama-cli"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			return fmt.Errorf("exported tree: %w", err)
		}
		if st.Mode()&0o111 == 0 {
			return fmt.Errorf("exported %s is not executable (%v)", f, st.Mode())
		}
	}
	return nil
}

// expectError checks that err happened and its text holds every want.
func expectError(err error, want ...string) error {
	if err == nil {
		return errors.New("the build succeeded; want it to fail")
	}
	var missing []string
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the error lacks %q:\n%v", missing, err)
	}
	return nil
}
