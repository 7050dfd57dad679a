package recipes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// CacheKeyLabel is the image label carrying a step's cache key (see
// stepLabels); images built from the plan carry it on a shared Docker host.
const CacheKeyLabel = "io.haloforge.cache-key"

// CacheSet is what a shared build cache already holds, as another runner or
// a shared Docker host reports it: full cache keys and image references,
// each with the source that named it. A plan step whose key, build image or
// runtime image is in the set would be served by the shared cache instead of
// being built. Keys are content-derived over every input and every needed
// step's key, so a matching key means the very same build.
type CacheSet struct {
	keys    map[string]string // cache key -> source
	images  map[string]string // image reference -> source
	sources []string
}

// NewCacheSet returns an empty set.
func NewCacheSet() *CacheSet {
	return &CacheSet{keys: map[string]string{}, images: map[string]string{}}
}

// AddKey records a cache key reported by source.
func (c *CacheSet) AddKey(key, source string) {
	if _, ok := c.keys[key]; !ok {
		c.keys[key] = source
	}
	c.addSource(source)
}

// AddImage records an image reference (repository:tag) present in the cache.
func (c *CacheSet) AddImage(ref, source string) {
	if _, ok := c.images[ref]; !ok {
		c.images[ref] = source
	}
	c.addSource(source)
}

func (c *CacheSet) addSource(s string) {
	for _, have := range c.sources {
		if have == s {
			return
		}
	}
	c.sources = append(c.sources, s)
}

// Len is the number of keys and image references in the set.
func (c *CacheSet) Len() int { return len(c.keys) + len(c.images) }

// Sources names where the set's entries came from, in the order added.
func (c *CacheSet) Sources() []string { return append([]string(nil), c.sources...) }

var (
	fullKeyRE = sha256RE // a full cache key is a 64-hex sha256
	// an image reference: [registry/]repository[:tag]; what docker images prints.
	imageRefRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:-]*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
)

// ParseCacheKeys adds the entries of one exported cache listing to c. name
// is the file's name for messages and provenance. Accepted forms:
//
//   - a plan as `haloforge plan --json` prints it on the runner that built
//     it: its base key and every step's key;
//   - `docker image inspect` output (a JSON array): each image's
//     io.haloforge.cache-key label and its repository tags;
//   - text, one entry per line: a 64-hex cache key or an image reference
//     as the first field (`haloforge plan --keys`, `docker images --format
//     '{{.Label "io.haloforge.cache-key"}}'` or `'{{.Repository}}:{{.Tag}}'`);
//     blank lines, # comments, <no value> and <none>:<none> are skipped.
func ParseCacheKeys(name string, data []byte, c *CacheSet) error {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return inputErr(ErrMalformed, name, 0, "", "export the keys with haloforge plan --json (or --keys) on the runner that built them",
			"empty cache listing")
	case trimmed[0] == '{':
		return parsePlanKeys(name, trimmed, c)
	case trimmed[0] == '[':
		return parseInspectKeys(name, trimmed, c)
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = strings.TrimSpace(line[:j])
		}
		if line == "" || line == "<no value>" || strings.HasPrefix(line, "<none>") {
			continue
		}
		f := strings.Fields(line)[0]
		switch {
		case fullKeyRE.MatchString(f):
			c.AddKey(f, name)
		case imageRefRE.MatchString(f):
			c.AddImage(f, name)
		default:
			return inputErr(ErrMalformed, name, i+1, "", "write one 64-hex cache key or one image reference (repository:tag) per line, or pass a plan JSON",
				"%q is neither a cache key nor an image reference", f)
		}
	}
	return nil
}

func parsePlanKeys(name string, data []byte, c *CacheSet) error {
	var p struct {
		Target string `json:"target"`
		Base   *struct {
			Key string `json:"key"`
		} `json:"base"`
		Steps []struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return &InputError{Kind: ErrMalformed, File: name, Problem: "not a plan JSON: " + err.Error(),
			Fix: "pass the output of haloforge plan --json, a docker image inspect array, or a list of keys", Err: err}
	}
	if p.Base == nil || p.Steps == nil {
		return inputErr(ErrMalformed, name, 0, "steps", "pass the output of haloforge plan --json",
			"a JSON object without base and steps is not a plan")
	}
	for _, k := range append([]string{p.Base.Key}, stepKeys(p.Steps)...) {
		if !fullKeyRE.MatchString(k) {
			return inputErr(ErrMalformed, name, 0, "key", "regenerate it with haloforge plan --json", "%q is not a 64-hex cache key", k)
		}
		c.AddKey(k, name)
	}
	return nil
}

