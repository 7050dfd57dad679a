package recipes

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const (
	c1 = "1111111111111111111111111111111111111111"
	c2 = "2222222222222222222222222222222222222222"
	c3 = "3333333333333333333333333333333333333333"
)

func TestResolveRef(t *testing.T) {
	out := []byte(c1 + "\trefs/heads/master\n" +
		c2 + "\trefs/tags/b6000\n" +
		c3 + "\trefs/tags/b6000^{}\n" +
		c2 + "\trefs/tags/light\n")
	for _, tc := range []struct {
		name, ref, commit, kind, err string
	}{
		{name: "branch", ref: "master", commit: c1, kind: "branch"},
		{name: "annotated tag peels to its commit", ref: "b6000", commit: c3, kind: "tag"},
		{name: "lightweight tag", ref: "light", commit: c2, kind: "tag"},
		{name: "commit stays", ref: c2, commit: c2, kind: "commit"},
		{name: "missing ref", ref: "nope", err: `ref "nope" not found upstream`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			commit, kind, err := ResolveRef(out, tc.ref)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || commit != tc.commit || kind != tc.kind {
				t.Fatalf("got %s %s %v, want %s %s", commit, kind, err, tc.commit, tc.kind)
			}
		})
	}
	if _, _, err := ResolveRef([]byte("garbage line\n"), "master"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("garbled ls-remote output: err = %v", err)
	}
}

func TestNextVersion(t *testing.T) {
	for _, tc := range []struct{ old, oc, nc, ref, kind, want string }{
		{"b5600", c1, c1, "b5600", "tag", "b5600"},
		{"b5600", c1, c2, "b6000", "tag", "b6000"},
		{"b5600", c1, c2, "master", "branch", "master+22222222"},
		{"develop+11111111", c1, c3, "develop", "branch", "develop+33333333"},
	} {
		if got := NextVersion(tc.old, tc.oc, tc.nc, tc.ref, tc.kind); got != tc.want {
			t.Errorf("NextVersion(%s, %s->%s, %s %s) = %s, want %s", tc.old, tc.oc[:4], tc.nc[:4], tc.kind, tc.ref, got, tc.want)
		}
	}
}

func TestApplyPinUpdateKeepsComments(t *testing.T) {
	file := "components/llama.cpp.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRecipe(file, data)
	if err != nil {
		t.Fatal(err)
	}
	u := PinUpdate{Component: r.Name, File: file, OldRef: r.Source.Ref, Ref: "master", RefKind: "branch",
		OldCommit: r.Source.Commit, NewCommit: c2, OldVersion: r.Version, NewVersion: "master+22222222"}
	out, err := ApplyPinUpdate(file, data, u)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseRecipe(file, out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Source.Commit != c2 || got.Source.Ref != "master" || got.Version != "master+22222222" {
		t.Fatalf("after update: commit %s ref %s version %s", got.Source.Commit, got.Source.Ref, got.Version)
	}
	// Only the three lines changed; every comment is still there.
	a, b := strings.Split(string(data), "\n"), strings.Split(string(out), "\n")
	if len(a) != len(b) {
		t.Fatalf("line count changed: %d -> %d", len(a), len(b))
	}
	diff := 0
	for i := range a {
		if a[i] != b[i] {
			diff++
			if strings.HasPrefix(strings.TrimSpace(a[i]), "#") {
				t.Errorf("comment line %d changed: %q", i+1, a[i])
			}
		}
	}
	if diff != 3 {
		t.Fatalf("%d lines changed, want 3 (commit, ref, version)", diff)
	}
	// A pin the file does not hold is an error naming the file, not a silent no-op.
	u.OldCommit = c3
	if _, err := ApplyPinUpdate(file, data, u); err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), file) {
		t.Fatalf("stale old commit: err = %v", err)
	}
}
