package report

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/haloforge/haloforge/bench"
)

// Label names of the images the pipeline builds (recipes' stepLabels).
const (
	labelLockDigest = "io.haloforge.lock-digest"
	labelComponent  = "io.haloforge.component"
	labelVersion    = "org.opencontainers.image.version"
	labelRevision   = "org.opencontainers.image.revision"
)

// ImageProvenance is one image a run used that the pipeline built: the
// exact reference run, the suite's alias it was resolved from, its image id,
// the lock it was built from and its component's version and revision.
type ImageProvenance struct {
	Ref        string `json:"ref"`
	Alias      string `json:"alias,omitempty"`
	ID         string `json:"id,omitempty"`
	LockDigest string `json:"lock_digest"`
	Component  string `json:"component,omitempty"`
	Version    string `json:"version,omitempty"`
	Revision   string `json:"revision,omitempty"`
}

// builtImages lists the run's images that carry the pipeline's lock-digest
// label (images from elsewhere, like the smoke image, are left out).
func builtImages(run bench.Run) []ImageProvenance {
	var out []ImageProvenance
	for _, ref := range slices.Sorted(maps.Keys(run.Images)) {
		im := run.Images[ref]
		if im.Labels[labelLockDigest] == "" {
			continue
		}
		out = append(out, ImageProvenance{Ref: im.Ref, Alias: im.Alias, ID: im.ID,
			LockDigest: im.Labels[labelLockDigest], Component: im.Labels[labelComponent],
			Version: im.Labels[labelVersion], Revision: im.Labels[labelRevision]})
	}
	return out
}

// provenanceTable writes the built images' provenance, if any.
func (r Report) provenanceTable(w io.Writer) {
	if len(r.Images) == 0 {
		return
	}
	_, _ = fmt.Fprintf(w, "\n## Images\n\n| Image | Alias | Image ID | Lock | Component |\n|---|---|---|---|---|\n")
	for _, im := range r.Images {
		comp := im.Component + " " + im.Version
		if im.Revision != "" {
			comp += " (" + shortHash(im.Revision) + ")"
		}
		_, _ = fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", im.Ref, im.Alias, shortHash(im.ID), shortHash(im.LockDigest), comp)
	}
}

// shortHash shortens sha256:HEX and bare hex to 12 digits.
func shortHash(s string) string {
	pre := ""
	if len(s) > 7 && s[:7] == "sha256:" {
		pre, s = "sha256:", s[7:]
	}
	if len(s) > 12 {
		s = s[:12]
	}
	return pre + s
}
