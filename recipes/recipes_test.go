package recipes

import (
	"errors"
	"flag"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// tree returns the embedded recipe tree as a MapFS, with edits applied. An
// edit replaces the first occurrence of old with new in file (old must be
// there, so a recipe change cannot silently turn a test into a no-op).
type edit struct{ file, old, new string }

func tree(t *testing.T, edits ...edit) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(embedded, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(embedded, p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		f, ok := m[e.file]
		if !ok {
			if e.old != "" {
				t.Fatalf("edit: no file %s", e.file)
			}
			m[e.file] = &fstest.MapFile{Data: []byte(e.new)}
			continue
		}
		if e.old == "" && e.new == "" {
			delete(m, e.file)
			continue
		}
		if !strings.Contains(string(f.Data), e.old) {
			t.Fatalf("edit: %s does not contain %q", e.file, e.old)
		}
		f.Data = []byte(strings.Replace(string(f.Data), e.old, e.new, 1))
	}
	return m
}

// lineOfText is the 1-based line of the first occurrence of s in file.
func lineOfText(t *testing.T, m fstest.MapFS, file, s string) int {
	t.Helper()
	data := string(m[file].Data)
	i := strings.Index(data, s)
	if i < 0 {
		t.Fatalf("%s has no %q", file, s)
	}
	return strings.Count(data[:i], "\n") + 1
}

func mustDefault(t *testing.T) *Set {
	t.Helper()
	set, err := Default()
	if err != nil {
		t.Fatalf("built-in recipes do not load: %v", err)
	}
	return set
}

func TestDefaultRecipes(t *testing.T) {
	set := mustDefault(t)
	want := []string{"aotriton", "llama.cpp", "mamf-finder", "pytorch", "rocm-bandwidth-test", "rocwmma", "therock"}
	if got := set.Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("components = %v, want %v", got, want)
	}
	llama, _ := set.Recipe("llama.cpp")
	if got := llama.VariantNames(); !reflect.DeepEqual(got, []string{"cpu", "vulkan", "hip", "hip-rocwmma", "hip-distro"}) {
		t.Errorf("llama.cpp variants = %v", got)
	}
	if got := set.Profiles(); !reflect.DeepEqual(got, []string{"smoke"}) {
		t.Errorf("profiles = %v", got)
	}
	// Every pin is a full commit with a comment saying where it came from.
	for _, r := range set.Recipes {
		if !commitRE.MatchString(r.Source.Commit) {
			t.Errorf("%s: commit %q is not 40-hex", r.Name, r.Source.Commit)
		}
		data, _ := fs.ReadFile(embedded, "components/"+r.Name+".yaml")
		if !regexp.MustCompile(`(?m)^# Pin: `).Match(data) {
			t.Errorf("%s: no `# Pin:` comment saying where the commit was taken from", r.Name)
		}
	}
	// The embedded tree and the checked-in directory are the same files.
	disk, err := Load(".")
	if err != nil {
		t.Fatalf("Load(.) = %v", err)
	}
	if !reflect.DeepEqual(MakeLock(disk, nil), MakeLock(set, nil)) {
		t.Error("embedded recipes differ from recipes/ on disk")
	}
}

func TestCommittedLockIsCurrent(t *testing.T) {
	set := mustDefault(t)
	lock, err := LoadLock("../stack.lock")
	if err != nil {
		t.Fatal(err)
	}
	if err := lock.Check(set, nil); err != nil {
		t.Fatalf("stack.lock is stale: %v", err)
	}
	onDisk, _ := os.ReadFile("../stack.lock")
	if got := MakeLock(set, lock).Marshal(); string(got) != string(onDisk) {
		t.Fatalf("stack.lock is not what `haloforge lock` writes; run it")
	}
}

func TestTargets(t *testing.T) {
	tests := []struct {
		name         string
		tflops, gbps float64
	}{
		{"gfx1151", 59.392, 256},
		{"gfx1100", 122.88, 960},
		{"gfx1201", 194.6, 640},
		{"gfx1103", 16.589, 89.6},
		{"gfx1150", 23.757, 120},
		{"gfx942", 1307.4, 5324.8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := LookupTarget(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(tg.PeakTFLOPS()-tc.tflops) > 0.05 {
				t.Errorf("PeakTFLOPS = %.3f, want %.3f", tg.PeakTFLOPS(), tc.tflops)
			}
			if math.Abs(tg.PeakGBs()-tc.gbps) > 0.05 {
				t.Errorf("PeakGBs = %.3f, want %.3f", tg.PeakGBs(), tc.gbps)
			}
		})
	}
	if len(Targets()) != len(tests) {
		t.Errorf("table has %d targets, test covers %d", len(Targets()), len(tests))
	}
	if _, err := LookupTarget(DefaultTarget); err != nil {
		t.Errorf("default target: %v", err)
	}
}

