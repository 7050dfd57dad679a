// Package models owns the model cache: GGUF files named by repository and
// file, downloaded once over HTTP (resumable, into a .part file renamed on
// success), verified by sha256 and recorded, generated locally (tiny
// models) or taken from a local path; and the read-only mounts that put
// them in case containers.
package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/suite"
)

// DefaultEndpoint is the Hugging Face hub; $HF_ENDPOINT overrides it.
const DefaultEndpoint = "https://huggingface.co"

// TinyWriter generates a tiny random-weight llama GGUF of a type (f16,
// q8_0, q4_0) at path (bench/gguf).
type TinyWriter interface {
	WriteTiny(path, typ string) error
}

// Cache is the model cache directory (bench.ModelDir).
type Cache struct {
	Dir      string
	Endpoint string       // default $HF_ENDPOINT or DefaultEndpoint
	HTTP     *http.Client // default http.DefaultClient
	Tiny     TinyWriter   // nil: tiny models must already be in the cache
	// Log receives progress lines (downloads, verification); may be nil.
	Log func(format string, a ...any)
	// AllowDirs are more host directories path: models may be in.
	AllowDirs []string
	// Stall is how long a download may receive nothing (default
	// $HALOFORGE_DOWNLOAD_STALL, else DefaultStall).
	Stall time.Duration

	commits sync.Map // file path -> commit the hub resolved its revision to
}

// ErrDigest is returned when a file's sha256 differs from the expected one.
var ErrDigest = errors.New("sha256 mismatch")

func (c *Cache) logf(format string, a ...any) {
	if c.Log != nil {
		c.Log(format, a...)
	}
}

func (c *Cache) endpoint() string {
	if c.Endpoint != "" {
		return strings.TrimRight(c.Endpoint, "/")
	}
	if e := os.Getenv("HF_ENDPOINT"); e != "" {
		return strings.TrimRight(e, "/")
	}
	return DefaultEndpoint
}

// Prepare makes every model of s that some case uses available and
// verified, and returns the bind mounts case containers need and each
// model's provenance.
func (c *Cache) Prepare(ctx context.Context, s *suite.Suite, cases []suite.Case) (binds []string, info map[string]bench.ModelInfo, err error) {
	info = map[string]bench.ModelInfo{}
	used := map[string]bool{}
	for _, cs := range cases {
		if cs.Model != "" {
			used[cs.Model] = true
		}
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("model cache: %w", err)
	}
	binds = append(binds, c.Dir+":"+suite.ModelMount+":ro")
	for name := range used {
		m := s.Models[name]
		mi, err := c.Ensure(ctx, name, m)
		if err != nil {
			return nil, nil, err
		}
		info[name] = mi
		if m.Path != "" {
			real, err := c.localPath(name, m)
			if err != nil {
				return nil, nil, err
			}
			binds = append(binds, real+":"+suite.ContainerModelPath(name, m)+":ro")
		}
	}
	return binds, info, nil
}

// DefaultModelDirs are the host directories a suite's path: models may be
// in (after resolving symbolic links), besides the user's home directory
// and haloforge's home; $HALOFORGE_MODEL_DIRS (colon-separated) and
// Cache.AllowDirs (haloforge bench --allow-model-dir) add others. Only GGUF
// files are mounted, read-only.
var DefaultModelDirs = []string{"/data", "/srv", "/mnt", "/media", "/opt", "/models", "/var/lib/haloforge"}