func stepKeys(steps []struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Key
	}
	return out
}

func parseInspectKeys(name string, data []byte, c *CacheSet) error {
	var imgs []struct {
		RepoTags []string `json:"RepoTags"`
		Config   *struct {
			Labels map[string]string `json:"Labels"`
		} `json:"Config"`
	}
	if err := json.Unmarshal(data, &imgs); err != nil {
		return &InputError{Kind: ErrMalformed, File: name, Problem: "not docker image inspect output: " + err.Error(),
			Fix: "pass the output of docker image inspect IMAGE..., a plan JSON, or a list of keys", Err: err}
	}
	for _, im := range imgs {
		if im.Config != nil {
			if k := im.Config.Labels[CacheKeyLabel]; fullKeyRE.MatchString(k) {
				c.AddKey(k, name)
			}
		}
		for _, t := range im.RepoTags {
			if imageRefRE.MatchString(t) {
				c.AddImage(t, name)
			}
		}
	}
	return nil
}

// CacheStatus says whether the shared cache serves one plan step.
type CacheStatus struct {
	Step   string `json:"step"` // step ID, or "base"
	Key    string `json:"key"`
	Served bool   `json:"served"`
	By     string `json:"by,omitempty"`   // "key" or "build image"
	From   string `json:"from,omitempty"` // the listing that named it
}

// CacheReport is the plan checked against a shared cache.
type CacheReport struct {
	Sources []string      `json:"sources"`
	Steps   []CacheStatus `json:"steps"` // base first, then build order
	Served  int           `json:"served"`
	ToBuild []string      `json:"to_build"`
}

// CheckCache marks every step of the plan (and its base) as served by the
// shared cache or still to build. It is pure: the same plan and set give the
// same report. A step is served when the set holds its cache key or its
// build image (which holds the installed prefix dependents copy from).
func (p *Plan) CheckCache(c *CacheSet) CacheReport {
	r := CacheReport{Sources: c.Sources(), ToBuild: []string{}}
	add := func(st CacheStatus) {
		if st.Served {
			r.Served++
		} else {
			r.ToBuild = append(r.ToBuild, st.Step)
		}
		r.Steps = append(r.Steps, st)
	}
	add(c.status("base", p.Base.Key, p.Base.Image))
	for _, s := range p.Steps {
		add(c.status(s.ID, s.Key, s.BuildImage))
	}
	return r
}

// status looks a step up. A runtime image alone serves nothing: steps that
// need this one copy from its build image.
func (c *CacheSet) status(id, key, buildImage string) CacheStatus {
	st := CacheStatus{Step: id, Key: key}
	if from, ok := c.keys[key]; ok {
		st.Served, st.By, st.From = true, "key", from
	} else if from, ok := c.images[buildImage]; ok && buildImage != "" {
		st.Served, st.By, st.From = true, "build image", from
	}
	return st
}

// mark is the suffix of a step line in the text plan.
func (r *CacheReport) mark(id string) string {
	if r == nil {
		return ""
	}
	for _, s := range r.Steps {
		if s.Step == id {
			if s.Served {
				return "  [shared cache]"
			}
			return "  [to build]"
		}
	}
	return ""
}

// render writes the summary section of the text plan.
func (r *CacheReport) render(b io.Writer) {
	srcs := append([]string(nil), r.Sources...)
	sort.Strings(srcs)
	_, _ = fmt.Fprintf(b, "\nshared cache (%s): serves %d of %d steps (base included), %d to build\n",
		strings.Join(srcs, ", "), r.Served, len(r.Steps), len(r.ToBuild))
	for _, s := range r.Steps {
		if s.Served {
			_, _ = fmt.Fprintf(b, "  served    %-22s by %s from %s\n", s.Step, s.By, s.From)
		}
	}
	for _, id := range r.ToBuild {
		_, _ = fmt.Fprintf(b, "  to build  %s\n", id)
	}
}

// KeysText lists the plan's cache keys, base first then build order, as
// `KEY  STEP` lines: what `haloforge plan --keys` prints for another
// runner's --cached-from.
func (p *Plan) KeysText() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# haloforge plan cache keys: target %s, lock %s\n", p.Target, p.LockDigest)
	fmt.Fprintf(&b, "%s  base\n", p.Base.Key)
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "%s  %s\n", s.Key, s.ID)
	}
	return b.Bytes()
}
