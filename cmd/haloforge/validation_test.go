package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNamesAndPathsValidated runs the real binary on suites and flags that
// once wrote outside the home, mounted any host file or failed late with a
// misleading message; each is now refused up front naming the field and
// the fix.
func TestNamesAndPathsValidated(t *testing.T) {
	bin := buildBinary(t)
	home := t.TempDir()
	dir := t.TempDir()
	write := func(name, y string) string {
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	body := "\nbackends: {cpu: {image: haloforge/runtime-smoke:sid}}\nmodels: {tiny: {tiny: {type: q4_0}}}\ncases:\n  - {tool: llama-bench, models: [tiny], backends: [cpu], tests: [tg4]}\n"
	escape := filepath.Join(t.TempDir(), "escaped")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"name with ..", []string{"bench", "--suite", write("dots", "name: ../../../../.."+escape+body)}, []string{"dots.yaml:1: name:", "suite names name run directories"}},
		{"name with space", []string{"bench", "--suite", write("space", "name: my suite"+body)}, []string{"space.yaml:1: name:"}},
		{"name with colon", []string{"bench", "--suite", write("colon", "name: a:b"+body)}, []string{"colon.yaml:1: name:"}},
		{"resume path", []string{"bench", "--resume", "../../../etc"}, []string{`--resume "../../../etc" is not a run id`}},
		{"empty suite", []string{"bench", "--suite", write("empty", "")}, []string{"empty.yaml: the suite file is empty"}},
		{"negative timeout", []string{"bench", "--suite", "smoke", "--timeout", "-5s"}, []string{"--timeout -5s: give a positive time limit"}},
		{"repetitions 0", []string{"bench", "--suite", write("reps", "name: reps\ndefaults: {repetitions: 0}"+body)}, []string{"reps.yaml:2: defaults.repetitions: must be at least 1"}},
		{"colon in path", []string{"bench", "--suite", write("cpath", "name: cpath\nbackends: {cpu: {image: x}}\nmodels: {m: {path: /data/a:b.gguf}}\ncases:\n  - {tool: llama-bench, models: [m], backends: [cpu], tests: [tg4]}\n")}, []string{"cpath.yaml:3: models.m.path:", "without ':'"}},
		{"etc shadow", []string{"model", "fetch", "--suite", write("shadow", "name: shadow\nbackends: {cpu: {image: x}}\nmodels: {m: {path: /etc/shadow}}\ncases:\n  - {tool: llama-bench, models: [m], backends: [cpu], tests: [tg4]}\n")}, []string{"/etc/shadow is outside the directories models may be mounted from", "--allow-model-dir"}},
	} {
		out, err := haloforge(bin, home, tc.args...).CombinedOutput()
		if err == nil {
			t.Errorf("%s: accepted\n%s", tc.name, out)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
		t.Logf("%s: %s", tc.name, strings.TrimSpace(string(out)))
	}
	if _, err := os.Stat(escape); err == nil {
		t.Errorf("a run directory was written outside the home at %s", escape)
	}
	if ents, _ := os.ReadDir(filepath.Join(home, "runs")); len(ents) != 0 {
		t.Errorf("runs were created: %v", ents)
	}

	// A path: model may carry its sha256, checked before use.
	mdir := t.TempDir()
	gguf := filepath.Join(mdir, "m.gguf")
	if err := os.WriteFile(gguf, []byte("GGUF\x03\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	sf := write("withsum", "name: withsum\nbackends: {cpu: {image: x}}\nmodels: {m: {path: "+gguf+", sha256: "+strings.Repeat("0", 64)+"}}\ncases:\n  - {tool: llama-bench, models: [m], backends: [cpu], tests: [tg4]}\n")
	c := haloforge(bin, home, "model", "fetch", "--suite", sf)
	c.Env = append(c.Env, "HALOFORGE_MODEL_DIRS="+mdir)
	if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), "sha256 mismatch") {
		t.Errorf("wrong sha256 of a path model: %v\n%s", err, out)
	}

	// A 404 names what to check, not "rerun to resume".
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	c = fetchCmd(bin, home, ts.URL, hubSuite(t))
	out, err := c.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "check the suite's repo, revision and file name") || strings.Contains(string(out), "resume") {
		t.Errorf("404: %v\n%s", err, out)
	}
}