// TestBadInput: every kind of bad input gives one line naming the file,
// line/field and fix, with the right error kind.
func TestBadInput(t *testing.T) {
	const llama = "components/llama.cpp.yaml"
	const rocwmma = "components/rocwmma.yaml"
	tests := []struct {
		name  string
		edits []edit
		kind  error
		want  string // regexp the message must match
		line  string // text whose line the message must name ("" to skip)
	}{
		{
			name:  "unknown component in depends",
			edits: []edit{{rocwmma, "component: therock", "component: therok"}},
			kind:  ErrUnknownComponent,
			want:  `^recipes/components/rocwmma\.yaml:\d+: depends\[0\]\.component: unknown component "therok"; fix: use one of: aotriton, .*therock$`,
			line:  "component: therok",
		},
		{
			name:  "unknown variant in depends",
			edits: []edit{{"components/mamf-finder.yaml", "  - component: pytorch\n", "  - component: pytorch\n    variant: cuda\n"}},
			kind:  ErrUnknownVariant,
			want:  `^recipes/components/mamf-finder\.yaml:\d+: depends\[0\]\.variant: pytorch has no variant "cuda"; fix: use one of: rocm$`,
			line:  "variant: cuda",
		},
		{
			name:  "dependency cycle",
			edits: []edit{{"components/therock.yaml", "build_packages:\n  # From", "depends:\n  - component: rocwmma\nbuild_packages:\n  # From"}},
			kind:  ErrCycle,
			want:  `^recipes/components/\S+\.yaml:\d+: \S*depends\[\d+\]: dependency cycle (\S+ -> )+\S+; fix: remove one of these dependencies$`,
		},
		{
			name:  "invalid version constraint",
			edits: []edit{{rocwmma, `version: ">= 6.4, < 6.5"`, `version: ">= six"`}},
			kind:  ErrConstraint,
			want:  `^recipes/components/rocwmma\.yaml:\d+: depends\[0\]\.version: invalid version constraint ">= six": .*; fix: write a constraint like ">= 6.4, < 6.5"$`,
			line:  `version: ">= six"`,
		},
		{
			name:  "unsatisfied version constraint",
			edits: []edit{{rocwmma, `version: ">= 6.4, < 6.5"`, `version: ">= 7.0"`}},
			kind:  ErrConstraint,
			want:  `^recipes/components/rocwmma\.yaml:\d+: depends\[0\]\.version: therock 6\.4\.0 does not satisfy ">= 7\.0"; fix: pin therock to a version matching >= 7\.0 in recipes/components/therock\.yaml, or relax the constraint$`,
			line:  `version: ">= 7.0"`,
		},
		{
			name:  "constraint on an unparseable version",
			edits: []edit{{"components/mamf-finder.yaml", "depends:\n  - component: pytorch", "depends:\n  - component: llama.cpp\n    variant: cpu\n    version: \">= 1\"\n  - component: pytorch"}},
			kind:  ErrConstraint,
			want:  `^recipes/components/llama\.cpp\.yaml:\d+: version: version "b5600" cannot be checked against mamf-finder's constraint ">= 1": .*; fix: give llama\.cpp a dotted version`,
		},
		{
			name:  "missing pin",
			edits: []edit{{llama, "  commit: d17a809ef0af09b16625e991a76f6fe80d9c332e\n", ""}},
			kind:  ErrMissingPin,
			want:  `^recipes/components/llama\.cpp\.yaml:\d+: source: git source has no commit; fix: set source\.commit to the exact 40-hex commit \(git ls-remote https://github\.com/ggml-org/llama\.cpp\.git <tag>\)$`,
			line:  "source:",
		},
		{
			name:  "short commit",
			edits: []edit{{llama, "commit: d17a809ef0af09b16625e991a76f6fe80d9c332e", "commit: d17a809"}},
			kind:  ErrMissingPin,
			want:  `^recipes/components/llama\.cpp\.yaml:\d+: source\.commit: "d17a809" is not a 40-hex commit; fix: use the full 40-character`,
			line:  "commit: d17a809",
		},
		{
			name:  "malformed yaml",
			edits: []edit{{llama, "name: llama.cpp\n", "name: llama.cpp\n  bad: [indent\n"}},
			kind:  ErrMalformed,
			want:  `^recipes/components/llama\.cpp\.yaml:\d+: malformed YAML: .*; fix: see recipes/components/llama\.cpp\.yaml for the shape of a recipe$`,
		},
		{
			name:  "unknown field",
			edits: []edit{{llama, "homepage:", "hompage:"}},
			kind:  ErrMalformed,
			want:  `^recipes/components/llama\.cpp\.yaml:\d+: malformed YAML: field hompage not found in type recipes\.Recipe; fix: remove or rename the field`,
			line:  "hompage:",
		},
		{
			name:  "wrong type",
			edits: []edit{{llama, "build_packages: [cmake, g++, git, ninja-build, pkg-config]", "build_packages: cmake"}},
			kind:  ErrMalformed,
			want:  `^recipes/components/llama\.cpp\.yaml:\d+: malformed YAML: cannot unmarshal !!str ` + "`cmake`" + ` into \[\]string`,
			line:  "build_packages: cmake",
		},
		{
			name:  "empty recipe",
			edits: []edit{{"components/empty.yaml", "", "\n"}},
			kind:  ErrMalformed,
			want:  `^recipes/components/empty\.yaml: file is empty; fix: `,
		},
		{
			name:  "name does not match file",
			edits: []edit{{llama, "name: llama.cpp", "name: llamacpp"}},
			kind:  ErrMalformed,
			want:  `^recipes/components/llama\.cpp\.yaml:\d+: name: component name "llamacpp" does not match its file name "llama\.cpp\.yaml"; fix: rename the file`,
			line:  "name: llamacpp",
		},
		{
			name:  "template with unknown key",
			edits: []edit{{llama, "-DGGML_NATIVE=OFF -DGGML_HIP=ON\n        -DGPU_TARGETS={{.Target}}", "-DGGML_NATIVE=OFF -DGGML_HIP=ON\n        -DGPU_TARGETS={{.Traget}}"}},
			kind:  ErrTemplate,
			want:  `^recipes/components/llama\.cpp\.yaml:\d+: variants\[2\]\.configure\[1\]: template: variants\[2\]\.configure\[1\]:\d+:\d+: executing .*can't evaluate field Traget.*; fix: fix the \{\{\.\.\.\}\} expression; known keys: `,
		},
		{
			name:  "template syntax error",
			edits: []edit{{"components/rocm-bandwidth-test.yaml", "-DCMAKE_PREFIX_PATH={{.Dep.therock}}", "-DCMAKE_PREFIX_PATH={{.Dep.therock -DX=1"}},
			kind:  ErrTemplate,
			want:  `^recipes/components/rocm-bandwidth-test\.yaml:\d+: variants\[0\]\.configure\[0\]: template: variants\[0\]\.configure\[0\]:\d+: bad number syntax: "-D"; fix: fix the`,
		},
		{
			name:  "template naming an undeclared dependency",
			edits: []edit{{"components/rocm-bandwidth-test.yaml", "-DCMAKE_PREFIX_PATH={{.Dep.therock}}", "-DCMAKE_PREFIX_PATH={{.Dep.rocwmma}}"}},
			kind:  ErrTemplate,
			want:  `^recipes/components/rocm-bandwidth-test\.yaml:\d+: variants\[0\]\.configure\[0\]: template: .*map has no entry for key "rocwmma"`,
		},
		{
			name:  "missing base",
			edits: []edit{{"base.yaml", "", ""}},
			kind:  ErrMalformed,
			want:  `^recipes/base\.yaml: missing base definition; fix: add base\.yaml`,
		},
		{
			name:  "base without archive pin",
			edits: []edit{{"base.yaml", "snapshot: 20261121T091544Z", "snapshot: latest"}},
			kind:  ErrMissingPin,
			want:  `^recipes/base\.yaml:\d+: bases\[0\]\.snapshot: archive state "latest" is not a YYYYMMDDTHHMMSSZ timestamp; fix: `,
			line:  "snapshot: latest",
		},
		{
			name:  "duplicate variant",
			edits: []edit{{llama, "  - name: vulkan", "  - name: cpu"}},
			kind:  ErrMalformed,
			want:  `^recipes/components/llama\.cpp\.yaml:\d+: variants\[1\]\.name: variant "cpu" defined twice; fix: rename one of the two$`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tree(t, tc.edits...)
			_, err := LoadFS(m, "recipes")
			checkErr(t, err, tc.kind, tc.want)
			if tc.line != "" {
				var ie *InputError
				errors.As(err, &ie)
				file := strings.TrimPrefix(ie.File, "recipes/")
				if want := lineOfText(t, m, file, tc.line); ie.Line != want {
					t.Errorf("line = %d, want %d (%q)", ie.Line, want, tc.line)
				}
			}
		})
	}
}

func checkErr(t *testing.T, err error, kind error, want string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, kind) {
		t.Errorf("error kind: %v is not %v", err, kind)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("message is not one line: %q", msg)
	}
	if !regexp.MustCompile(want).MatchString(msg) {
		t.Errorf("message\n  %s\ndoes not match\n  %s", msg, want)
	}
}

func TestLoadMissingDir(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope"))
	checkErr(t, err, ErrMalformed, `nope: cannot read the recipes directory: .*; fix: pass --recipes DIR`)
}
