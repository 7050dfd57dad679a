// Package yamlpath finds where a field of a decoded YAML document is, so
// errors about recipes, locks and suites can name the file's line.
package yamlpath

import "go.yaml.in/yaml/v3"

// Line returns the line of the node at path, a list of mapping keys (string)
// and sequence indexes (int), in the document or node n. It returns the line
// of the deepest node it could reach, so a missing field points at its
// parent; 0 when n is nil.
func Line(n *yaml.Node, path ...any) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					line = n.Content[i].Line
					n = n.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return line
			}
		case int:
			if n.Kind != yaml.SequenceNode || k < 0 || k >= len(n.Content) {
				return line
			}
			n = n.Content[k]
			line = n.Line
		}
	}
	return line
}