// AllowedDirs are the directories path: models may be in.
func (c *Cache) AllowedDirs() []string {
	dirs := slices.Clone(DefaultModelDirs)
	if h, err := os.UserHomeDir(); err == nil && h != "/" {
		dirs = append(dirs, h)
	}
	dirs = append(dirs, filepath.Dir(c.Dir))
	for d := range strings.SplitSeq(os.Getenv("HALOFORGE_MODEL_DIRS"), ":") {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return append(dirs, c.AllowDirs...)
}

// localPath resolves a path: model's file and checks it may be mounted: a
// regular GGUF file (magic "GGUF") under one of AllowedDirs.
func (c *Cache) localPath(name string, m suite.Model) (string, error) {
	field := "models." + name + ".path"
	real, err := filepath.EvalSymlinks(m.Path)
	if err != nil {
		return "", fmt.Errorf("model %s: %w (fix %s)", name, err, field)
	}
	allowed := false
	for _, d := range c.AllowedDirs() {
		if rd, err := filepath.EvalSymlinks(d); err == nil {
			d = rd
		}
		if rel, err := filepath.Rel(d, real); err == nil && rel != "." && !strings.HasPrefix(rel, "..") && filepath.IsAbs(d) {
			allowed = true
			break
		}
	}
	if !allowed {
		return "", fmt.Errorf("model %s: %s is outside the directories models may be mounted from (%s): move the file there, or allow its directory with --allow-model-dir DIR or HALOFORGE_MODEL_DIRS (fix %s)",
			name, real, strings.Join(c.AllowedDirs(), ", "), field)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("model %s: %w (fix %s)", name, err, field)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("model %s: %s is not a regular file (fix %s)", name, real, field)
	}
	f, err := os.Open(real)
	if err != nil {
		return "", fmt.Errorf("model %s: %w (fix %s)", name, err, field)
	}
	defer func() { _ = f.Close() }()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil || string(magic) != "GGUF" {
		return "", fmt.Errorf("model %s: %s is not a GGUF file (no GGUF magic): only GGUF models are mounted (fix %s)", name, real, field)
	}
	return real, nil
}

// Fetched is one model Fetch made available.
type Fetched struct {
	Name string
	bench.ModelInfo
}

// Fetch makes the named models of s (all when names is empty) available
// and verified, in name order.
func (c *Cache) Fetch(ctx context.Context, s *suite.Suite, names []string) ([]Fetched, error) {
	if len(names) == 0 {
		names = slices.Sorted(maps.Keys(s.Models))
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("model cache: %w", err)
	}
	var out []Fetched
	for _, n := range names {
		m, ok := s.Models[n]
		if !ok {
			return out, fmt.Errorf("suite %s has no model %q: its models are %s", s.Name, n, strings.Join(slices.Sorted(maps.Keys(s.Models)), ", "))
		}
		mi, err := c.Ensure(ctx, n, m)
		if err != nil {
			return out, err
		}
		out = append(out, Fetched{Name: n, ModelInfo: mi})
	}
	return out, nil
}

// Ensure makes one model available and verified.
func (c *Cache) Ensure(ctx context.Context, name string, m suite.Model) (bench.ModelInfo, error) {
	switch {
	case m.Tiny != nil:
		p := filepath.Join(c.Dir, filepath.FromSlash(suite.ModelPath(name, m)))
		if _, err := os.Stat(p); err != nil {
			if c.Tiny == nil {
				return bench.ModelInfo{}, fmt.Errorf("model %s: %s missing and no generator wired: run haloforge model tiny", name, p)
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return bench.ModelInfo{}, err
			}
			t, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+".*.part")
			if err != nil {
				return bench.ModelInfo{}, err
			}
			tmp := t.Name()
			_ = t.Close()
			if err := c.Tiny.WriteTiny(tmp, m.Tiny.Type); err != nil {
				_ = os.Remove(tmp)
				return bench.ModelInfo{}, fmt.Errorf("model %s: generate tiny %s: %w", name, m.Tiny.Type, err)
			}
			if err := os.Rename(tmp, p); err != nil {
				return bench.ModelInfo{}, err
			}
			c.logf("model %s: generated tiny %s model %s", name, m.Tiny.Type, p)
		}
		sum, size, err := hashFile(p)
		if err != nil {
			return bench.ModelInfo{}, err
		}
		return bench.ModelInfo{Source: "tiny:" + m.Tiny.Type, Files: []string{suite.ContainerModelPath(name, m)}, SHA256: []string{sum}, Bytes: size}, nil
	case m.Path != "":
		real, err := c.localPath(name, m)
		if err != nil {
			return bench.ModelInfo{}, err
		}
		sum, size, err := hashFile(real)
		if err != nil {
			return bench.ModelInfo{}, fmt.Errorf("model %s: %w (fix models.%s.path)", name, err, name)
		}
		if m.SHA256 != "" && sum != m.SHA256 {
			return bench.ModelInfo{}, fmt.Errorf("model %s: %s: %w: file has %s, models.%s.sha256 says %s", name, real, ErrDigest, sum, name, m.SHA256)
		}
		return bench.ModelInfo{Source: "path:" + m.Path, Files: []string{suite.ContainerModelPath(name, m)}, SHA256: []string{sum}, Bytes: size}, nil
	default:
		rev := m.Revision
		if rev == "" {
			rev = "main"
		}
		mi := bench.ModelInfo{Source: "hf:" + m.Repo + "@" + rev}
		for _, f := range m.Files {
			rel := suite.RepoFilePath(m.Repo, f.Name)
			sum, size, err := c.ensureFile(ctx, m.Repo, rev, f, filepath.Join(c.Dir, filepath.FromSlash(rel)))
			if err != nil {
				return bench.ModelInfo{}, fmt.Errorf("model %s: %w", name, err)
			}
			if v, ok := c.commits.Load(filepath.Join(c.Dir, filepath.FromSlash(rel))); ok && mi.Revision == "" {
				mi.Revision = v.(string)
			}
			mi.Files = append(mi.Files, path.Join(suite.ModelMount, rel))
			mi.SHA256 = append(mi.SHA256, sum)
			mi.Bytes += size
		}
		return mi, nil
	}
}

