package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/haloforge/haloforge/bench"
)

// lockFile is the run lock in a run directory: an flock(2) held by the
// process running the run, with that process's identity as its content.
const lockFile = "lock"

// Holder is the process that holds a run's lock.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
	Command string    `json:"command"`
}

func (h Holder) String() string {
	return fmt.Sprintf("pid %d on %s since %s (%s)", h.PID, h.Host, h.Started.Format(time.RFC3339), h.Command)
}

// LockedError is returned when another live process holds a run's lock.
type LockedError struct {
	Run    string
	Holder Holder
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("run %s is in progress: held by %s; wait for it to finish, or stop that process (kill %d) and then run haloforge bench --resume %s",
		e.Run, e.Holder, e.Holder.PID, e.Run)
}

// RunLock is an exclusive lock on one run directory. The kernel releases it
// when the holding process exits, kill -9 included, so a dead run never
// blocks its resume, and a live one is never taken over.
type RunLock struct {
	Run string
	f   *os.File
}

// LockRun takes the lock of the run directory dir (run id id) without
// waiting; a held lock gives a *LockedError naming the holder.
func LockRun(dir, id string) (*RunLock, error) {
	p := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run %s: lock %s: %w", id, p, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &LockedError{Run: id, Holder: readHolder(p)}
		}
		return nil, fmt.Errorf("run %s: lock %s: %w", id, p, err)
	}
	host, _ := os.Hostname()
	h := Holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC(), Command: strings.Join(commandLine(), " ")}
	b, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(b, '\n'), 0)
	}
	return &RunLock{Run: id, f: f}, nil
}

// commandLine is this process's argv, shortened for a message.
func commandLine() []string {
	a := append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...)
	if len(a) > 8 {
		a = append(a[:8], "...")
	}
	return a
}

func readHolder(p string) Holder {
	var h Holder
	b, err := os.ReadFile(p)
	if err == nil {
		_ = json.Unmarshal(b, &h)
	}
	return h
}

// Unlock releases the lock.
func (l *RunLock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}

// Live reports whether a live process holds run id's lock under home, and
// which. A run directory without a lock file is not live.
func Live(home, id string) (Holder, bool) {
	p := filepath.Join(bench.RunDir(home, id), lockFile)
	f, err := os.Open(p)
	if err != nil {
		return Holder{}, false
	}
	defer func() { _ = f.Close() }()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return readHolder(p), errors.Is(err, unix.EWOULDBLOCK)
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return Holder{}, false
}

// LiveRuns are the runs under home that a live process is running now,
// other than this process's.
func LiveRuns(home string) map[string]Holder {
	out := map[string]Holder{}
	ents, _ := os.ReadDir(filepath.Join(home, "runs"))
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if h, ok := Live(home, e.Name()); ok && h.PID != os.Getpid() {
			out[e.Name()] = h
		}
	}
	return out
}
