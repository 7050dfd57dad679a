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
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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
			binds = append(binds, m.Path+":"+suite.ContainerModelPath(name, m)+":ro")
		}
	}
	return binds, info, nil
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
			tmp := p + ".part"
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
		sum, size, err := hashFile(m.Path)
		if err != nil {
			return bench.ModelInfo{}, fmt.Errorf("model %s: %w (fix models.%s.path)", name, err, name)
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
	want := f.SHA256
	if st, err := os.Stat(p); err == nil {
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
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", 0, err
	}
	u := c.endpoint() + "/" + escapePath(repo) + "/resolve/" + url.PathEscape(rev) + "/" + escapePath(f.Name)
	if err := c.download(ctx, u, p+".part", f.Size); err != nil {
		return "", 0, fmt.Errorf("download %s: %w (rerun to resume)", u, err)
	}
	sum, size, err := hashFile(p + ".part")
	if err != nil {
		return "", 0, err
	}
	if f.Size > 0 && size != f.Size {
		_ = os.Remove(p + ".part")
		return "", 0, fmt.Errorf("%s: downloaded %d bytes, suite expects %d: removed, rerun to download again", f.Name, size, f.Size)
	}
	if want != "unknown" && sum != want {
		_ = os.Remove(p + ".part")
		return "", 0, fmt.Errorf("%s: %w: downloaded %s, suite expects %s: removed the download; check the suite's sha256 and the repository", f.Name, ErrDigest, sum, want)
	}
	if err := os.Rename(p+".part", p); err != nil {
		return "", 0, err
	}
	if want == "unknown" {
		c.logf("%s: sha256 %s recorded on first download (put it in the suite)", f.Name, sum)
	}
	return sum, size, writeRecord(p, sum)
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i := range parts {
		parts[i] = url.PathEscape(parts[i])
	}
	return strings.Join(parts, "/")
}

// download fetches u into part, continuing a partial download with a Range
// request when the server supports it.
func (c *Cache) download(ctx context.Context, u, part string, wantSize int64) error {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	flags := os.O_CREATE | os.O_WRONLY
	switch resp.StatusCode {
	case http.StatusPartialContent:
		flags |= os.O_APPEND
		c.logf("resuming %s at %d bytes", u, have)
	case http.StatusOK:
		flags |= os.O_TRUNC
		have = 0
	case http.StatusRequestedRangeNotSatisfiable:
		if wantSize > 0 && have == wantSize {
			return nil
		}
		_ = os.Remove(part)
		return fmt.Errorf("server refused to resume (HTTP 416): partial file removed")
	default:
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return err
	}
	total := have + resp.ContentLength
	pw := &progressWriter{c: c, name: path.Base(u), done: have, total: total, last: time.Now()}
	_, err = io.Copy(out, io.TeeReader(resp.Body, pw))
	if serr := out.Sync(); err == nil {
		err = serr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

type progressWriter struct {
	c           *Cache
	name        string
	done, total int64
	last        time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
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
