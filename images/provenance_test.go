package images

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/recipes"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./images -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file; got:\n%s", path, got)
	}
}

// testPlan is the smoke plan (llama.cpp cpu + vulkan) from a frozen copy of
// the recipes in testdata/recipes (so golden files change only when this
// package's output changes, not with every pin bump) and a lock derived
// from them. TestFromPlanFullStack checks the live recipes.
func testPlan(t *testing.T) *recipes.Plan { return testPlanWith(t, nil) }

func testPlanWith(t *testing.T, ov map[string]recipes.SourceOverride) *recipes.Plan {
	t.Helper()
	set, err := recipes.Load("testdata/recipes")
	if err != nil {
		t.Fatal(err)
	}
	target, err := recipes.LookupTarget("gfx1151")
	if err != nil {
		t.Fatal(err)
	}
	p, err := recipes.MakePlan(set, recipes.MakeLock(set, nil), target, recipes.Selection{Profile: "smoke"}, ov)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testSpec(t *testing.T) Spec {
	t.Helper()
	s, err := FromPlan(testPlan(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestManifestAndLabelsGolden(t *testing.T) {
	s := testSpec(t)
	for _, tc := range []struct {
		name  string
		image string
		ov    Overrides
	}{
		{"pinned", "llama-vulkan", nil},
		{"override", "llama-cpu", Overrides{"llama.cpp": {Path: "./my-llama.cpp", Digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := s
			if tc.ov != nil {
				rov := map[string]recipes.SourceOverride{}
				for k, v := range tc.ov {
					rov[k] = recipes.SourceOverride{Path: v.Path, Digest: v.Digest}
				}
				var err error
				if s, err = FromPlan(testPlanWith(t, rov)); err != nil {
					t.Fatal(err)
				}
			}
			im, err := s.Image(tc.image)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ManifestFor(s, im, tc.ov)
			if err != nil {
				t.Fatal(err)
			}
			mj, err := m.JSON()
			if err != nil {
				t.Fatal(err)
			}
			labels, err := ImageLabels(im, m)
			if err != nil {
				t.Fatal(err)
			}
			var lb strings.Builder
			for _, k := range SortedKeys(labels) {
				lb.WriteString(k + "=" + labels[k] + "\n")
			}
			golden(t, tc.name+".manifest.json", mj)
			golden(t, tc.name+".labels.txt", []byte(lb.String()))

			var back Manifest
			if err := json.Unmarshal(mj, &back); err != nil || back.Schema != ManifestSchema {
				t.Errorf("manifest does not round-trip: %v", err)
			}
			d, _ := m.Digest()
			if labels[LabelPrefix+"manifest-digest"] != d || labels[LabelPrefix+"lock-digest"] != s.LockDigest {
				t.Error("labels do not carry the manifest and lock digests")
			}
		})
	}
}

func TestLabelsAreDeterministic(t *testing.T) {
	s := testSpec(t)
	im, _ := s.Image("llama-cpu")
	m1, _ := ManifestFor(s, im, nil)
	m2, _ := ManifestFor(s, im, nil)
	l1, _ := m1.Labels()
	l2, _ := m2.Labels()
	if len(l1) != len(l2) {
		t.Fatal("label sets differ")
	}
	for k := range l1 {
		if l1[k] != l2[k] {
			t.Errorf("label %s differs between identical builds: %q vs %q", k, l1[k], l2[k])
		}
	}
}

func TestOverrideChangesOnlyProvenanceOfThatComponent(t *testing.T) {
	s := testSpec(t)
	im, _ := s.Image("llama-vulkan")
	plain, _ := ManifestFor(s, im, nil)
	over, _ := ManifestFor(s, im, Overrides{"rocwmma": {Path: "./x", Digest: "sha256:3"}})
	a, _ := plain.Digest()
	b, _ := over.Digest()
	if a != b {
		t.Error("an override of a component the image does not carry changed its manifest")
	}
}

// An image on another base than the plan's names that base in its
// manifest: llama-hip-distro builds on debian-sid in the gfx1151 plan,
// whose default base is debian-trixie.
func TestManifestNamesTheImagesBase(t *testing.T) {
	set, err := recipes.Default()
	if err != nil {
		t.Fatal(err)
	}
	target, _ := recipes.LookupTarget("gfx1151")
	p, err := recipes.MakePlan(set, recipes.MakeLock(set, nil), target, recipes.Selection{Only: []string{"llama.cpp"}, Variants: []string{"cpu", "hip-distro"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromPlan(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"llama-cpu": "debian-trixie", "llama-hip-distro": "debian-sid"}
	for _, im := range s.Images {
		m, err := ManifestFor(s, im, nil)
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := want[im.Name]; ok && (m.Base.Name != w || !strings.Contains(m.Base.Ref, strings.TrimPrefix(w, "debian-"))) {
			t.Errorf("%s: manifest base %s (%s), want %s", im.Name, m.Base.Name, m.Base.Ref, w)
		}
		delete(want, im.Name)
	}
	if len(want) != 0 {
		t.Errorf("images not in the plan: %v", want)
	}
}