// record is the sidecar <file>.sha256 written once a file is verified:
// "<sha256> <size> <mtime-unix-nanos>". It saves rehashing tens of GB on
// every run while still catching a file changed behind the cache's back.
func readRecord(p string) (sum string, size, mtime int64, ok bool) {
	b, err := os.ReadFile(p + ".sha256")
	if err != nil {
		return "", 0, 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return "", 0, 0, false
	}
	size, err1 := strconv.ParseInt(f[1], 10, 64)
	mtime, err2 := strconv.ParseInt(f[2], 10, 64)
	return f[0], size, mtime, err1 == nil && err2 == nil
}

func writeRecord(p, sum string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	return os.WriteFile(p+".sha256", fmt.Appendf(nil, "%s %d %d\n", sum, st.Size(), st.ModTime().UnixNano()), 0o644)
}

func (c *Cache) ensureFile(ctx context.Context, repo, rev string, f suite.ModelFile, p string) (string, int64, error) {
	if st, err := os.Stat(p); err == nil {
		return c.verifyCached(f, p, st)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", 0, err
	}
	// One writer per file: a second process (or run) waits here, then
	// finds the file the first one verified.
	unlock, err := c.lockFile(ctx, p)
	if err != nil {
		return "", 0, err
	}
	defer unlock()
	if st, err := os.Stat(p); err == nil {
		return c.verifyCached(f, p, st)
	}
	u := c.endpoint() + "/" + escapePath(repo) + "/resolve/" + url.PathEscape(rev) + "/" + escapePath(f.Name)
	hub, err := c.download(ctx, u, p+".part", f.Size)
	if err != nil {
		return "", 0, fmt.Errorf("download %s: %w", u, err)
	}
	sum, size, err := hashFile(p + ".part")
	if err != nil {
		return "", 0, err
	}
	want, from := f.SHA256, "suite"
	if want == "unknown" && hub.sha256 != "" {
		want, from = hub.sha256, "hub (X-Linked-Etag)"
	}
	if f.Size > 0 && size != f.Size {
		c.discard(p + ".part")
		return "", 0, fmt.Errorf("%s: downloaded %d bytes, suite expects %d: removed, rerun to download again", f.Name, size, f.Size)
	}
	if hub.size > 0 && size != hub.size {
		c.discard(p + ".part")
		return "", 0, fmt.Errorf("%s: downloaded %d bytes, the hub says %d: removed, rerun to download again", f.Name, size, hub.size)
	}
	if want != "unknown" && sum != want {
		c.discard(p + ".part")
		return "", 0, fmt.Errorf("%s: %w: downloaded %s, %s says %s: removed the download; check the suite's sha256 and the repository", f.Name, ErrDigest, sum, from, want)
	}
	if err := os.Rename(p+".part", p); err != nil {
		return "", 0, err
	}
	_ = os.Remove(p + ".part" + validatorExt)
	switch {
	case f.SHA256 == "unknown" && hub.sha256 != "":
		c.logf("%s: sha256 %s verified against the hub's digest (put it in the suite)", f.Name, sum)
	case f.SHA256 == "unknown":
		c.logf("%s: sha256 %s recorded on first download (put it in the suite)", f.Name, sum)
	}
	if hub.commit != "" {
		c.commits.Store(p, hub.commit)
	}
	return sum, size, writeRecord(p, sum)
}

