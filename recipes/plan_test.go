package recipes

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// committedPlan plans from the embedded recipes and the checked-in stack.lock.
func committedPlan(t *testing.T, target string, sel Selection, over map[string]SourceOverride) *Plan {
	t.Helper()
	set := mustDefault(t)
	lock, err := LoadLock("../stack.lock")
	if err != nil {
		t.Fatal(err)
	}
	tg, err := LookupTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	p, err := MakePlan(set, lock, tg, sel, over)
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	return p
}

// planOf plans from an edited recipe tree with a freshly made lock (what
// `haloforge lock` would write after the edit).
func planOf(t *testing.T, m fstest.MapFS, target string, sel Selection) *Plan {
	t.Helper()
	set, err := LoadFS(m, "recipes")
	if err != nil {
		t.Fatal(err)
	}
	tg, err := LookupTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	p, err := MakePlan(set, MakeLock(set, nil), tg, sel, nil)
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./recipes -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended run go test ./recipes -update\n--- got:\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "line " + strconv.Itoa(i+1) + ":\n  want " + al[i] + "\n  got  " + bl[i]
		}
	}
	return "lengths differ"
}

func renderText(t *testing.T, p *Plan, opt RenderOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.Render(&b, opt); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPlanGolden(t *testing.T) {
	tests := []struct {
		name   string
		target string
		sel    Selection
		json   bool
		opt    RenderOptions
	}{
		{"plan_gfx1151.txt", "gfx1151", Selection{}, false, RenderOptions{}},
		{"plan_gfx1151.json", "gfx1151", Selection{}, true, RenderOptions{}},
		{"plan_gfx1151_llama.txt", "gfx1151", Selection{Only: []string{"llama.cpp"}}, false, RenderOptions{}},
		{"plan_gfx1151_llama_hip_commands.txt", "gfx1151", Selection{Only: []string{"llama.cpp"}, Variants: []string{"hip-rocwmma"}}, false, RenderOptions{Commands: true}},
		{"plan_smoke.json", "gfx1151", Selection{Profile: "smoke"}, true, RenderOptions{}},
		{"plan_gfx1100_mamf.txt", "gfx1100", Selection{Only: []string{"mamf-finder"}}, false, RenderOptions{Commands: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := committedPlan(t, tc.target, tc.sel, nil)
			if tc.json {
				golden(t, tc.name, p.JSON())
			} else {
				golden(t, tc.name, renderText(t, p, tc.opt))
			}
		})
	}
}

// TestPlanDeterministic: the same inputs give the same bytes, however often
// and from whichever copy of the recipes.
func TestPlanDeterministic(t *testing.T) {
	first := committedPlan(t, "gfx1151", Selection{}, nil).JSON()
	for i := 0; i < 20; i++ {
		if got := committedPlan(t, "gfx1151", Selection{}, nil).JSON(); !bytes.Equal(got, first) {
			t.Fatalf("run %d gave a different plan", i)
		}
	}
	disk, err := Load(".")
	if err != nil {
		t.Fatal(err)
	}
	lock, _ := LoadLock("../stack.lock")
	tg, _ := LookupTarget("gfx1151")
	p, err := MakePlan(disk, lock, tg, Selection{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Only the display name of the recipe directory may differ ("recipes" vs ".").
	if !bytes.Equal(p.JSON(), first) {
		t.Fatal("plan from recipes/ on disk differs from the embedded one")
	}
	for _, forbidden := range []string{os.Getenv("HOME"), os.Getenv("USER") + "/", "/tmp/"} {
		if forbidden != "" && forbidden != "/" && bytes.Contains(first, []byte(forbidden)) {
			t.Errorf("plan contains host fact %q", forbidden)
		}
	}
}

// changedKeys lists the steps whose keys differ (or exist in only one plan).
func changedKeys(a, b *Plan) []string {
	ka, kb := a.Keys(), b.Keys()
	var out []string
	for id, k := range ka {
		if kb[id] != k {
			out = append(out, id)
		}
	}
	for id := range kb {
		if _, ok := ka[id]; !ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// TestKeyChanges proves which cache keys a change touches: a pin change
// rebuilds that component and what depends on it, nothing else.
func TestKeyChanges(t *testing.T) {
	const (
		llama   = "components/llama.cpp.yaml"
		therock = "components/therock.yaml"
	)
	everythingOnTheRock := []string{
		"aotriton/default", "llama.cpp/hip", "llama.cpp/hip-rocwmma",
		"mamf-finder/hipblaslt", "mamf-finder/rocblas", "pytorch/rocm", "rocm-bandwidth-test/default", "rocwmma/default", "therock/default",
	}
	// The distro provider's steps build on the sid base, not on TheRock.
	distro := []string{"llama.cpp/hip-distro", "rocm-bandwidth-test/distro"}
	tests := []struct {
		name   string
		edits  []edit
		target string
		want   []string
	}{
		{
			// e434e691...: llama.cpp as pinned by mudler/LocalAI PR #5665 (2025-06-16), a real later commit.
			name:  "llama.cpp pin",
			edits: []edit{{llama, "commit: d17a809ef0af09b16625e991a76f6fe80d9c332e", "commit: e434e69183fd9e1031f4445002083178c331a28b"}},
			want:  []string{"llama.cpp/cpu", "llama.cpp/hip", "llama.cpp/hip-distro", "llama.cpp/hip-rocwmma", "llama.cpp/vulkan"},
		},
		{
			name:  "llama.cpp vulkan flags only",
			edits: []edit{{llama, "-DGGML_NATIVE=OFF -DGGML_VULKAN=ON", "-DGGML_NATIVE=OFF -DGGML_VULKAN=ON -DGGML_VULKAN_CHECK_RESULTS=OFF"}},
			want:  []string{"llama.cpp/vulkan"},
		},
		{
			// a84bf357...: TheRock "Bump submodules 20250521 (#679)", also version.json 6.4.0.
			name:  "therock pin",
			edits: []edit{{therock, "commit: f3d0ac98bf1023efbcb602761b86ca0d48ba83f5", "commit: a84bf3575bab136b705c89b6472138a693f05258"}},
			want:  everythingOnTheRock,
		},
		{
			// e574efcc...: AOTriton "Finalize 0.10b Development (#102)", the parent of the pin.
			name:  "aotriton pin",
			edits: []edit{{"components/aotriton.yaml", "commit: 6fca155f4deeb8d9529326f7b69f350aeeb93477", "commit: e574efccf00258b17e0d72843eafdc7a87f38bb4"}},
			want:  []string{"aotriton/default", "mamf-finder/hipblaslt", "mamf-finder/rocblas", "pytorch/rocm"},
		},
		{
			name:  "mamf-finder hipblaslt runtime env",
			edits: []edit{{"components/mamf-finder.yaml", `ROCBLAS_USE_HIPBLASLT: "1"`, `ROCBLAS_USE_HIPBLASLT: "1"` + "\n        HIPBLASLT_LOG_LEVEL: \"0\""}},
			want:  []string{"mamf-finder/hipblaslt"},
		},
		{
			name:  "default base archive state",
			edits: []edit{{"base.yaml", "snapshot: 20261121T091544Z", "snapshot: 20261122T000000Z"}},
			want:  append([]string{"base", "llama.cpp/cpu", "llama.cpp/vulkan"}, everythingOnTheRock...),
		},
		{
			name:  "sid base archive state: only the distro provider",
			edits: []edit{{"base.yaml", "snapshot: 20261030T080801Z", "snapshot: 20261031T000000Z"}},
			want:  append([]string{"base:debian-sid"}, distro...),
		},
		{
			name:   "target gfx1100: CPU and Vulkan builds do not depend on it",
			target: "gfx1100",
			want:   append([]string{"llama.cpp/hip-distro"}, everythingOnTheRock...),
		},
		{
			name:  "comment-only recipe edit",
			edits: []edit{{llama, "# llama.cpp (ggml)", "# llama.cpp (ggml) -- edited comment"}},
			want:  nil,
		},
	}
	before := planOf(t, tree(t), "gfx1151", Selection{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := "gfx1151"
			if tc.target != "" {
				target = tc.target
			}
			after := planOf(t, tree(t, tc.edits...), target, Selection{})
			got := changedKeys(before, after)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if len(got) == 0 && len(want) == 0 {
				t.Logf("no key changed")
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("changed keys = %v\nwant %v", got, want)
			}
			bk, ak := before.Keys(), after.Keys()
			for _, id := range got {
				t.Logf("changed %-28s %s -> %s", id, short(bk[id]), short(ak[id]))
			}
			t.Logf("unchanged: %d of %d", len(bk)-len(got), len(bk))
		})
	}
}

// TestSmokeNeedsNoROCm: the smoke profile (and the equivalent --only
// llama.cpp --variant cpu,vulkan) plans only Debian-package builds.
func TestSmokeNeedsNoROCm(t *testing.T) {
	smoke := committedPlan(t, "gfx1151", Selection{Profile: "smoke"}, nil)
	var ids []string
	for _, s := range smoke.Steps {
		ids = append(ids, s.ID)
		if len(s.Mounts) > 0 || len(s.Needs) > 0 {
			t.Errorf("%s needs %v", s.ID, s.Needs)
		}
	}
	if !reflect.DeepEqual(ids, []string{"llama.cpp/cpu", "llama.cpp/vulkan"}) {
		t.Fatalf("smoke steps = %v", ids)
	}
	js := smoke.JSON()
	for _, bad := range []string{"therock", "/opt/rocm", "hipconfig", "kfd"} {
		if bytes.Contains(js, []byte(bad)) {
			t.Errorf("smoke plan mentions %q", bad)
		}
	}
	only := committedPlan(t, "gfx1151", Selection{Only: []string{"llama.cpp"}, Variants: []string{"cpu", "vulkan"}}, nil)
	if !bytes.Equal(only.JSON(), js) {
		t.Error("--only llama.cpp --variant cpu,vulkan differs from --profile smoke")
	}
	vk, _ := smoke.Step("llama.cpp/vulkan")
	if vk.Runtime == nil || !reflect.DeepEqual(vk.Runtime.Packages, []string{"libgomp1", "libvulkan1", "mesa-vulkan-drivers"}) {
		t.Errorf("vulkan runtime = %+v", vk.Runtime)
	}
	for _, p := range vk.Runtime.Packages {
		if strings.Contains(p, "-dev") || p == "glslc" || p == "cmake" {
			t.Errorf("runtime image carries build package %s", p)
		}
	}
}

func TestPlanContents(t *testing.T) {
	p := committedPlan(t, "gfx1151", Selection{Only: []string{"llama.cpp"}, Variants: []string{"hip-rocwmma"}}, nil)
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ID)
	}
	if want := []string{"therock/default", "rocwmma/default", "llama.cpp/hip-rocwmma"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("order = %v, want %v", ids, want)
	}
	s, _ := p.Step("llama.cpp/hip-rocwmma")
	if !s.Selected {
		t.Error("hip-rocwmma not marked selected")
	}
	if th, _ := p.Step("therock/default"); th.Selected {
		t.Error("therock marked selected")
	}
	cmds := ""
	for _, c := range s.Commands {
		cmds += c.Run + "\n"
	}
	for _, want := range []string{"-DGGML_HIP_ROCWMMA_FATTN=ON", "-DGPU_TARGETS=gfx1151", "-I/opt/haloforge/rocwmma/default/include", "-j ${HALOFORGE_JOBS:-$(nproc)}"} {
		if !strings.Contains(cmds, want) {
			t.Errorf("commands lack %q:\n%s", want, cmds)
		}
	}
	if !reflect.DeepEqual(s.Mounts, []Copy{{"therock/default", "/opt/haloforge/therock/default"}, {"rocwmma/default", "/opt/haloforge/rocwmma/default"}}) {
		t.Errorf("mounts = %v", s.Mounts)
	}
	if !strings.HasPrefix(s.Runtime.Image, "haloforge/llama-hip-rocwmma:gfx1151-") || !strings.HasSuffix(s.Runtime.Image, s.Key[:12]) {
		t.Errorf("runtime image = %s", s.Runtime.Image)
	}
	labels := map[string]string{}
	for _, l := range s.Labels {
		labels[l.Name] = l.Value
	}
	want := map[string]string{
		"org.opencontainers.image.revision": "d17a809ef0af09b16625e991a76f6fe80d9c332e",
		"org.opencontainers.image.source":   "https://github.com/ggml-org/llama.cpp.git",
		"io.haloforge.target":               "gfx1151",
		"io.haloforge.cache-key":            s.Key,
		"io.haloforge.lock-digest":          p.LockDigest,
		"io.haloforge.stack":                "llama.cpp=b5600@d17a809ef0af,rocwmma=develop+042bfbc3@042bfbc3b3ab,therock=6.4.0@f3d0ac98bf10",
	}
	for k, v := range want {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}
}

func TestSourceOverride(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("CMakeLists.txt", "project(x)\n")
	d1, err := DigestDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	write(".git/HEAD", "ref: refs/heads/master\n")
	if d, _ := DigestDir(dir); d != d1 {
		t.Error(".git changed the digest")
	}
	write("ggml/CMakeLists.txt", "option(GGML_HIP_ROCWMMA_FATTN)\n")
	d2, _ := DigestDir(dir)
	if d2 == d1 {
		t.Error("new file did not change the digest")
	}
	sel := Selection{Only: []string{"llama.cpp"}}
	base := committedPlan(t, "gfx1151", sel, nil)
	over := committedPlan(t, "gfx1151", sel, map[string]SourceOverride{"llama.cpp": {Path: dir, Digest: d2}})
	got := changedKeys(base, over)
	if want := []string{"llama.cpp/cpu", "llama.cpp/hip", "llama.cpp/hip-distro", "llama.cpp/hip-rocwmma", "llama.cpp/vulkan"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("changed = %v", got)
	}
	s, _ := over.Step("llama.cpp/cpu")
	if s.Source.Kind != "path" || s.Source.Digest != d2 || s.Source.Path != dir {
		t.Errorf("source = %+v", s.Source)
	}
	// Overriding a component without a lock entry is fine: the pin is not used.
	if _, err := DigestDir(filepath.Join(dir, "CMakeLists.txt")); err == nil {
		t.Error("DigestDir of a file should fail")
	}
}

// TestPlanBadInput: selection, lock and override problems.
func TestPlanBadInput(t *testing.T) {
	set := mustDefault(t)
	good, err := LoadLock("../stack.lock")
	if err != nil {
		t.Fatal(err)
	}
	gfx1151, _ := LookupTarget("gfx1151")
	lockWith := func(old, new string) *Lock {
		t.Helper()
		data := strings.Replace(string(good.Marshal()), old, new, 1)
		l, err := ParseLock("stack.lock", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	tests := []struct {
		name string
		lock *Lock
		sel  Selection
		over map[string]SourceOverride
		kind error
		want string
	}{
		{name: "unknown component", sel: Selection{Only: []string{"llama"}}, kind: ErrUnknownComponent,
			want: `^--only: unknown component "llama"; fix: use one of: aotriton, llama\.cpp, mamf-finder, `},
		{name: "unknown variant", sel: Selection{Only: []string{"llama.cpp"}, Variants: []string{"cuda"}}, kind: ErrUnknownVariant,
			want: `^--variant: no selected component has variant "cuda"; fix: use one of: cpu, hip, hip-distro, hip-rocwmma, vulkan \(or widen --only\)$`},
		{name: "unknown profile", sel: Selection{Profile: "nightly"}, kind: ErrUnknownProfile,
			want: `^--profile: unknown profile "nightly"; fix: use one of: smoke`},
		{name: "lock lacks a component", lock: lockWith("  - name: rocwmma\n    version: develop+042bfbc3\n    git: https://github.com/ROCm/rocWMMA.git\n    commit: 042bfbc3b3ab8543ecaaf402db75dcdea739617d\n", ""),
			kind: ErrMissingPin, want: `^stack\.lock:\d+: components: no entry for rocwmma; fix: run ` + "`haloforge lock`" + ` to record it$`},
		{name: "lock disagrees with recipe", lock: lockWith("commit: d17a809ef0af09b16625e991a76f6fe80d9c332e", "commit: e434e69183fd9e1031f4445002083178c331a28b"),
			kind: ErrLockMismatch, want: `^stack\.lock:\d+: components\[1\]\.commit: llama\.cpp commit is "e434e691.*" but recipes/components/llama\.cpp\.yaml says "d17a809e.*"; fix: run ` + "`haloforge lock`"},
		{name: "lock base disagrees", lock: lockWith("snapshot: 20261121T091544Z", "snapshot: 20250101T000000Z"),
			kind: ErrLockMismatch, want: `^stack\.lock:\d+: base\.snapshot: base snapshot is "20250101T000000Z" but recipes/base\.yaml says "20261121T091544Z"`},
		{name: "lock sid base disagrees", lock: lockWith("snapshot: 20261030T080801Z", "snapshot: 20250101T000000Z"),
			kind: ErrLockMismatch, want: `^stack\.lock:\d+: bases\[0\]\.snapshot: base debian-sid snapshot is "20250101T000000Z" but recipes/base\.yaml says "20261030T080801Z"`},
		{name: "override of unknown component", over: map[string]SourceOverride{"llama": {Path: "/x", Digest: "sha256:" + strings.Repeat("0", 64)}},
			kind: ErrUnknownComponent, want: `^--source llama: unknown component "llama"; fix: use one of`},
		{name: "override without digest", over: map[string]SourceOverride{"llama.cpp": {Path: "/x"}},
			kind: ErrMissingPin, want: `^--source llama\.cpp: source override needs a path and a sha256: digest`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.lock
			if l == nil {
				l = good
			}
			_, err := MakePlan(set, l, gfx1151, tc.sel, tc.over)
			checkErr(t, err, tc.kind, tc.want)
		})
	}
	_, err = LookupTarget("gfx9999")
	checkErr(t, err, ErrUnknownTarget, `^--target: unknown GPU target "gfx9999"; fix: use one of gfx1100, gfx1103, gfx1150, gfx1151, gfx1201, gfx942`)
}
