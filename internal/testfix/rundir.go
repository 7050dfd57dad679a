package testfix

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RealRunDir lays out a finished run directory under home (run.json and
// cases/, as the runner writes them) holding the case files of one of the
// real runs kept in bench/report/testdata (e.g. correct-cmp-b), so a test
// can load it with `haloforge db rebuild`. header is run.json's content.
func RealRunDir(t testing.TB, home, id, testdata, header string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(file))), "bench", "report", "testdata", testdata)
	files, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s (%v)", src, err)
	}
	dir := filepath.Join(home, "runs", id)
	if err := os.MkdirAll(filepath.Join(dir, "cases"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cases", filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "run.json"), []byte(header), 0o644); err != nil {
		t.Fatal(err)
	}
}
