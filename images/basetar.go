package images

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"dagger.io/dagger"
)

// One tarball holds every base of a plan: `haloforge image base` saves
// each base under its plan reference (haloforge/base:<suite>-<snapshot>-<key>)
// into one `docker save` archive, and the executor imports each by its tag.
// The engine picks an image of a multi-image archive by the OCI annotation
// org.opencontainers.image.ref.name (dagger v0.20.0 core/container.go,
// resolveIndex), which the archive importer sets to the tag part of each
// RepoTags entry (containerd v2.1.5 core/images/archive/importer.go and
// reference.go, ociReferenceName).

// BaseTag is the tag part of a plan base reference, the name the engine
// selects it by in a multi-image tarball.
func BaseTag(ref string) string {
	if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
		return ref[i+1:]
	}
	return "latest"
}

// TarballBases imports spec's bases from one docker-save tarball: the
// default base and, by plan reference, each other base. A plan with one
// base imports the archive's only image whatever its tag (a tarball made
// by hand or by an older haloforge); a plan with several picks each by tag.
func TarballBases(client *dagger.Client, spec Spec, file *dagger.File) (*dagger.Container, map[string]*dagger.Container) {
	if len(spec.Bases) == 0 {
		return client.Container().Import(file), nil
	}
	imp := func(ref string) *dagger.Container {
		return client.Container().Import(file, dagger.ContainerImportOpts{Tag: BaseTag(ref)})
	}
	others := map[string]*dagger.Container{}
	for _, b := range spec.Bases {
		others[b.Ref] = imp(b.Ref)
	}
	return imp(spec.Base.Ref), others
}

// TarballTags lists the RepoTags of a docker-save tarball (its
// manifest.json), in archive order.
func TarballTags(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: no manifest.json: not a docker-save tarball (make one with haloforge image base -o FILE)", path)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w (not a docker-save tarball? make one with haloforge image base -o FILE)", path, err)
		}
		if h.Name != "manifest.json" {
			continue
		}
		var man []struct{ RepoTags []string }
		if err := json.NewDecoder(tr).Decode(&man); err != nil {
			return nil, fmt.Errorf("%s: manifest.json: %w", path, err)
		}
		var tags []string
		for _, m := range man {
			tags = append(tags, m.RepoTags...)
		}
		return tags, nil
	}
}

// CheckTarballBases says, before anything builds, when the tarball at path
// lacks a base the plan needs: a plan with several bases needs each under
// its plan reference. (A plan with one base takes the only image.)
func CheckTarballBases(spec Spec, path string) error {
	if len(spec.Bases) == 0 {
		return nil
	}
	tags, err := TarballTags(path)
	if err != nil {
		return err
	}
	var missing []string
	for _, b := range append([]Base{spec.Base}, spec.Bases...) {
		if !slices.ContainsFunc(tags, func(t string) bool { return BaseTag(t) == BaseTag(b.Ref) }) {
			missing = append(missing, fmt.Sprintf("%s (%s in recipes/base.yaml)", b.Ref, b.Name))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	have := strings.Join(tags, ", ")
	if have == "" {
		have = "no tagged image"
	}
	return fmt.Errorf("base tarball %s holds %s, but this plan builds on %s too: one tarball must hold every base of the plan; "+
		"make it with `haloforge image base -o %s` and the same --profile/--only/--variant/--target as the build", path, have, strings.Join(missing, " and "), path)
}
