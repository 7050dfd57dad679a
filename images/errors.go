package images

import (
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
