package bench

import (
	"os"
	"path/filepath"
)

// Home returns haloforge's data directory: $HALOFORGE_HOME, else
// $XDG_DATA_HOME/haloforge, else ~/.local/share/haloforge.
//
// Layout under it:
//
//	results.db              the SQLite results store (bench/store)
//	runs/<run-id>/run.json  run header (bench.Run without Cases), written atomically
//	runs/<run-id>/cases/    one <n>-<case-slug>.json per finished case, written atomically (tmp+rename)
//	runs/<run-id>/logs/     <case-slug>.stdout.log / .stderr.log for every case
//	models/                 the model cache (files named by sha256, verified)
func Home() string {
	if h := os.Getenv("HALOFORGE_HOME"); h != "" {
		return h
	}
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "haloforge")
	}
	if u, err := os.UserHomeDir(); err == nil {
		return filepath.Join(u, ".local", "share", "haloforge")
	}
	return ".haloforge"
}

// DBPath is the results database under home.
func DBPath(home string) string { return filepath.Join(home, "results.db") }

// RunDir is the directory of one run under home.
func RunDir(home, runID string) string { return filepath.Join(home, "runs", runID) }

// ModelDir is the model cache under home.
func ModelDir(home string) string { return filepath.Join(home, "models") }

// ImageCacheDir is the cache of the smoke image's debootstrap rootfs
// tarballs under home (haloforge image smoke, bench's automatic build).
func ImageCacheDir(home string) string { return filepath.Join(home, "cache", "images") }
