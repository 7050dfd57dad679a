package images

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// saveTar writes a tar with the given manifest.json (a docker-save
// archive's index of images) and one layer entry.
func saveTar(t *testing.T, manifest string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "base.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, e := range []struct{ name, body string }{{"abc/layer.tar", "x"}, {"manifest.json", manifest}} {
		if e.name == "manifest.json" && manifest == "" {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBaseTag(t *testing.T) {
	for in, want := range map[string]string{
		"haloforge/base:trixie-20261121T091544Z-19020d0ca5b2": "trixie-20261121T091544Z-19020d0ca5b2",
		"localhost:5000/haloforge/base:sid":                   "sid",
		"localhost:5000/haloforge/base":                       "latest",
		"haloforge/base":                                      "latest",
	} {
		if got := BaseTag(in); got != want {
			t.Errorf("BaseTag(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckTarballBases(t *testing.T) {
	trixie := Base{Ref: "haloforge/base:trixie-20261121T091544Z-19020d0ca5b2", Name: "debian-trixie"}
	sid := Base{Ref: "haloforge/base:sid-20261030T080801Z-5c27b95edba9", Name: "debian-sid"}
	both := `[{"Config":"a.json","RepoTags":["haloforge/base:trixie","haloforge/base:trixie-20261121T091544Z-19020d0ca5b2"],"Layers":["abc/layer.tar"]},` +
		`{"Config":"b.json","RepoTags":["haloforge/base:sid","haloforge/base:sid-20261030T080801Z-5c27b95edba9"],"Layers":["abc/layer.tar"]}]`
	onlyTrixie := `[{"Config":"a.json","RepoTags":["haloforge/base:trixie-20261121T091544Z-19020d0ca5b2"],"Layers":["abc/layer.tar"]}]`
	oldTrixie := `[{"Config":"a.json","RepoTags":["haloforge/base:trixie"],"Layers":["abc/layer.tar"]}]`
	for _, c := range []struct {
		name     string
		spec     Spec
		manifest string
		want     string // "" ok, else a substring of the error
	}{
		{"one base takes any single image", Spec{Base: trixie}, oldTrixie, ""},
		{"one base, no manifest: left to the engine", Spec{Base: trixie}, "", ""},
		{"two bases in one tarball", Spec{Base: trixie, Bases: []Base{sid}}, both, ""},
		{"second base missing", Spec{Base: trixie, Bases: []Base{sid}}, onlyTrixie,
			"holds haloforge/base:trixie-20261121T091544Z-19020d0ca5b2, but this plan builds on haloforge/base:sid-20261030T080801Z-5c27b95edba9 (debian-sid in recipes/base.yaml) too"},
		{"the fix is named", Spec{Base: trixie, Bases: []Base{sid}}, onlyTrixie, "haloforge image base -o "},
		{"a tarball of an older haloforge (suite tags only)", Spec{Base: trixie, Bases: []Base{sid}}, oldTrixie,
			"builds on haloforge/base:trixie-20261121T091544Z-19020d0ca5b2 (debian-trixie in recipes/base.yaml) and haloforge/base:sid-"},
		{"not a docker-save tarball", Spec{Base: trixie, Bases: []Base{sid}}, "", "no manifest.json"},
		{"bad manifest", Spec{Base: trixie, Bases: []Base{sid}}, "{", "manifest.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckTarballBases(c.spec, saveTar(t, c.manifest))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := TarballTags(filepath.Join(t.TempDir(), "absent.tar")); err == nil {
		t.Error("TarballTags of a missing file: no error")
	}
}
