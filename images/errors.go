package images

import (
	"errors"
	"fmt"
	"strings"
)

// TailLines is how many log lines a StepError shows.
const TailLines = 40

// StepError is a failed build step: which component, which step, the command,
// and the tail of its output. Callers branch on it with errors.As.
type StepError struct {
	Component string
	Step      string
	Cmd       []string
	ExitCode  int
	// Tail is the last TailLines lines of the step's combined output.
	Tail string
	Err  error
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: step %q failed", e.Component, e.Step)
	if e.ExitCode != 0 {
		fmt.Fprintf(&b, " (exit %d)", e.ExitCode)
	}
	if len(e.Cmd) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(e.Cmd, " "))
	}
	if e.Tail != "" {
		fmt.Fprintf(&b, "\n--- last lines of the %s log of %s ---\n%s", e.Step, e.Component, e.Tail)
		if !strings.HasSuffix(e.Tail, "\n") {
			b.WriteByte('\n')
		}
		b.WriteString("---")
	} else if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *StepError) Unwrap() error { return e.Err }

// Tail returns the last n lines of out (a trailing newline does not count as
// an extra empty line).
func Tail(out string, n int) string {
	out = strings.TrimRight(out, "\n")
	if out == "" || n <= 0 {
		return ""
	}
	lines := strings.Split(out, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FetchError is a component source that could not be fetched: a git
// repository or commit the engine (or the local mirror) could not provide,
// or a tarball it could not download. It names what was fetched and how to
// get past it. Callers branch on it with errors.As.
type FetchError struct {
	// Component is the component key (llama.cpp/cpu).
	Component string
	// Git is the repository URL; Ref the recipe's tag or branch (may be
	// empty); Commit the pinned commit.
	Git, Ref, Commit string
	// URL and SHA256 name a tarball source instead.
	URL, SHA256 string
	// Mirror is the local mirror directory the source was read from;
	// empty when the engine fetched it from the git host.
	Mirror string
	// MirrorRepo is where the mirror keeps (or would keep) the repository.
	MirrorRepo string
	Err        error
}

func (e *FetchError) Error() string {
	var b strings.Builder
	name, _, _ := strings.Cut(e.Component, "/")
	switch {
	case e.Git != "":
		fmt.Fprintf(&b, "%s: cannot fetch source %s", e.Component, e.Git)
		if e.Ref != "" {
			fmt.Fprintf(&b, " ref %s", e.Ref)
		}
		fmt.Fprintf(&b, " commit %s", e.Commit)
	default:
		fmt.Fprintf(&b, "%s: cannot fetch source %s (sha256 %s)", e.Component, e.URL, e.SHA256)
	}
	if e.Mirror != "" {
		fmt.Fprintf(&b, " from the mirror %s", e.Mirror)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	b.WriteString("\nfix: ")
	override := fmt.Sprintf("build from a local tree instead: haloforge build --source %s=DIR, or in the Dagger module: dagger call with-source --component %s --dir DIR ...", name, name)
	switch {
	case e.Mirror != "":
		repo := e.MirrorRepo
		if repo == "" {
			repo = e.Mirror + "/HOST/OWNER/NAME.git"
		}
		fmt.Fprintf(&b, "add the repository to the mirror (git clone --mirror %s %s) and check the pin with haloforge recipes check; or %s", e.Git, repo, override)
	case e.Git != "":
		fmt.Fprintf(&b, "check the network and that the commit exists at %s; without a reachable git host, read sources from a mirror of bare repositories: haloforge build --mirror DIR (or $HALOFORGE_MIRROR=DIR), in the Dagger module dagger call --mirror DIR ...; or %s", e.Git, override)
	default:
		fmt.Fprintf(&b, "check the network and the URL; or %s", override)
	}
	return b.String()
}

func (e *FetchError) Unwrap() error { return e.Err }

// BuildErrors is every failure of one build: the build keeps going with
// the steps that do not depend on a failed one, and reports each failure
// (a *StepError with its log tail, a *FetchError, or another error) in
// plan order, plus the steps left unbuilt because something they need
// failed.
type BuildErrors struct {
	// Failures in plan order.
	Failures []error
	// Skipped lists "KEY (needs DEP)" for steps that did not run.
	Skipped []string
	// Total is how many steps (and images) the build had.
	Total int
}

func (e *BuildErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d build steps failed", len(e.Failures), e.Total)
	if len(e.Skipped) > 0 {
		fmt.Fprintf(&b, ", %d not built because a step they need failed", len(e.Skipped))
	}
	for i, f := range e.Failures {
		fmt.Fprintf(&b, "\n\n[%d/%d] %v", i+1, len(e.Failures), f)
	}
	if len(e.Skipped) > 0 {
		fmt.Fprintf(&b, "\n\nnot built: %s", strings.Join(e.Skipped, ", "))
	}
	return b.String()
}

// Unwrap gives every failure to errors.Is and errors.As.
func (e *BuildErrors) Unwrap() []error { return e.Failures }

// Err returns nil without failures, the failure itself when it is the only
// thing to report, else e.
func (e *BuildErrors) Err() error {
	switch {
	case len(e.Failures) == 0:
		return nil
	case len(e.Failures) == 1 && len(e.Skipped) == 0:
		return e.Failures[0]
	}
	return e
}

// PlainError is err as a plain error with its full text, for returning
// from a Dagger module function: the generated dispatch code reports the
// innermost engine error of a wrapped chain, which would drop the
// component, step, source and log tails these errors carry.
func PlainError(err error) error {
	var se *StepError
	var fe *FetchError
	var be *BuildErrors
	if errors.As(err, &se) || errors.As(err, &fe) || errors.As(err, &be) {
		return errors.New(err.Error())
	}
	return err
}
