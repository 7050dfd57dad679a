package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunDirs(t *testing.T) {
	home := t.TempDir()
	write := func(rel, s string) {
		p := filepath.Join(home, "runs", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("r1/run.json", `{"id":"r1","suite":"smoke","started":"2026-11-26T13:04:05Z","cases":null}`)
	write("r1/cases/010-b.json", `{"id":"b","status":"ok"}`)
	write("r1/cases/002-a.json", `{"id":"a","status":"hang"}`)
	write("r1/cases/.tmp-003-c.json", `{"id":"partial`)
	write("r2/run.json", `{"id":"other"}`)
	write("r3/run.json", `{"id":"r3"}`)
	write("r3/cases/001-x.json", `{"id":`)
	runs, problems, err := RunDirs(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Run.ID != "r1" || len(runs[0].Run.Cases) != 2 || runs[0].Run.Cases[0].ID != "a" || runs[0].Run.Cases[1].ID != "b" {
		t.Fatalf("runs %+v", runs)
	}
	if len(problems) != 2 || !strings.Contains(problems[0], "differs from its directory") || !strings.Contains(problems[1], "001-x.json") {
		t.Errorf("problems %q", problems)
	}
	if _, _, err := RunDirs(t.TempDir()); err == nil || !strings.Contains(err.Error(), "nothing to rebuild") {
		t.Errorf("no runs: %v", err)
	}
}
