// Package testfix loads the real llama-bench outputs (copied from the shared
// fixtures into bench/llamabench/testdata)
// for tests of the store, reports and comparisons, independent of the
// parsers so those tests exercise real numbers even before a parser exists.
package testfix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/bench/llamabench"
)

// Dir is the llama-bench fixture directory: the repository's copy of the
// shared real outputs (bench/llamabench/testdata), or $HALOFORGE_FIXTURES.
func Dir() string {
	if d := os.Getenv("HALOFORGE_FIXTURES"); d != "" {
		return filepath.Join(d, "llama-bench-debian-sid")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	return filepath.Join(root, "bench", "llamabench", "testdata")
}

// LlamaJSON reads a llama-bench -o json or -o jsonl file into records with
// typed fields, every field kept in Fields and their order in Order.
func LlamaJSON(path string) ([]llamabench.Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var objs []json.RawMessage
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("[")) {
		if err := json.Unmarshal(trimmed, &objs); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	} else {
		for i, line := range strings.Split(string(trimmed), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			if !json.Valid([]byte(line)) {
				return nil, fmt.Errorf("%s:%d: invalid JSON", path, i+1)
			}
			objs = append(objs, json.RawMessage(line))
		}
	}
	out := make([]llamabench.Record, 0, len(objs))
	for _, o := range objs {
		var r llamabench.Record
		if err := json.Unmarshal(o, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := json.Unmarshal(o, &r.Fields); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		dec := json.NewDecoder(bytes.NewReader(o))
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			r.Order = append(r.Order, k.(string))
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Llama is LlamaJSON of a file in Dir; a missing fixture fails the test.
func Llama(t testing.TB, name string) []llamabench.Record {
	t.Helper()
	recs, err := LlamaJSON(filepath.Join(Dir(), name))
	if err != nil {
		t.Fatalf("fixture %s: %v (set HALOFORGE_FIXTURES to the shared fixtures directory)", name, err)
	}
	return recs
}
