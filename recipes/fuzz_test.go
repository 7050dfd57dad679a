package recipes

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"testing"
)

// FuzzLoadRecipe: ParseRecipe never panics, and whatever it rejects is an
// *InputError (one line, naming the file).
func FuzzLoadRecipe(f *testing.F) {
	names, _ := fs.Glob(embedded, "components/*.yaml")
	for _, n := range names {
		data, _ := fs.ReadFile(embedded, n)
		f.Add(data)
	}
	f.Add([]byte("name: x\nversion: 1\nsource: {git: https://a, commit: 0123456789012345678901234567890123456789}\nvariants: [{name: a, install: ['{{.Prefix}}']}]\n"))
	f.Add([]byte("name: [\n"))
	f.Add([]byte("--- \n--- \n"))
	f.Add([]byte("variants:\n  - name: a\n    install: ['{{template \"x\"}}']\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecipe("components/x.yaml", data)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("not an InputError: %T %v", err, err)
			}
			if bytes.ContainsAny([]byte(err.Error()), "\n\r") {
				t.Fatalf("multi-line error: %q", err.Error())
			}
			return
		}
		if r.Name != "x" || len(r.Variants) == 0 {
			t.Fatalf("accepted recipe without name x or variants: %+v", r)
		}
	})
}

// FuzzLoadLock: ParseLock never panics; an accepted lock marshals to a
// canonical form that parses back to the same lock and digest.
func FuzzLoadLock(f *testing.F) {
	if data, err := os.ReadFile("../stack.lock"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("lock_version: 1\n"))
	f.Add([]byte("lock_version: 1\nbase: {name: a, distribution: b, suite: c, architecture: d, variant: e, mirror: f, snapshot: 20260101T000000Z, release_sha256: " +
		"0000000000000000000000000000000000000000000000000000000000000000}\ncomponents: [{name: \"\\xff\", version: \"\\u0000\", tarball: t, sha256: " +
		"0000000000000000000000000000000000000000000000000000000000000000}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock("stack.lock", data)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("not an InputError: %T %v", err, err)
			}
			if bytes.ContainsAny([]byte(err.Error()), "\n\r") {
				t.Fatalf("multi-line error: %q", err.Error())
			}
			return
		}
		out := l.Marshal()
		l2, err := ParseLock("stack.lock", out)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, out)
		}
		if !bytes.Equal(l2.Marshal(), out) || l2.Digest() != l.Digest() {
			t.Fatalf("canonical form is not stable:\n%s\n---\n%s", out, l2.Marshal())
		}
	})
}
