package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/haloforge/haloforge/internal/yamlpath"
)

// LockVersion is the stack.lock format version this package reads and writes.
const LockVersion = 1

// DefaultLockFile is the lock's path relative to the repository root.
const DefaultLockFile = "stack.lock"

// Lock is stack.lock: every exact input of a build. It is generated from the
// recipes by `haloforge lock` and checked in; MakePlan refuses recipes that
// disagree with it, so a plan made from a lock is the same on any machine.
type Lock struct {
	LockVersion int        `yaml:"lock_version"`
	Base        LockedBase `yaml:"base"`
	// Bases are the other bases of base.yaml (after the default), by name.
	Bases      []LockedBase      `yaml:"bases,omitempty"`
	Tools      []Tool            `yaml:"tools"`      // sorted by name
	Components []LockedComponent `yaml:"components"` // sorted by name

	File string `yaml:"-"`
	node *yaml.Node
}

// LockedBase is the identity of the debootstrapped base image.
type LockedBase struct {
	Name          string `yaml:"name" json:"name"`
	Distribution  string `yaml:"distribution" json:"distribution"`
	Suite         string `yaml:"suite" json:"suite"`
	Architecture  string `yaml:"architecture" json:"architecture"`
	Variant       string `yaml:"variant" json:"variant"`
	Mirror        string `yaml:"mirror" json:"mirror"`
	Snapshot      string `yaml:"snapshot" json:"snapshot"`
	ReleaseSHA256 string `yaml:"release_sha256" json:"release_sha256"`
	// RootfsSHA256 is the sha256 of the debootstrapped rootfs tarball. It is
	// an output, recorded after the first base build (`haloforge lock
	// --rootfs-sha256 HEX`); empty until then. When set, the executor must
	// refuse a base whose rootfs differs.
	RootfsSHA256 string `yaml:"rootfs_sha256" json:"rootfs_sha256"`
}

// Tool is a tool version the build depends on.
type Tool struct {
	Name    string `yaml:"name" json:"name"`
	Version string `yaml:"version" json:"version"`
}

// LockedComponent is one component's exact source.
type LockedComponent struct {
	Name    string `yaml:"name" json:"name"`
	Version string `yaml:"version" json:"version"`
	Git     string `yaml:"git,omitempty" json:"git,omitempty"`
	Commit  string `yaml:"commit,omitempty" json:"commit,omitempty"`
	Tarball string `yaml:"tarball,omitempty" json:"tarball,omitempty"`
	SHA256  string `yaml:"sha256,omitempty" json:"sha256,omitempty"`
}

// DefaultTools are recorded by `haloforge lock` when the previous lock has
// none: the Dagger engine/SDK the pipeline pins, the Go toolchain of go.mod,
// and the debootstrap that makes the base image (Debian bookworm's).
var DefaultTools = []Tool{
	{Name: "dagger", Version: "v0.20.0"},
	{Name: "debootstrap", Version: "1.0.128+nmu2+deb12u2"},
	{Name: "go", Version: "1.26.8"},
}

// LoadLock reads and validates a lock file.
func LoadLock(path string) (*Lock, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		fix := "check the path"
		if errors.Is(err, fs.ErrNotExist) {
			fix = "run `haloforge lock` to write it from the recipes, or pass --lock FILE"
		}
		return nil, &InputError{Kind: ErrMalformed, File: path, Problem: "cannot read lock: " + err.Error(), Fix: fix, Err: err}
	}
	return ParseLock(path, data)
}

