package recipes

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds what the loaders read, so a wrong path (a model file, a
// tarball) fails fast with a clear message instead of eating memory.
const maxFileSize = 1 << 20

var yamlLine = regexp.MustCompile(`line (\d+):?\s*`)

// decodeStrict decodes one YAML document into v, rejecting unknown fields,
// and returns the document node for line look-ups. Errors are *InputError
// of kind ErrMalformed naming the file and line.
func decodeStrict(file string, data []byte, v any, fix string) (*yaml.Node, error) {
	if len(data) > maxFileSize {
		return nil, inputErr(ErrMalformed, file, 0, "", "check the path points at a haloforge YAML file",
			"file is %d bytes, more than the %d a recipe or lock may have", len(data), maxFileSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, inputErr(ErrMalformed, file, 0, "", fix, "file is empty")
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlErr(file, err, fix)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		line := 0
		if len(doc.Content) > 0 {
			line = doc.Content[0].Line
		}
		return nil, inputErr(ErrMalformed, file, line, "", fix, "top level is not a mapping of field: value")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return nil, yamlErr(file, err, fix)
	}
	// A second document is almost always a paste error.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, inputErr(ErrMalformed, file, extra.Line, "", "keep one document per file (remove the extra ---)", "file holds more than one YAML document")
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlErr(file, err, fix)
	}
	return doc.Content[0], nil
}

// yamlErr turns a yaml.v3 error (possibly multi-line) into a one-line
// InputError carrying the first line number it mentions.
func yamlErr(file string, err error, fix string) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
		if len(te.Errors) > 1 {
			msg += " (and " + strconv.Itoa(len(te.Errors)-1) + " more)"
		}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.Replace(msg, m[0], "", 1)
	}
	msg = strings.Replace(msg, "unmarshal errors: ", "", 1)
	if strings.Contains(msg, "not found in type") {
		fix = "remove or rename the field (see recipes/components/*.yaml for the known fields)"
	}
	return &InputError{Kind: ErrMalformed, File: file, Line: line, Problem: "malformed YAML: " + msg, Fix: fix, Err: err}
}

// fieldPath renders a yamlpath.Line path as a.b[2].c.
func fieldPath(path ...any) string {
	var b strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			b.WriteString("[" + strconv.Itoa(k) + "]")
		}
	}
	return b.String()
}
