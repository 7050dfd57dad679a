package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
)

// testHub is a Hugging Face style server on 127.0.0.1: /org/repo/resolve/
// main/model.gguf redirects (with X-Linked-Etag, X-Repo-Commit) to /cdn,
// which serves the bytes with http.ServeContent (Range, If-Range on a
// content ETag), throttled so downloads take a while. With stall set the
// /cdn response stops after that many bytes until the client goes away.
type testHub struct {
	mu      sync.Mutex
	content []byte
	stall   int
	token   string
	gets    int
	auth    []string
}

func (h *testHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	content, stall := h.content, h.stall
	h.mu.Unlock()
	sum := sha256.Sum256(content)
	switch r.URL.Path {
	case "/org/repo/resolve/main/model.gguf":
		h.mu.Lock()
		h.auth = append(h.auth, r.Header.Get("Authorization"))
		h.mu.Unlock()
		if h.token != "" && r.Header.Get("Authorization") != "Bearer "+h.token {
			http.Error(w, "gated", http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Linked-Etag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567")
		http.Redirect(w, r, "/cdn/blob", http.StatusFound)
	case "/cdn/blob":
		h.mu.Lock()
		h.gets++
		h.mu.Unlock()
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
		if stall > 0 && r.Header.Get("Range") == "" {
			w.Header().Set("Content-Length", fmt.Sprint(len(content)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(content[:stall])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		http.ServeContent(&slowWriter{ResponseWriter: w}, r, "blob", time.Time{}, bytes.NewReader(content))
	default:
		http.NotFound(w, r)
	}
}

// slowWriter sends at most 256 KiB per 50 ms.
type slowWriter struct{ http.ResponseWriter }

func (s *slowWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		k := min(len(b), 256<<10)
		m, err := s.ResponseWriter.Write(b[:k])
		n += m
		if err != nil {
			return n, err
		}
		s.ResponseWriter.(http.Flusher).Flush()
		time.Sleep(50 * time.Millisecond)
		b = b[k:]
	}
	return n, nil
}

func hubSuite(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "hub.yaml")
	y := `name: hub
backends:
  cpu: {image: haloforge/runtime-smoke:sid}
models:
  m: {repo: org/repo, files: [{name: model.gguf, sha256: unknown}]}
cases:
  - {tool: llama-bench, models: [m], backends: [cpu], tests: [tg4]}
`
	if err := os.WriteFile(f, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func content(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*13) ^ seed ^ byte(i>>11)
	}
	return b
}

func fetchCmd(bin, home, endpoint string, extra ...string) *exec.Cmd {
	c := haloforge(bin, home, "model", "fetch", "--suite", extra[0], "m")
	c.Env = append(c.Env, "HF_ENDPOINT="+endpoint)
	c.Env = append(c.Env, extra[1:]...)
	return c
}

// TestModelCacheTwoProcesses: two haloforge processes fetch the same model
// at once. One downloads, the other waits for it; both succeed, the cache
// holds exactly the served bytes, and the file was downloaded once.
func TestModelCacheTwoProcesses(t *testing.T) {
	bin := buildBinary(t)
	home := t.TempDir()
	data := content(4<<20, 1)
	h := &testHub{content: data}
	ts := httptest.NewServer(h)
	defer ts.Close()
	sf := hubSuite(t)
	var outA, outB bytes.Buffer
	a := fetchCmd(bin, home, ts.URL, sf)
	a.Stdout, a.Stderr = &outA, &outA
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(bench.ModelDir(home), "hf", "org", "repo", "model.gguf.part")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if st, err := os.Stat(part); err == nil && st.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first download never started:\n%s", outA.String())
		}
	}
	b := fetchCmd(bin, home, ts.URL, sf)
	b.Stdout, b.Stderr = &outB, &outB
	errB := b.Run()
	errA := a.Wait()
	t.Logf("A: %v\n%s\nB: %v\n%s", errA, outA.String(), errB, outB.String())
	if errA != nil || errB != nil {
		t.Fatalf("a process failed: A %v, B %v", errA, errB)
	}
	if !strings.Contains(outB.String(), "another process") {
		t.Errorf("the second process did not wait for the first")
	}
	got, _ := os.ReadFile(filepath.Join(bench.ModelDir(home), "hf", "org", "repo", "model.gguf"))
	if !bytes.Equal(got, data) {
		t.Fatalf("cache holds %d bytes, the hub served %d", len(got), len(data))
	}
	if h.gets != 1 {
		t.Errorf("%d downloads, want 1", h.gets)
	}
}

// TestModelResumeAfterKill9FileChanged: a download killed with SIGKILL
// keeps its part; the file changes on the hub; the next fetch downloads
// the new file (If-Range) instead of splicing, and it matches the hub's
// digest.
func TestModelResumeAfterKill9FileChanged(t *testing.T) {
	bin := buildBinary(t)
	home := t.TempDir()
	h := &testHub{content: content(2<<20, 2), stall: 512 << 10}
	ts := httptest.NewServer(h)
	defer ts.Close()
	sf := hubSuite(t)
	a := fetchCmd(bin, home, ts.URL, sf)
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(bench.ModelDir(home), "hf", "org", "repo", "model.gguf.part")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if st, err := os.Stat(part); err == nil && st.Size() == 512<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("partial download never reached 512 KiB")
		}
	}
	_ = a.Process.Signal(syscall.SIGKILL)
	_ = a.Wait()
	fresh := content(2<<20, 3)
	h.mu.Lock()
	h.content, h.stall = fresh, 0
	h.mu.Unlock()
	out, err := fetchCmd(bin, home, ts.URL, sf).CombinedOutput()
	t.Logf("after kill -9 and a change on the hub: %v\n%s", err, out)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(bench.ModelDir(home), "hf", "org", "repo", "model.gguf"))
	if !bytes.Equal(got, fresh) {
		t.Fatalf("stored file is not the hub's current file (spliced)")
	}
	sum := sha256.Sum256(fresh)
	if !strings.Contains(string(out), hex.EncodeToString(sum[:])) || !strings.Contains(string(out), "verified against the hub's digest") {
		t.Errorf("not verified against the hub's digest")
	}
}

