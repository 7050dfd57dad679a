package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/bench"
)

func TestRunLock(t *testing.T) {
	home := t.TempDir()
	dir := bench.RunDir(home, "r1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := LockRun(dir, "r1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockRun(dir, "r1")
	var le *LockedError
	if !errors.As(err, &le) || le.Holder.PID != os.Getpid() || !strings.Contains(err.Error(), "kill ") {
		t.Fatalf("second lock: %v", err)
	}
	if h, live := Live(home, "r1"); !live || h.PID != os.Getpid() {
		t.Errorf("Live = %v %v", h, live)
	}
	if n := len(LiveRuns(home)); n != 0 {
		t.Errorf("LiveRuns lists this process's own run")
	}
	l.Unlock()
	if _, live := Live(home, "r1"); live {
		t.Error("live after unlock")
	}
	if _, live := Live(home, "absent"); live {
		t.Error("a run without a lock file is live")
	}
	l2, err := LockRun(dir, "r1")
	if err != nil {
		t.Fatalf("relock: %v", err)
	}
	l2.Unlock()
	if _, err := os.Stat(filepath.Join(dir, lockFile)); err != nil {
		t.Error(err)
	}
}

func TestRunIDOK(t *testing.T) {
	for id, ok := range map[string]bool{"20261126-130405-smoke": true, "..": false, "../x": false, "a/b": false, "": false} {
		if RunIDOK(id) != ok {
			t.Errorf("RunIDOK(%q) != %v", id, ok)
		}
	}
}
