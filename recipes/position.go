package recipes

import "github.com/haloforge/haloforge/internal/yamlpath"

// FieldLine returns the line of a field of the recipe file, a path of
// mapping keys (string) and sequence indexes (int) such as
// "variants", 1, "configure", 0; the nearest parent's line when the field is
// absent, 0 when the recipe was not parsed from a file.
func (r *Recipe) FieldLine(path ...any) int { return yamlpath.Line(r.node, path...) }