// ParseLock decodes and validates a lock; file is used in messages.
func ParseLock(file string, data []byte) (*Lock, error) {
	l := &Lock{File: file}
	node, err := decodeStrict(file, data, l, "regenerate it with `haloforge lock`")
	if err != nil {
		return nil, err
	}
	l.node = node
	if l.LockVersion != LockVersion {
		return nil, l.errf(ErrMalformed, fmt.Sprintf("regenerate it with `haloforge lock` (this haloforge writes lock_version: %d)", LockVersion),
			[]any{"lock_version"}, "unsupported lock_version %d", l.LockVersion)
	}
	b := l.Base
	for _, f := range []struct{ name, val string }{
		{"name", b.Name}, {"distribution", b.Distribution}, {"suite", b.Suite}, {"architecture", b.Architecture},
		{"variant", b.Variant}, {"mirror", b.Mirror},
	} {
		if f.val == "" {
			return nil, l.errf(ErrMissingPin, "regenerate it with `haloforge lock`", []any{"base", f.name}, "missing base %s", f.name)
		}
	}
	if !snapshotRE.MatchString(b.Snapshot) {
		return nil, l.errf(ErrMissingPin, "regenerate it with `haloforge lock`", []any{"base", "snapshot"}, "base snapshot %q is not a YYYYMMDDTHHMMSSZ timestamp", b.Snapshot)
	}
	if !sha256RE.MatchString(b.ReleaseSHA256) {
		return nil, l.errf(ErrMissingPin, "regenerate it with `haloforge lock`", []any{"base", "release_sha256"}, "base release_sha256 %q is not a sha256", b.ReleaseSHA256)
	}
	if b.RootfsSHA256 != "" && !sha256RE.MatchString(b.RootfsSHA256) {
		return nil, l.errf(ErrMalformed, "set it to the 64-hex sha256 of the rootfs tarball, or empty", []any{"base", "rootfs_sha256"}, "%q is not a sha256", b.RootfsSHA256)
	}
	if err := l.validateBases(); err != nil {
		return nil, err
	}
	seenTool := map[string]bool{}
	for i, t := range l.Tools {
		if t.Name == "" || t.Version == "" {
			return nil, l.errf(ErrMissingPin, "give every tool a name and a version", []any{"tools", i}, "tool entry without name or version")
		}
		if seenTool[t.Name] {
			return nil, l.errf(ErrMalformed, "keep one entry per tool", []any{"tools", i, "name"}, "tool %q listed twice", t.Name)
		}
		seenTool[t.Name] = true
	}
	seen := map[string]bool{}
	for i, c := range l.Components {
		p := []any{"components", i}
		if c.Name == "" {
			return nil, l.errf(ErrMalformed, "regenerate it with `haloforge lock`", p, "component entry without a name")
		}
		if seen[c.Name] {
			return nil, l.errf(ErrMalformed, "keep one entry per component", append(p, "name"), "component %q listed twice", c.Name)
		}
		seen[c.Name] = true
		if c.Version == "" {
			return nil, l.errf(ErrMissingPin, "regenerate it with `haloforge lock`", p, "%s has no version", c.Name)
		}
		switch {
		case c.Git != "" && c.Tarball == "":
			if !commitRE.MatchString(c.Commit) {
				return nil, l.errf(ErrMissingPin, "pin the commit in recipes/components/"+c.Name+".yaml and run `haloforge lock`", append(p, "commit"), "%s: %q is not a 40-hex commit", c.Name, c.Commit)
			}
		case c.Tarball != "" && c.Git == "":
			if !sha256RE.MatchString(c.SHA256) {
				return nil, l.errf(ErrMissingPin, "pin the sha256 in recipes/components/"+c.Name+".yaml and run `haloforge lock`", append(p, "sha256"), "%s: %q is not a sha256", c.Name, c.SHA256)
			}
		default:
			return nil, l.errf(ErrMissingPin, "regenerate it with `haloforge lock`", p, "%s needs exactly one of git+commit or tarball+sha256", c.Name)
		}
	}
	return l, nil
}

func (l *Lock) errf(kind error, fix string, path []any, format string, args ...any) *InputError {
	return inputErr(kind, l.File, yamlpath.Line(l.node, path...), fieldPath(path...), fix, format, args...)
}

// MakeLock builds the lock for a recipe set. Tools and the rootfs digest are
// carried over from prev (which may be nil) when the base is unchanged.
func MakeLock(set *Set, prev *Lock) *Lock {
	b := set.Base
	l := &Lock{
		LockVersion: LockVersion,
		Base:        lockedBase(b),
		Tools:       append([]Tool(nil), DefaultTools...),
	}
	if prev != nil {
		if len(prev.Tools) > 0 {
			l.Tools = append([]Tool(nil), prev.Tools...)
		}
		pb := prev.Base
		pb.RootfsSHA256 = ""
		if pb == l.Base {
			l.Base.RootfsSHA256 = prev.Base.RootfsSHA256
		}
	}
	for _, b := range set.Bases[1:] {
		lb := lockedBase(b)
		if prev != nil {
			if pb, ok := prev.LockedBaseNamed(b.Name); ok && pb.RootfsSHA256 != "" {
				pb.RootfsSHA256 = ""
				if pb == lb {
					lb.RootfsSHA256 = prev.mustBase(b.Name).RootfsSHA256
				}
			}
		}
		l.Bases = append(l.Bases, lb)
	}
	for _, r := range set.Recipes {
		l.Components = append(l.Components, lockedFrom(r))
	}
	l.normalize()
	return l
}

// lockedBase is the lock entry for a base, without the rootfs digest (which
// only a build can know).
func lockedBase(b *Base) LockedBase {
	return LockedBase{Name: b.Name, Distribution: b.Distribution, Suite: b.Suite, Architecture: b.Architecture,
		Variant: b.Variant, Mirror: b.Mirror, Snapshot: b.Snapshot, ReleaseSHA256: b.ReleaseSHA256}
}

func lockedFrom(r *Recipe) LockedComponent {
	return LockedComponent{Name: r.Name, Version: r.Version, Git: r.Source.Git, Commit: r.Source.Commit, Tarball: r.Source.Tarball, SHA256: r.Source.SHA256}
}

