package yamlpath

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestLine(t *testing.T) {
	src := "name: x\nsource:\n  git: https://example.invalid/x.git\n  commit: abc\nvariants:\n  - name: cpu\n  - name: vulkan\n    build: [a, b]\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path []any
		want int
	}{
		{"root", nil, 1},
		{"key", []any{"name"}, 1},
		{"nested key", []any{"source", "commit"}, 4},
		{"sequence item", []any{"variants", 1, "name"}, 7},
		{"nested sequence", []any{"variants", 1, "build", 1}, 8},
		{"missing key points at its parent", []any{"source", "tarball"}, 2},
		{"index out of range", []any{"variants", 5}, 5},
		{"negative index", []any{"variants", -1}, 5},
		{"key into a sequence", []any{"variants", "name"}, 5},
	} {
		if got := Line(&doc, tc.path...); got != tc.want {
			t.Errorf("%s: Line(%v) = %d, want %d", tc.name, tc.path, got, tc.want)
		}
	}
	if Line(nil, "x") != 0 {
		t.Error("nil node should give line 0")
	}
}
