package recipes

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// PinUpdate moves one component's pin to the commit a moving ref (branch or
// tag) points at now. It is computed by `haloforge lock --update` from
// `git ls-remote` and applied to the recipe file, which stays the source of
// truth for pins; the lock is then rewritten from the recipes.
type PinUpdate struct {
	Component  string `json:"component"`
	File       string `json:"file"`
	OldRef     string `json:"old_ref"`
	Ref        string `json:"ref"`
	RefKind    string `json:"ref_kind"` // "branch", "tag" or "commit"
	OldCommit  string `json:"old_commit"`
	NewCommit  string `json:"new_commit"`
	OldVersion string `json:"old_version"`
	NewVersion string `json:"new_version"`
}

// Changed reports whether applying u changes the recipe.
func (u PinUpdate) Changed() bool {
	return u.OldCommit != u.NewCommit || u.OldRef != u.Ref || u.OldVersion != u.NewVersion
}

// String is the one-line diff shown before the lock is written.
func (u PinUpdate) String() string {
	if !u.Changed() {
		return fmt.Sprintf("%-20s unchanged  %s (%s %s)", u.Component, shortRev(u.OldCommit), u.RefKind, u.Ref)
	}
	s := fmt.Sprintf("%-20s %s -> %s (%s %s)", u.Component, shortRev(u.OldCommit), shortRev(u.NewCommit), u.RefKind, u.Ref)
	if u.OldRef != u.Ref {
		s += fmt.Sprintf("  ref %s -> %s", u.OldRef, u.Ref)
	}
	if u.OldVersion != u.NewVersion {
		s += fmt.Sprintf("  version %s -> %s", u.OldVersion, u.NewVersion)
	}
	return s
}

// IsCommit reports whether ref is an exact 40-hex commit.
func IsCommit(ref string) bool { return commitRE.MatchString(ref) }

// IsSHA256 reports whether s is a 64-hex sha256 (a cache key, or a tarball
// or rootfs digest without its "sha256:" prefix).
func IsSHA256(s string) bool { return sha256RE.MatchString(s) }

// ResolveRef picks the commit that ref names in `git ls-remote URL` output
// (lines "<40-hex>\t<refname>"). A branch (refs/heads/REF) wins over a tag;
// an annotated tag resolves to the commit it points at (its ^{} line). A ref
// that already is a 40-hex commit resolves to itself.
func ResolveRef(lsRemote []byte, ref string) (commit, kind string, err error) {
	if commitRE.MatchString(ref) {
		return ref, "commit", nil
	}
	refs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(lsRemote))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		sha, name, ok := strings.Cut(line, "\t")
		if !ok || !commitRE.MatchString(sha) {
			return "", "", fmt.Errorf("git ls-remote output line %d %q is not \"<commit>\\t<ref>\"", n, line)
		}
		refs[name] = sha
	}
	if c, ok := refs["refs/heads/"+ref]; ok {
		return c, "branch", nil
	}
	if c, ok := refs["refs/tags/"+ref+"^{}"]; ok {
		return c, "tag", nil
	}
	if c, ok := refs["refs/tags/"+ref]; ok {
		return c, "tag", nil
	}
	if c, ok := refs[ref]; ok && strings.HasPrefix(ref, "refs/") {
		return c, "ref", nil
	}
	return "", "", fmt.Errorf("ref %q not found upstream (no branch or tag of that name)", ref)
}

// NextVersion is the human version after a move: a tag names itself; a
// branch gets "<branch>+<8-hex>"; an unchanged commit keeps the old version.
func NextVersion(old, oldCommit, newCommit, ref, kind string) string {
	if newCommit == oldCommit {
		return old
	}
	if kind == "tag" {
		return ref
	}
	return ref + "+" + newCommit[:8]
}

var (
	commitLine  = regexp.MustCompile(`(?m)^(\s+commit:\s*)([0-9a-f]{40})(\s*(#.*)?)$`)
	refLine     = regexp.MustCompile(`(?m)^(\s+ref:\s*)(\S+)(\s*(#.*)?)$`)
	versionLine = regexp.MustCompile(`(?m)^(version:\s*)(\S+)(\s*(#.*)?)$`)
)

// ApplyPinUpdate rewrites a recipe file's source.commit, source.ref and
// version lines for u, keeping every comment and the rest of the file as it
// is, and checks that the result still loads with the new pin.
func ApplyPinUpdate(file string, data []byte, u PinUpdate) ([]byte, error) {
	out := data
	replace := func(re *regexp.Regexp, field, old, repl string) error {
		locs := re.FindAllSubmatchIndex(out, -1)
		var hit []int
		for _, l := range locs {
			if string(out[l[4]:l[5]]) == old {
				if hit != nil {
					return inputErr(ErrMalformed, file, 0, field, "keep one "+field+" line", "%s %q appears twice", field, old)
				}
				hit = l
			}
		}
		if hit == nil {
			return inputErr(ErrMalformed, file, 0, field, "write "+field+" as a plain `key: value` line",
				"no %s line with %q to update", field, old)
		}
		out = append(append(append([]byte{}, out[:hit[4]]...), repl...), out[hit[5]:]...)
		return nil
	}
	if u.NewCommit != u.OldCommit {
		if err := replace(commitLine, "source.commit", u.OldCommit, u.NewCommit); err != nil {
			return nil, err
		}
	}
	if u.Ref != u.OldRef {
		if err := replace(refLine, "source.ref", u.OldRef, u.Ref); err != nil {
			return nil, err
		}
	}
	if u.NewVersion != u.OldVersion {
		if err := replace(versionLine, "version", u.OldVersion, u.NewVersion); err != nil {
			return nil, err
		}
	}
	r, err := ParseRecipe(file, out)
	if err != nil {
		return nil, err
	}
	if r.Source.Commit != u.NewCommit || r.Version != u.NewVersion {
		return nil, inputErr(ErrMalformed, file, 0, "source.commit", "edit the pin by hand",
			"rewrite left commit %s version %s, want %s %s", r.Source.Commit, r.Version, u.NewCommit, u.NewVersion)
	}
	return out, nil
}
