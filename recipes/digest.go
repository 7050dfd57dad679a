package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// DigestDir is a content digest of a source directory for a SourceOverride:
// sha256 over every regular file's relative path, executable bit and
// content, and every symlink's target, walked in lexical order. The paths
// of SourceExcludes (.git anywhere, a top-level build directory) are
// skipped, as the executor leaves them out of the tree it builds, so
// commits, fetches and local builds do not change it; owners, times and
// other permission bits do not either.
func DigestDir(dir string) (string, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("source override %s: %w; pass an existing directory", dir, err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("source override %s is not a directory; pass the checkout's top directory", dir)
	}
	h := sha256.New()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case rel != "." && excludedSource(rel):
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			writeField(h, "l", rel, target)
			return nil
		case d.Type().IsRegular():
			return digestFile(h, p, rel, d)
		default:
			return nil // sockets, devices, fifos are not source
		}
	})
	if err != nil {
		return "", fmt.Errorf("digesting source override %s: %w", dir, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// digestFile writes the field of regular file p (rel in the tree): its
// executable bit and the sha256 of its content.
func digestFile(h io.Writer, p, rel string, d fs.DirEntry) error {
	fi, err := d.Info()
	if err != nil {
		return err
	}
	mode := "f"
	if fi.Mode()&0o111 != 0 {
		mode = "x"
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	fh := sha256.New()
	_, err = io.Copy(fh, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	writeField(h, mode, rel, hex.EncodeToString(fh.Sum(nil)))
	return nil
}

// writeField writes length-prefixed fields so no two trees hash alike by
// concatenation accident.
func writeField(w io.Writer, fields ...string) {
	for _, f := range fields {
		_, _ = io.WriteString(w, strconv.Itoa(len(f))+":"+f)
	}
	_, _ = io.WriteString(w, "\n")
}
