package images

import (
	"context"
	"strings"
)

// fetch gets c's pinned source before its build reads it, so that a source
// the engine cannot fetch is reported as a *FetchError naming component,
// repository, ref and commit instead of the engine's bare git error. The
// engine caches the fetch; the build then reuses it. Overrides need no
// fetch.
func (b *Builder) fetch(ctx context.Context, c Component) error {
	b.mu.Lock()
	_, over := b.sources[c.Name]
	b.mu.Unlock()
	s := c.Source
	if over || strings.HasPrefix(s.URL, "local:") {
		return nil
	}
	var err error
	switch {
	case s.Git != "" && b.mirror != nil:
		_, err = b.mirror.Checkout(c)
		return err // already a *FetchError
	case s.Git != "":
		_, err = b.client.Git(s.Git).Commit(s.Commit).Tree().Sync(ctx)
	case s.URL != "":
		_, err = b.client.HTTP(s.URL).Sync(ctx)
	}
	if err == nil || ctx.Err() != nil {
		return err
	}
	return &FetchError{Component: c.Key(), Git: s.Git, Ref: s.Ref, Commit: s.Commit, URL: s.URL, SHA256: s.SHA256, Err: err}
}