// verifyCached checks a file already in the cache against its record (or
// rehashes it) and the suite's digest.
func (c *Cache) verifyCached(f suite.ModelFile, p string, st os.FileInfo) (string, int64, error) {
	want := f.SHA256
	if sum, size, mtime, ok := readRecord(p); ok && size == st.Size() && mtime == st.ModTime().UnixNano() {
		if want != "unknown" && sum != want {
			return "", 0, fmt.Errorf("%s: %w: cache recorded %s, suite expects %s: delete %s to download it again, or fix the suite", f.Name, ErrDigest, sum, want, p)
		}
		return sum, size, nil
	}
	c.logf("verifying %s", p)
	sum, size, err := hashFile(p)
	if err != nil {
		return "", 0, err
	}
	if want != "unknown" && sum != want {
		return "", 0, fmt.Errorf("%s: %w: file has %s, suite expects %s: delete %s to download it again", f.Name, ErrDigest, sum, want, p)
	}
	if want == "unknown" {
		c.logf("%s: sha256 %s recorded on first verification (put it in the suite)", f.Name, sum)
	}
	return sum, size, writeRecord(p, sum)
}

func (c *Cache) discard(part string) {
	_ = os.Remove(part)
	_ = os.Remove(part + validatorExt)
}

// lockFile takes the per-file lock of p (an flock on a file under
// DIR/.locks, released by the kernel when the process dies), waiting while
// another process holds it. Lock files stay: removing one would let a
// waiter and a newcomer lock different files.
func (c *Cache) lockFile(ctx context.Context, p string) (func(), error) {
	rel, err := filepath.Rel(c.Dir, p)
	if err != nil {
		return nil, err
	}
	lp := filepath.Join(c.Dir, ".locks", strings.ReplaceAll(filepath.ToSlash(rel), "/", "%")+".lock")
	if err := os.MkdirAll(filepath.Dir(lp), 0o755); err != nil {
		return nil, fmt.Errorf("model cache: %w", err)
	}
	lf, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("model cache: %w", err)
	}
	logged := false
	for {
		err := unix.Flock(int(lf.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			_ = lf.Close()
			return nil, fmt.Errorf("model cache: lock %s: %w", lp, err)
		}
		if !logged {
			b, _ := os.ReadFile(lp)
			c.logf("%s: another process (%s) is downloading it: waiting", filepath.Base(p), strings.TrimSpace(string(b)))
			logged = true
		}
		select {
		case <-ctx.Done():
			_ = lf.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	_ = lf.Truncate(0)
	_, _ = lf.WriteAt(fmt.Appendf(nil, "pid %d\n", os.Getpid()), 0)
	return func() {
		_ = unix.Flock(int(lf.Fd()), unix.LOCK_UN)
		_ = lf.Close()
	}, nil
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i := range parts {
		parts[i] = url.PathEscape(parts[i])
	}
	return strings.Join(parts, "/")
}

// validatorExt is the sidecar of a .part file holding the validator (strong
// ETag or Last-Modified) of the response it came from: a resume sends it as
// If-Range, so a file changed on the server is downloaded anew instead of
// spliced onto the old bytes.
const validatorExt = ".validator"

// hubFacts are what the hub says about a file: the LFS sha256 (the
// X-Linked-Etag header of a resolve request), its size (X-Linked-Size) and
// the commit the revision resolved to (X-Repo-Commit), as
// huggingface_hub reads them: src/huggingface_hub/constants.py
// HUGGINGFACE_HEADER_X_LINKED_ETAG and file_download.py
// get_hf_file_metadata (https://github.com/huggingface/huggingface_hub).
type hubFacts struct {
	sha256 string
	size   int64
	commit string
}

func (h *hubFacts) read(hd http.Header) {
	if e := strings.Trim(strings.TrimPrefix(hd.Get("X-Linked-Etag"), "W/"), `"`); len(e) == 64 && isHex(e) {
		h.sha256 = strings.ToLower(e)
	}
	if n, err := strconv.ParseInt(hd.Get("X-Linked-Size"), 10, 64); err == nil && n > 0 {
		h.size = n
	}
	if c := hd.Get("X-Repo-Commit"); c != "" && isHex(c) {
		h.commit = c
	}
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && len(s)%2 == 0
}

// DefaultStall is how long a download may go without receiving a byte
// (or without response headers) before it is abandoned;
// $HALOFORGE_DOWNLOAD_STALL overrides it (a Go duration such as 30s).
const DefaultStall = 2 * time.Minute

func (c *Cache) stall() time.Duration {
	if c.Stall > 0 {
		return c.Stall
	}
	if d, err := time.ParseDuration(os.Getenv("HALOFORGE_DOWNLOAD_STALL")); err == nil && d > 0 {
		return d
	}
	return DefaultStall
}

var errStalled = errors.New("stalled")

// download fetches u into part, continuing a partial download only when
// the server proves it is the same file: the request carries If-Range with
// the validator of the response the part came from, and a 206 answer must
// carry a Content-Range that starts exactly at the part's size. Anything
// else starts over. $HF_TOKEN, when set, is sent as a bearer token (Go's
// client drops it on redirects to other hosts); it is never logged.
func (c *Cache) download(ctx context.Context, u, part string, wantSize int64) (hubFacts, error) {
	var hub hubFacts
	hc := http.DefaultClient
	if c.HTTP != nil {
		hc = c.HTTP
	}
	client := *hc
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.Response != nil {
			hub.read(req.Response.Header)
		}
		if hc.CheckRedirect != nil {
			return hc.CheckRedirect(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	var have int64
	validator := ""
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
		if b, err := os.ReadFile(part + validatorExt); err == nil {
			validator = strings.TrimSpace(string(b))
		}
	}
	if have > 0 && validator == "" {
		c.logf("%s: partial download without a validator: starting over", path.Base(u))
		have = 0
	}
	stall := c.stall()
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer watchdog.Stop()

	req, err := http.NewRequestWithContext(dctx, http.MethodGet, u, nil)
	if err != nil {
		return hub, err
	}
	if tok := os.Getenv("HF_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
		req.Header.Set("If-Range", validator)
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(context.Cause(dctx), errStalled) {
			return hub, fmt.Errorf("no response within %s (set HALOFORGE_DOWNLOAD_STALL to wait longer); rerun haloforge bench to retry", stall)
		}
		return hub, fmt.Errorf("%w; rerun haloforge bench to retry", err)
	}
	defer func() { _ = resp.Body.Close() }()
	hub.read(resp.Header)
	flags := os.O_CREATE | os.O_WRONLY
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if have == 0 || !ok || start != have {
			c.discard(part)
			return hub, fmt.Errorf("server answered a resume at byte %d with Content-Range %q: partial download removed; rerun haloforge bench to download it again", have, resp.Header.Get("Content-Range"))
		}
		if total > 0 && hub.size == 0 {
			hub.size = total
		}
		flags |= os.O_APPEND
		c.logf("resuming %s at %d bytes", path.Base(u), have)
	case http.StatusOK:
		flags |= os.O_TRUNC
		if have > 0 {
			c.logf("%s: changed on the server or cannot be resumed: downloading it again", path.Base(u))
		}
		have = 0
	case http.StatusRequestedRangeNotSatisfiable:
		c.discard(part)
		return hub, fmt.Errorf("server refused to resume (HTTP 416): partial file removed; rerun haloforge bench to download it again")
	case http.StatusUnauthorized, http.StatusForbidden:
		hint := "set HF_TOKEN to a Hugging Face access token that may read it (accept the model's terms on its page first)"
		if os.Getenv("HF_TOKEN") != "" {
			hint = "HF_TOKEN is set but was refused: check the token's access to this repository and that you accepted the model's terms"
		}
		return hub, fmt.Errorf("HTTP %s: the repository is gated or private: %s", resp.Status, hint)
	case http.StatusNotFound:
		return hub, fmt.Errorf("HTTP %s: no such repository, revision or file: check the suite's repo, revision and file name", resp.Status)
	default:
		return hub, fmt.Errorf("HTTP %s; rerun haloforge bench to retry", resp.Status)
	}
	if v := resp.Header.Get("ETag"); v != "" && !strings.HasPrefix(v, "W/") {
		validator = v
	} else {
		validator = resp.Header.Get("Last-Modified")
	}
	if have == 0 {
		// The validator belongs to the bytes about to be written.
		_ = os.Remove(part + validatorExt)
		if validator != "" {
			if err := os.WriteFile(part+validatorExt, []byte(validator+"\n"), 0o644); err != nil {
				return hub, err
			}
		}
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return hub, err
	}
	total := have + resp.ContentLength
	pw := &progressWriter{c: c, name: path.Base(u), done: have, total: total, last: time.Now(),
		tick: func() { watchdog.Reset(stall) }}
	_, err = io.Copy(out, io.TeeReader(resp.Body, pw))
	if serr := out.Sync(); err == nil {
		err = serr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(context.Cause(dctx), errStalled) {
			return hub, fmt.Errorf("no data for %s at %d of %d MiB (set HALOFORGE_DOWNLOAD_STALL to wait longer): partial download kept; rerun haloforge bench to resume", stall, pw.done>>20, total>>20)
		}
		return hub, fmt.Errorf("%w at %d bytes: partial download kept; rerun haloforge bench to resume", err, pw.done)
	}
	if wantSize > 0 && pw.done < wantSize {
		return hub, fmt.Errorf("connection ended at %d of %d bytes: partial download kept; rerun haloforge bench to resume", pw.done, wantSize)
	}
	return hub, nil
}

// contentRange parses "bytes START-END/TOTAL" (TOTAL may be "*").
func contentRange(v string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || end < start {
		return 0, 0, false
	}
	if tot != "*" {
		t, err := strconv.ParseInt(tot, 10, 64)
		if err != nil || t <= end {
			return 0, 0, false
		}
		total = t
	}
	return start, total, true
}

type progressWriter struct {
	c           *Cache
	name        string
	done, total int64
	last        time.Time
	tick        func()
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.tick != nil && len(b) > 0 {
		p.tick()
	}
	if time.Since(p.last) > 5*time.Second {
		p.last = time.Now()
		if p.total > 0 {
			p.c.logf("%s: %d/%d MiB", p.name, p.done>>20, p.total>>20)
		} else {
			p.c.logf("%s: %d MiB", p.name, p.done>>20)
		}
	}
	return len(b), nil
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
