package images

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	cases := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"fewer lines", "a\nb\n", 5, "a\nb"},
		{"cut", "1\n2\n3\n4\n", 2, "3\n4"},
		{"empty", "", 3, ""},
		{"zero", "a", 0, ""},
		{"no newline", "x", 1, "x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Tail(tc.in, tc.n); got != tc.want {
				t.Errorf("Tail = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStepErrorMessage(t *testing.T) {
	inner := errors.New("exit status 1")
	e := &StepError{Component: "llama.cpp/vulkan", Step: "build", ExitCode: 1,
		Cmd: []string{"cmake --build $BUILD"}, Tail: "ggml.c:1: error: boom\nninja: build stopped", Err: inner}
	msg := e.Error()
	for _, want := range []string{`llama.cpp/vulkan: step "build" failed (exit 1)`, "cmake --build $BUILD", "ninja: build stopped", "last lines of the build log of llama.cpp/vulkan"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", e), inner) {
		t.Error("StepError does not unwrap to its cause")
	}
	var se *StepError
	if !errors.As(fmt.Errorf("x: %w", e), &se) || se.Step != "build" {
		t.Error("errors.As cannot find the StepError")
	}
}

func TestAsStepErrorPlainError(t *testing.T) {
	if AsStepError("x", nil) != nil {
		t.Error("nil error became non-nil")
	}
	err := AsStepError("image llama-cpu", errors.New("connection refused"))
	if !strings.Contains(err.Error(), "build image llama-cpu: connection refused") {
		t.Errorf("got %v", err)
	}
}
