package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench/suite"
)

// hub serves /org/repo/resolve/main/sub/model.gguf like the Hugging Face
// hub: a redirect carrying X-Linked-Etag (the LFS sha256), X-Linked-Size
// and X-Repo-Commit, then the bytes from /cdn with http.ServeContent (Range
// and If-Range against a content-derived ETag).
type hub struct {
	mu      sync.Mutex
	content []byte
	linked  string // X-Linked-Etag value; default the content's sha256
	token   string // required bearer token, if set
	// stallAfter > 0: the first /cdn response sends that many bytes, then
	// nothing until release is closed.
	stallAfter int
	release    chan struct{}
	// badRange: 206 answers claim to start at byte 0.
	badRange bool
	auth     []string
	ranges   []string
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	content, linked, stall := h.content, h.linked, h.stallAfter
	if r.URL.Path == "/cdn/blob" {
		h.stallAfter = 0
	}
	h.mu.Unlock()
	sum := sha256.Sum256(content)
	if linked == "" {
		linked = hex.EncodeToString(sum[:])
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/org/repo/resolve/main/"):
		h.mu.Lock()
		h.auth = append(h.auth, r.Header.Get("Authorization"))
		h.mu.Unlock()
		if h.token != "" && r.Header.Get("Authorization") != "Bearer "+h.token {
			http.Error(w, "Access to model org/repo is restricted", http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Linked-Etag", `"`+linked+`"`)
		w.Header().Set("X-Linked-Size", fmt.Sprint(len(content)))
		w.Header().Set("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567")
		http.Redirect(w, r, "/cdn/blob", http.StatusFound)
	case r.URL.Path == "/cdn/blob":
		h.mu.Lock()
		h.ranges = append(h.ranges, r.Header.Get("Range")+" if-range="+r.Header.Get("If-Range"))
		h.mu.Unlock()
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		w.Header().Set("ETag", etag)
		if stall > 0 {
			w.Header().Set("Content-Length", fmt.Sprint(len(content)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(content[:stall])
			w.(http.Flusher).Flush()
			select {
			case <-h.release:
			case <-r.Context().Done():
			}
			return
		}
		if h.badRange && r.Header.Get("Range") != "" {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(content)-1, len(content)))
			w.WriteHeader(http.StatusPartialContent)
			_, _ = w.Write(content)
			return
		}
		http.ServeContent(w, r, "blob", time.Time{}, bytes.NewReader(content))
	default:
		http.NotFound(w, r)
	}
}

func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed ^ byte(i>>9)
	}
	return b
}

func dst(c *Cache) string { return filepath.Join(c.Dir, "hf", "org", "repo", "sub", "model.gguf") }

// A download that stops receiving data is abandoned after the stall time,
// keeping the part; a file changed on the server since is fetched anew
// (If-Range with the part's ETag gets a 200), never spliced.
func TestStallThenChangedFileNotSpliced(t *testing.T) {
	old := randomBytes(1<<20, 1)
	h := &hub{content: old, stallAfter: 300 << 10, release: make(chan struct{})}
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer close(h.release)
	c := &Cache{Dir: t.TempDir(), Endpoint: ts.URL, Stall: 500 * time.Millisecond}
	start := time.Now()
	_, err := c.Ensure(context.Background(), "m", model("unknown"))
	if err == nil || !strings.Contains(err.Error(), "no data for 500ms") || !strings.Contains(err.Error(), "rerun haloforge bench to resume") {
		t.Fatalf("stalled download: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gave up after %s", d)
	}
	if st, err := os.Stat(dst(c) + ".part"); err != nil || st.Size() != 300<<10 {
		t.Fatalf("part kept: %v %v", st, err)
	}
	// The repository's file changes before the resume.
	fresh := randomBytes(1<<20, 2)
	h.mu.Lock()
	h.content = fresh
	h.mu.Unlock()
	mi, err := c.Ensure(context.Background(), "m", model("unknown"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dst(c))
	if !bytes.Equal(got, fresh) {
		t.Fatalf("stored file is not the server's current file (spliced: %v)", bytes.Equal(got[:300<<10], old[:300<<10]))
	}
	want := sha256.Sum256(fresh)
	if mi.SHA256[0] != hex.EncodeToString(want[:]) || mi.Revision != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("info %+v", mi)
	}
	if len(h.ranges) != 2 || !strings.HasPrefix(h.ranges[1], "bytes=307200- if-range=\"") {
		t.Errorf("requests %q: want a resume with If-Range", h.ranges)
	}
}

// A 206 whose Content-Range does not start at the part's size is refused
// and the part removed.
func TestMismatchedContentRange(t *testing.T) {
	content := randomBytes(1<<20, 3)
	h := &hub{content: content, stallAfter: 100 << 10, release: make(chan struct{}), badRange: true}
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer close(h.release)
	c := &Cache{Dir: t.TempDir(), Endpoint: ts.URL, Stall: 300 * time.Millisecond}
	if _, err := c.Ensure(context.Background(), "m", model("unknown")); err == nil {
		t.Fatal("stalled download succeeded")
	}
	_, err := c.Ensure(context.Background(), "m", model("unknown"))
	if err == nil || !strings.Contains(err.Error(), `Content-Range "bytes 0-`) {
		t.Fatalf("bad 206: %v", err)
	}
	if _, err := os.Stat(dst(c)); err == nil {
		t.Fatal("a file was stored from a mismatched 206")
	}
	if _, err := os.Stat(dst(c) + ".part"); !os.IsNotExist(err) {
		t.Fatal("part kept after a mismatched 206")
	}
	// The next attempt starts over and gets the right file.
	if _, err := c.Ensure(context.Background(), "m", model("unknown")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst(c)); !bytes.Equal(got, content) {
		t.Fatal("wrong bytes")
	}
}

