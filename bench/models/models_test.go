package models

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench/suite"
)

// server serves one real file from disk at /<repo>/resolve/main/<name> with
// http.ServeContent (Range support). With cutAfter > 0 the first response
// is cut off after that many bytes, like a dropped connection.
type server struct {
	path     string
	cutAfter int64
	mu       sync.Mutex
	requests []string // Range header of each request ("" for none)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Header.Get("Range"))
	first := len(s.requests) == 1
	s.mu.Unlock()
	if !strings.HasPrefix(r.URL.Path, "/org/repo/resolve/main/") {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(s.path)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	defer func() { _ = f.Close() }()
	w.Header().Set("ETag", `"v1"`)
	if first && s.cutAfter > 0 {
		st, _ := f.Stat()
		w.Header().Set("Content-Length", itoa(st.Size()))
		w.WriteHeader(http.StatusOK)
		buf := make([]byte, s.cutAfter)
		_, _ = f.Read(buf)
		_, _ = w.Write(buf)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		// Drop the connection mid-body.
		if hj, ok := w.(http.Hijacker); ok {
			c, _, err := hj.Hijack()
			if err == nil {
				_ = c.Close()
			}
		}
		return
	}
	http.ServeContent(w, r, "f", time.Time{}, f)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// realFile writes a file of random bytes and returns its path and sha256.
func realFile(t *testing.T, size int) (string, string) {
	t.Helper()
	b := make([]byte, size)
	_, _ = rand.Read(b)
	p := filepath.Join(t.TempDir(), "model.gguf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return p, hex.EncodeToString(sum[:])
}

func model(sha string) suite.Model {
	return suite.Model{Repo: "org/repo", Files: []suite.ModelFile{{Name: "sub/model.gguf", SHA256: sha}}}
}

func TestDownloadVerifyRecord(t *testing.T) {
	src, sum := realFile(t, 3<<20)
	srv := &server{path: src}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := &Cache{Dir: t.TempDir(), Endpoint: ts.URL}
	ctx := context.Background()

	mi, err := c.Ensure(ctx, "m", model(sum))
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(c.Dir, "hf", "org", "repo", "sub", "model.gguf")
	got, _ := os.ReadFile(dst)
	want, _ := os.ReadFile(src)
	if !bytes.Equal(got, want) {
		t.Fatal("downloaded file differs from the served one")
	}
	if mi.SHA256[0] != sum || mi.Files[0] != "/models/hf/org/repo/sub/model.gguf" || mi.Source != "hf:org/repo@main" {
		t.Errorf("info %+v", mi)
	}
	if _, err := os.Stat(dst + ".part"); !os.IsNotExist(err) {
		t.Error(".part left behind")
	}
	// Second use: verified from the record, no request.
	if _, err := c.Ensure(ctx, "m", model(sum)); err != nil {
		t.Fatal(err)
	}
	if len(srv.requests) != 1 {
		t.Errorf("%d requests, want 1 (cached)", len(srv.requests))
	}
	// The file changed behind the cache's back: rehashed and refused.
	if err := os.WriteFile(dst, []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ensure(ctx, "m", model(sum)); !errors.Is(err, ErrDigest) {
		t.Fatalf("tampered file: got %v, want ErrDigest", err)
	}
}

func TestResumeAfterDrop(t *testing.T) {
	src, sum := realFile(t, 4<<20)
	srv := &server{path: src, cutAfter: 1 << 20}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := &Cache{Dir: t.TempDir(), Endpoint: ts.URL}
	if _, err := c.Ensure(context.Background(), "m", model(sum)); err == nil {
		t.Fatal("first attempt succeeded despite the dropped connection")
	}
	part := filepath.Join(c.Dir, "hf", "org", "repo", "sub", "model.gguf.part")
	st, err := os.Stat(part)
	if err != nil || st.Size() == 0 {
		t.Fatalf("no partial download kept: %v", err)
	}
	if _, err := c.Ensure(context.Background(), "m", model(sum)); err != nil {
		t.Fatal(err)
	}
	if len(srv.requests) != 2 || srv.requests[1] != "bytes="+itoa(st.Size())+"-" {
		t.Errorf("requests %q: want the second to resume at %d", srv.requests, st.Size())
	}
}

func TestWrongDigest(t *testing.T) {
	src, _ := realFile(t, 1<<20)
	ts := httptest.NewServer(&server{path: src})
	defer ts.Close()
	c := &Cache{Dir: t.TempDir(), Endpoint: ts.URL}
	_, err := c.Ensure(context.Background(), "m", model(strings.Repeat("ab", 32)))
	if !errors.Is(err, ErrDigest) {
		t.Fatalf("got %v, want ErrDigest", err)
	}
	matches, _ := filepath.Glob(filepath.Join(c.Dir, "hf", "org", "repo", "sub", "*"))
	if len(matches) != 0 {
		t.Errorf("files left after a bad download: %v", matches)
	}
}

func TestUnknownDigestRecordedOnFirstDownload(t *testing.T) {
	src, sum := realFile(t, 1<<20)
	ts := httptest.NewServer(&server{path: src})
	defer ts.Close()
	var log strings.Builder
	c := &Cache{Dir: t.TempDir(), Endpoint: ts.URL, Log: func(f string, a ...any) { log.WriteString(f + "\n") }}
	mi, err := c.Ensure(context.Background(), "m", model("unknown"))
	if err != nil {
		t.Fatal(err)
	}
	if mi.SHA256[0] != sum {
		t.Errorf("recorded %s, want %s", mi.SHA256[0], sum)
	}
	rec, err := os.ReadFile(filepath.Join(c.Dir, "hf", "org", "repo", "sub", "model.gguf.sha256"))
	if err != nil || !strings.HasPrefix(string(rec), sum+" ") {
		t.Errorf("record %q, %v", rec, err)
	}
	if !strings.Contains(log.String(), "recorded on first download") {
		t.Errorf("log %q", log.String())
	}
}

func TestHTTPError(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	c := &Cache{Dir: t.TempDir(), Endpoint: ts.URL}
	_, err := c.Ensure(context.Background(), "m", model("unknown"))
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "model m") {
		t.Fatalf("got %v", err)
	}
}

type fakeTiny struct{ calls int }

func (f *fakeTiny) WriteTiny(path, typ string) error {
	f.calls++
	return os.WriteFile(path, []byte("GGUF"+typ), 0o644)
}

func TestTinyAndLocal(t *testing.T) {
	dir := t.TempDir()
	tw := &fakeTiny{}
	c := &Cache{Dir: dir, Tiny: tw}
	ctx := context.Background()
	tiny := suite.Model{Tiny: &suite.Tiny{Type: "q4_0"}}
	for range 2 {
		mi, err := c.Ensure(ctx, "t", tiny)
		if err != nil {
			t.Fatal(err)
		}
		if mi.Files[0] != "/models/tiny/tiny-q4_0.gguf" || mi.Source != "tiny:q4_0" {
			t.Errorf("%+v", mi)
		}
	}
	if tw.calls != 1 {
		t.Errorf("generated %d times, want once", tw.calls)
	}
	if _, err := (&Cache{Dir: t.TempDir()}).Ensure(ctx, "t", tiny); err == nil || !strings.Contains(err.Error(), "haloforge model tiny") {
		t.Errorf("no generator: %v", err)
	}
	local, _ := realFile(t, 1000)
	if err := os.WriteFile(local, append([]byte("GGUF"), make([]byte, 996)...), 0o644); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(local)
	sumb := sha256.Sum256(raw)
	sum := hex.EncodeToString(sumb[:])
	mi, err := c.Ensure(ctx, "loc", suite.Model{Path: local})
	if err != nil || mi.SHA256[0] != sum || mi.Files[0] != "/local-models/loc/model.gguf" {
		t.Fatalf("%+v %v", mi, err)
	}
	if _, err := c.Ensure(ctx, "loc", suite.Model{Path: "/nonexistent.gguf"}); err == nil || !strings.Contains(err.Error(), "models.loc.path") {
		t.Fatalf("missing local file: %v", err)
	}
}