// TestModelDownloadStall: a hub that stops sending makes the fetch fail
// with a message naming the stall time and the way to resume, instead of
// hanging.
func TestModelDownloadStall(t *testing.T) {
	bin := buildBinary(t)
	home := t.TempDir()
	h := &testHub{content: content(2<<20, 4), stall: 256 << 10}
	ts := httptest.NewServer(h)
	defer ts.Close()
	c := fetchCmd(bin, home, ts.URL, hubSuite(t), "HALOFORGE_DOWNLOAD_STALL=2s")
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	start := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		t.Logf("after %s: %v\n%s", time.Since(start).Round(time.Millisecond), err, out.String())
		if err == nil || !strings.Contains(out.String(), "no data for 2s") || !strings.Contains(out.String(), "rerun haloforge bench to resume") {
			t.Errorf("stalled download: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = c.Process.Kill()
		t.Fatalf("fetch still hanging after 30s on a stalled server:\n%s", out.String())
	}
}

// TestModelHFToken: a gated repository fails with a hint to set HF_TOKEN;
// with HF_TOKEN set it downloads, and the token is in no output or file.
func TestModelHFToken(t *testing.T) {
	bin := buildBinary(t)
	home := t.TempDir()
	const tok = "hf_testSECRETtoken42"
	h := &testHub{content: content(256<<10, 5), token: tok}
	ts := httptest.NewServer(h)
	defer ts.Close()
	sf := hubSuite(t)
	out, err := fetchCmd(bin, home, ts.URL, sf, "HF_TOKEN=").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "set HF_TOKEN") {
		t.Errorf("gated without token: %v\n%s", err, out)
	}
	out, err = fetchCmd(bin, home, ts.URL, sf, "HF_TOKEN="+tok).CombinedOutput()
	t.Logf("with HF_TOKEN: %v\n%s", err, out)
	if err != nil {
		t.Fatal(err)
	}
	if h.auth[len(h.auth)-1] != "Bearer "+tok {
		t.Errorf("token not sent: %q", h.auth)
	}
	if strings.Contains(string(out), tok) {
		t.Error("token printed")
	}
	_ = filepath.Walk(home, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(tok)) {
				t.Errorf("token stored in %s", p)
			}
		}
		return nil
	})
}