// With sha256 unknown in the suite, the hub's digest is enforced.
func TestHubDigestEnforced(t *testing.T) {
	h := &hub{content: randomBytes(200<<10, 4), linked: strings.Repeat("ab", 32)}
	ts := httptest.NewServer(h)
	defer ts.Close()
	c := &Cache{Dir: t.TempDir(), Endpoint: ts.URL}
	_, err := c.Ensure(context.Background(), "m", model("unknown"))
	if !errors.Is(err, ErrDigest) || !strings.Contains(err.Error(), "X-Linked-Etag") {
		t.Fatalf("got %v, want ErrDigest against the hub's digest", err)
	}
	if m, _ := filepath.Glob(dst(c) + "*"); len(m) != 0 {
		t.Errorf("files left: %v", m)
	}
	h.linked = ""
	var log strings.Builder
	c.Log = func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }
	if _, err := c.Ensure(context.Background(), "m", model("unknown")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "verified against the hub's digest") {
		t.Errorf("log %q", log.String())
	}
}

// HF_TOKEN is sent to the hub as a bearer token and appears in no message
// or file; without it a gated repository's error says to set it.
func TestHFToken(t *testing.T) {
	const tok = "hf_secretTOKEN123"
	h := &hub{content: randomBytes(100<<10, 5), token: tok}
	ts := httptest.NewServer(h)
	defer ts.Close()
	c := &Cache{Dir: t.TempDir(), Endpoint: ts.URL}
	t.Setenv("HF_TOKEN", "")
	_, err := c.Ensure(context.Background(), "m", model("unknown"))
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "set HF_TOKEN") {
		t.Fatalf("gated without token: %v", err)
	}
	t.Setenv("HF_TOKEN", tok)
	var log strings.Builder
	c.Log = func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }
	if _, err := c.Ensure(context.Background(), "m", model("unknown")); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), tok) {
		t.Error("token logged")
	}
	_ = filepath.Walk(c.Dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(tok)) {
				t.Errorf("token stored in %s", p)
			}
		}
		return nil
	})
}

// Two caches on one directory downloading the same file at once: one
// downloads, the other waits and uses the verified file.
func TestConcurrentDownloadsOneWriter(t *testing.T) {
	content := randomBytes(2<<20, 6)
	h := &hub{content: content}
	ts := httptest.NewServer(h)
	defer ts.Close()
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = (&Cache{Dir: dir, Endpoint: ts.URL}).Ensure(context.Background(), "m", model("unknown"))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "hf", "org", "repo", "sub", "model.gguf")); !bytes.Equal(got, content) {
		t.Errorf("stored %d bytes, want the served %d", len(got), len(content))
	}
	if n := len(h.ranges); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
}

// path: models: only GGUF files under the allowed directories, with the
// suite's sha256 enforced when given.
func TestLocalPathSafety(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "models")}
	ctx := context.Background()
	if _, err := c.Ensure(ctx, "x", suiteModelPath("/etc/shadow")); err == nil || !strings.Contains(err.Error(), "outside the directories") {
		t.Errorf("/etc/shadow: %v", err)
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "link.gguf")
	if err := os.Symlink("/etc/passwd", link); err != nil {
		t.Fatal(err)
	}
	c.AllowDirs = []string{dir}
	if _, err := c.Ensure(ctx, "x", suiteModelPath(link)); err == nil || !strings.Contains(err.Error(), "/etc/passwd is outside") {
		t.Errorf("symlink out of an allowed directory: %v", err)
	}
	notGGUF := filepath.Join(dir, "notes.gguf")
	_ = os.WriteFile(notGGUF, []byte("secret"), 0o600)
	if _, err := c.Ensure(ctx, "x", suiteModelPath(notGGUF)); err == nil || !strings.Contains(err.Error(), "not a GGUF file") {
		t.Errorf("non-GGUF file: %v", err)
	}
	good := filepath.Join(dir, "m.gguf")
	_ = os.WriteFile(good, []byte("GGUF\x03\x00\x00\x00"), 0o644)
	m := suiteModelPath(good)
	m.SHA256 = strings.Repeat("0", 64)
	if _, err := c.Ensure(ctx, "x", m); !errors.Is(err, ErrDigest) {
		t.Errorf("wrong sha256 of a path model: %v", err)
	}
	sum := sha256.Sum256([]byte("GGUF\x03\x00\x00\x00"))
	m.SHA256 = hex.EncodeToString(sum[:])
	if _, err := c.Ensure(ctx, "x", m); err != nil {
		t.Errorf("good path model: %v", err)
	}
	t.Setenv("HALOFORGE_MODEL_DIRS", "")
	c.AllowDirs = nil
	if _, err := c.Ensure(ctx, "x", m); err == nil || !strings.Contains(err.Error(), "--allow-model-dir") {
		t.Errorf("directory not allowed: %v", err)
	}
}

func suiteModelPath(p string) suite.Model { return suite.Model{Path: p} }