func (l *Lock) normalize() {
	sort.Slice(l.Tools, func(i, j int) bool { return l.Tools[i].Name < l.Tools[j].Name })
	sort.Slice(l.Components, func(i, j int) bool { return l.Components[i].Name < l.Components[j].Name })
}

// Component returns the locked entry for name.
func (l *Lock) Component(name string) (LockedComponent, bool) {
	if i := l.componentIndex(name); i >= 0 {
		return l.Components[i], true
	}
	return LockedComponent{}, false
}

// Tool returns the locked version of a tool, or "".
func (l *Lock) Tool(name string) string {
	for _, t := range l.Tools {
		if t.Name == name {
			return t.Version
		}
	}
	return ""
}

const lockHeader = `# stack.lock: every exact input of the haloforge stack.
# Generated from recipes/ by ` + "`haloforge lock`" + `; check with ` + "`haloforge lock --check`" + `.
# Edit pins in recipes/components/*.yaml and recipes/base.yaml, not here.
`

// Marshal renders the lock canonically (sorted, fixed field order, header
// comment). The same lock always gives the same bytes.
func (l *Lock) Marshal() []byte {
	c := *l
	c.Tools = append([]Tool(nil), l.Tools...)
	c.Components = append([]LockedComponent(nil), l.Components...)
	c.normalize()
	var b strings.Builder
	b.WriteString(lockHeader)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&c); err != nil {
		// Encoding plain strings and ints cannot fail.
		panic("recipes: encoding lock: " + err.Error())
	}
	_ = enc.Close()
	return []byte(b.String())
}

// Digest is sha256 of the canonical lock, as "sha256:<hex>". Comments and
// formatting of the file on disk do not change it.
func (l *Lock) Digest() string {
	sum := sha256.Sum256(l.Marshal())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Check reports the first difference between the lock and the recipes, as
// an *InputError of kind ErrLockMismatch or ErrMissingPin naming the lock
// line and the fix. Only components in names are checked (all when nil).
func (l *Lock) Check(set *Set, names []string) error {
	b := set.Base
	want := lockedBase(b)
	got := l.Base
	got.RootfsSHA256 = ""
	if got != want {
		field, g, w := diffBase(got, want)
		return l.errf(ErrLockMismatch, "run `haloforge lock` to refresh stack.lock from "+b.File, []any{"base", field},
			"base %s is %q but %s says %q", field, g, b.File, w)
	}
	if err := l.checkBases(set); err != nil {
		return err
	}
	if names == nil {
		names = set.Names()
		for _, c := range l.Components {
			if _, ok := set.Recipe(c.Name); !ok {
				return l.errf(ErrLockMismatch, "run `haloforge lock` to drop it", []any{"components", l.componentIndex(c.Name)},
					"%s is locked but has no recipe", c.Name)
			}
		}
	}
	for _, n := range names {
		r, ok := set.Recipe(n)
		if !ok {
			continue
		}
		c, ok := l.Component(n)
		if !ok {
			return l.errf(ErrMissingPin, "run `haloforge lock` to record it", []any{"components"}, "no entry for %s", n)
		}
		if want := lockedFrom(r); c != want {
			field, g, w := diffComponent(c, want)
			return l.errf(ErrLockMismatch, "run `haloforge lock` to refresh stack.lock from "+r.File,
				[]any{"components", l.componentIndex(n), field}, "%s %s is %q but %s says %q", n, field, g, r.File, w)
		}
	}
	return nil
}

func (l *Lock) componentIndex(name string) int {
	for i, c := range l.Components {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func diffBase(a, b LockedBase) (field, got, want string) {
	pairs := []struct{ f, a, b string }{
		{"name", a.Name, b.Name}, {"distribution", a.Distribution, b.Distribution}, {"suite", a.Suite, b.Suite},
		{"architecture", a.Architecture, b.Architecture}, {"variant", a.Variant, b.Variant}, {"mirror", a.Mirror, b.Mirror},
		{"snapshot", a.Snapshot, b.Snapshot}, {"release_sha256", a.ReleaseSHA256, b.ReleaseSHA256},
	}
	for _, p := range pairs {
		if p.a != p.b {
			return p.f, p.a, p.b
		}
	}
	return "", "", ""
}

func diffComponent(a, b LockedComponent) (field, got, want string) {
	pairs := []struct{ f, a, b string }{
		{"version", a.Version, b.Version}, {"git", a.Git, b.Git}, {"commit", a.Commit, b.Commit},
		{"tarball", a.Tarball, b.Tarball}, {"sha256", a.SHA256, b.SHA256},
	}
	for _, p := range pairs {
		if p.a != p.b {
			return p.f, p.a, p.b
		}
	}
	return "", "", ""
}
