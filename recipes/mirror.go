package recipes

import (
	"errors"
	"fmt"
	"strings"

	"github.com/haloforge/haloforge/internal/mirror"
)

// StepMirror is where a step's pinned git source is in a source mirror: the
// repository (its git directory, or the path it was looked for at when it
// is absent) and whether it holds the pinned commit.
type StepMirror struct {
	Repo    string `json:"repo"`
	Present bool   `json:"present"`
	// Missing is "repository" or "commit" when Present is false.
	Missing string `json:"missing,omitempty"`
}

// state is the text plan's word for m.
func (m *StepMirror) state() string {
	switch {
	case m.Present:
		return "commit present"
	case m.Missing == "repository":
		return "not in mirror"
	}
	return "commit missing"
}

// MirrorMiss is one pinned source a mirror lacks.
type MirrorMiss struct {
	Component, URL, Commit string
	Steps                  []string // the steps built from it
	Repo                   string   // where the repository is, or was looked for
	Err                    error    // wraps mirror.ErrNotInMirror or mirror.ErrNoCommit
}

// MirrorError lists every pinned source of a plan that its mirror lacks.
type MirrorError struct {
	Dir     string
	Missing []MirrorMiss
}

func (e *MirrorError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mirror %s lacks %d pinned source(s):", e.Dir, len(e.Missing))
	for _, m := range e.Missing {
		fmt.Fprintf(&b, "\n  %s (%s): %s @ %s: ", m.Component, strings.Join(m.Steps, ", "), m.URL, m.Commit)
		switch {
		case errors.Is(m.Err, mirror.ErrNotInMirror):
			fmt.Fprintf(&b, "no repository at %s; fix: git clone --mirror %s %s", m.Repo, m.URL, m.Repo)
		case errors.Is(m.Err, mirror.ErrNoCommit):
			fmt.Fprintf(&b, "%s lacks the commit; fix: fetch it (git --git-dir=%s remote update, or git --git-dir=%s fetch %s %s:refs/pins/%s)",
				m.Repo, m.Repo, m.Repo, m.URL, m.Commit, m.Commit)
		default:
			fmt.Fprintf(&b, "%v; fix: give the component an https://HOST/OWNER/NAME source", m.Err)
		}
		b.WriteString(", or drop --mirror (and unset " + mirror.EnvVar + ")")
	}
	return b.String()
}

// MarkMirror sets Mirror on every step whose source is a pinned git commit
// (--source overrides and tarballs are not from git and are left alone),
// asking the mirror once per repository and commit. It returns a
// *MirrorError naming each source the mirror lacks. Keys do not change:
// the source is the same commit wherever it is read from.
func (p *Plan) MarkMirror(m mirror.Mirror) error {
	type pin struct{ url, commit string }
	seen := map[pin]*StepMirror{}
	miss := map[pin]int{} // index into e.Missing
	e := &MirrorError{Dir: m.Dir}
	for i := range p.Steps {
		s := &p.Steps[i]
		if s.Source.Kind != "git" || s.Source.Commit == "" {
			continue
		}
		k := pin{s.Source.URL, s.Source.Commit}
		sm, ok := seen[k]
		if !ok {
			repo, err := m.HasCommit(k.url, k.commit)
			sm = &StepMirror{Repo: repo, Present: err == nil}
			if err != nil {
				sm.Missing = "repository"
				if errors.Is(err, mirror.ErrNoCommit) {
					sm.Missing = "commit"
				}
				miss[k] = len(e.Missing)
				e.Missing = append(e.Missing, MirrorMiss{Component: s.Component, URL: k.url, Commit: k.commit, Repo: repo, Err: err})
			}
			seen[k] = sm
		}
		if n, ok := miss[k]; ok {
			e.Missing[n].Steps = append(e.Missing[n].Steps, s.ID)
		}
		cp := *sm
		s.Mirror = &cp
	}
	if len(e.Missing) > 0 {
		return e
	}
	return nil
}
