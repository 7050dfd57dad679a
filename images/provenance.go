package images

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// ManifestPath is where every runtime image carries its provenance.
const ManifestPath = "/etc/haloforge/manifest.json"

// ManifestSchema versions the manifest format.
const ManifestSchema = "haloforge.manifest/v1"

// LabelPrefix prefixes haloforge's own OCI labels.
const LabelPrefix = "io.haloforge."

// Manifest is the provenance of one runtime image: what went in, exactly.
// It is written to ManifestPath and mirrored in OCI labels.
type Manifest struct {
	Schema     string         `json:"schema"`
	Image      string         `json:"image"`
	Ref        string         `json:"ref"`
	Target     string         `json:"target"`
	LockDigest string         `json:"lock_digest"`
	Base       Base           `json:"base"`
	Components []ComponentRef `json:"components"`
}

// ComponentRef records one component inside an image.
type ComponentRef struct {
	Name     string    `json:"name"`
	Variant  string    `json:"variant,omitempty"`
	Version  string    `json:"version"`
	Source   string    `json:"source"`
	CacheKey string    `json:"cache_key,omitempty"`
	Override *Override `json:"override,omitempty"`
}

// Override records a local source tree used instead of the pinned source.
type Override struct {
	// Path is the path the user gave.
	Path string `json:"path"`
	// Digest is the content digest of the directory (recipes.DigestDir).
	Digest string `json:"digest"`
}

// Overrides maps component names (not keys: every variant of llama.cpp uses
// the same override) to local source trees.
type Overrides map[string]Override

// Overrides are the local source trees the spec builds from (components
// whose source is local:PATH), with the content digests the plan recorded.
func (s Spec) Overrides() Overrides {
	out := Overrides{}
	for _, c := range s.Components {
		if p, ok := strings.CutPrefix(c.Source.URL, "local:"); ok {
			out[c.Name] = Override{Path: p, Digest: "sha256:" + c.Source.SHA256}
		}
	}
	return out
}

// ManifestFor builds the manifest of image im from spec s, recording the
// overrides in effect for its components.
func ManifestFor(s Spec, im Image, ov Overrides) (Manifest, error) {
	m := Manifest{
		Schema:     ManifestSchema,
		Image:      im.Name,
		Ref:        im.Ref,
		Target:     s.Target,
		LockDigest: s.LockDigest,
		Base:       s.Base,
	}
	if im.Base != "" {
		b, ok := s.base(im.Base)
		if !ok {
			return Manifest{}, fmt.Errorf("image %s builds on base %s, which the plan does not define; regenerate the plan", im.Name, im.Base)
		}
		m.Base = b
	}
	comps, err := s.Closure(im.Components...)
	if err != nil {
		return Manifest{}, fmt.Errorf("image %s: %w", im.Name, err)
	}
	for _, c := range comps {
		r := ComponentRef{
			Name:     c.Name,
			Variant:  c.Variant,
			Version:  c.Version,
			Source:   c.Source.String(),
			CacheKey: c.CacheKey,
		}
		if o, ok := ov[c.Name]; ok {
			o := o
			r.Override = &o
			r.Source = "local:" + o.Path
		}
		m.Components = append(m.Components, r)
	}
	return m, nil
}

// JSON renders the manifest, indented, with a trailing newline.
func (m Manifest) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render manifest of %s: %w", m.Image, err)
	}
	return append(b, '\n'), nil
}

// Digest is the sha256 of the manifest's JSON rendering.
func (m Manifest) Digest() (string, error) {
	b, err := m.JSON()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Labels returns the OCI labels of the image described by m: the standard
// org.opencontainers.image.* keys and dev.haloforge.* keys carrying the lock
// digest, target, base and every component's version and source.
// Labels are deterministic: no timestamps, so an unchanged stack yields an
// unchanged image.
func (m Manifest) Labels() (map[string]string, error) {
	d, err := m.Digest()
	if err != nil {
		return nil, err
	}
	l := map[string]string{
		"org.opencontainers.image.title":       m.Image,
		"org.opencontainers.image.ref.name":    m.Ref,
		"org.opencontainers.image.description": "haloforge " + m.Image + " runtime image for " + m.Target,
		"org.opencontainers.image.source":      "https://github.com/haloforge/haloforge",
		"org.opencontainers.image.base.name":   m.Base.Ref,
		LabelPrefix + "base-from":              m.Base.From,
		LabelPrefix + "target":                 m.Target,
		LabelPrefix + "lock-digest":            m.LockDigest,
		LabelPrefix + "manifest-digest":        d,
		LabelPrefix + "manifest-path":          ManifestPath,
	}
	if m.Base.From == "" {
		delete(l, LabelPrefix+"base-from")
	}
	if m.Base.Digest != "" {
		l["org.opencontainers.image.base.digest"] = m.Base.Digest
	}
	for _, c := range m.Components {
		k := LabelPrefix + "components." + slug(c.Name)
		if c.Variant != "" {
			k += "." + slug(c.Variant)
		}
		l[k+".version"] = c.Version
		l[k+".source"] = c.Source
		if c.Override != nil {
			l[k+".source-digest"] = c.Override.Digest
		}
	}
	return l, nil
}

// SortedKeys returns the keys of a label map in order, for deterministic
// application and display.
func SortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ImageLabels are the OCI labels of runtime image im: the plan's labels for
// it, completed by the manifest's (Labels) where the plan has no value.
func ImageLabels(im Image, m Manifest) (map[string]string, error) {
	own, err := m.Labels()
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	for k, v := range im.Labels {
		labels[k] = v
	}
	for k, v := range own {
		if _, ok := labels[k]; !ok {
			labels[k] = v
		}
	}
	return labels, nil
}
