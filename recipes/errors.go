package recipes

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Sentinel errors a caller can branch on with errors.Is. Every error from
// Load, LoadLock and MakePlan that is caused by input is an *InputError
// whose Kind is one of these.
var (
	ErrMalformed        = errors.New("malformed file")
	ErrUnknownComponent = errors.New("unknown component")
	ErrUnknownVariant   = errors.New("unknown variant")
	ErrUnknownTarget    = errors.New("unknown GPU target")
	ErrUnknownProfile   = errors.New("unknown profile")
	ErrCycle            = errors.New("dependency cycle")
	ErrConstraint       = errors.New("version constraint")
	ErrMissingPin       = errors.New("missing pin")
	ErrLockMismatch     = errors.New("lock does not match recipes")
	ErrTemplate         = errors.New("bad template")
)

// InputError is a problem with a recipe, the base definition, the lock or a
// selection. It renders as one line:
//
//	FILE:LINE: FIELD: PROBLEM; fix: FIX
type InputError struct {
	Kind    error  // one of the Err* sentinels
	File    string // file the problem is in ("" for command-line input)
	Line    int    // 1-based line, 0 when unknown
	Field   string // dotted field path, e.g. variants[1].depends[0].version
	Problem string // what is wrong
	Fix     string // what to do about it
	Err     error  // underlying cause, if any
}

func (e *InputError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(oneLine(e.Problem))
	if e.Fix != "" {
		b.WriteString("; fix: " + oneLine(e.Fix))
	}
	return b.String()
}

// Unwrap returns both the sentinel kind and the underlying cause.
func (e *InputError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

var spaceRun = regexp.MustCompile(`\s+`)

// oneLine folds any multi-line text (YAML and template errors) into one line.
func oneLine(s string) string { return strings.TrimSpace(spaceRun.ReplaceAllString(s, " ")) }

func inputErr(kind error, file string, line int, field, fix, format string, args ...any) *InputError {
	return &InputError{Kind: kind, File: file, Line: line, Field: field, Problem: fmt.Sprintf(format, args...), Fix: fix}
}
