package images

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// GiB is 2^30 bytes.
const GiB = 1 << 30

// HeavyJobBytes is the memory one ROCm-class compile job needs (TheRock,
// Composable Kernel, PyTorch, hipBLASLt): about 4 GB per job (design.md: ~16
// GB per 4 jobs).
const HeavyJobBytes = 4 * GiB

// LightJobBytes is the memory budget of one ordinary C/C++ compile job
// (llama.cpp CPU/Vulkan): 1 GiB is generous.
const LightJobBytes = 1 * GiB

// Jobs returns the build parallelism for a machine with memTotal bytes of
// memory and cpus cores, for compiles needing perJob bytes each. override > 0
// wins. The result is at least 1 and at most cpus; one job's worth of memory
// is kept back for the rest of the system.
func Jobs(memTotal uint64, cpus int, perJob uint64, override int) int {
	if override > 0 {
		return override
	}
	if cpus < 1 {
		cpus = 1
	}
	if perJob == 0 {
		return cpus
	}
	n := int(memTotal / perJob)
	if n > 1 {
		n-- // headroom for the engine, the linker and the rest of the system
	}
	if n > cpus {
		n = cpus
	}
	if n < 1 {
		n = 1
	}
	return n
}

// ParseMemTotal reads MemTotal (in bytes) from the text of /proc/meminfo.
func ParseMemTotal(meminfo string) (uint64, error) {
	sc := bufio.NewScanner(strings.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "MemTotal:" {
			continue
		}
		kb, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/meminfo: MemTotal %q is not a number: %w", f[1], err)
		}
		if len(f) > 2 && f[2] != "kB" {
			return 0, fmt.Errorf("/proc/meminfo: MemTotal unit %q, want kB", f[2])
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("/proc/meminfo: no MemTotal line; pass --jobs to set build parallelism by hand")
}

// ParseNproc reads the output of nproc.
func ParseNproc(out string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("nproc printed %q, want a positive integer; pass --jobs to set build parallelism by hand", strings.TrimSpace(out))
	}
	return n, nil
}

// Parallelism is the job count for light and heavy compiles.
type Parallelism struct {
	Light int `json:"light"`
	Heavy int `json:"heavy"`
}

// ParallelismFor derives both job counts for a machine; override > 0 sets both.
func ParallelismFor(memTotal uint64, cpus, override int) Parallelism {
	return Parallelism{
		Light: Jobs(memTotal, cpus, LightJobBytes, override),
		Heavy: Jobs(memTotal, cpus, HeavyJobBytes, override),
	}
}

// For returns the job count for component c.
func (p Parallelism) For(c Component) int {
	if c.Heavy {
		return p.Heavy
	}
	return p.Light
}

// Task is one unit of a build run by RunTasks: a component step or a
// runtime image, the keys of the tasks it needs, and what it does.
type Task struct {
	Key   string
	Needs []string
	Run   func(context.Context) error
}

// RunTasks runs every task once the tasks it needs have succeeded; tasks
// that do not depend on each other run concurrently (the engine's own
// scheduler bounds the work). A failure does not stop the other tasks:
// the build keeps going with everything that does not need the failed
// task, and a task whose need failed does not run. RunTasks returns the
// keys that failed or did not run, and a *BuildErrors listing every
// failure in the order of tasks (nil when all succeeded; the single error
// itself when it is the only thing to report). A need that names no task
// in the list counts as done. Canceling ctx starts no further task; with
// no failure to report, the error is then the cancellation.
func RunTasks(ctx context.Context, tasks []Task) (failed map[string]bool, err error) {
	type result struct {
		done    chan struct{}
		err     error
		skipped string // the failed need, when the task did not run
	}
	res := make(map[string]*result, len(tasks))
	for _, t := range tasks {
		if _, dup := res[t.Key]; dup {
			return nil, fmt.Errorf("build task %s listed twice", t.Key)
		}
		res[t.Key] = &result{done: make(chan struct{})}
	}
	var wg sync.WaitGroup
	for _, t := range tasks {
		r := res[t.Key]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(r.done)
			for _, n := range t.Needs {
				nr, ok := res[n]
				if !ok {
					continue
				}
				select {
				case <-nr.done:
				case <-ctx.Done():
					r.skipped = "canceled"
					return
				}
				if nr.err != nil || nr.skipped != "" {
					r.skipped = n
					return
				}
			}
			if ctx.Err() != nil {
				r.skipped = "canceled"
				return
			}
			r.err = t.Run(ctx)
		}()
	}
	wg.Wait()
	be := &BuildErrors{Total: len(tasks)}
	failed = map[string]bool{}
	for _, t := range tasks {
		r := res[t.Key]
		switch {
		case r.err != nil:
			failed[t.Key] = true
			be.Failures = append(be.Failures, r.err)
		case r.skipped == "canceled":
			failed[t.Key] = true
		case r.skipped != "":
			failed[t.Key] = true
			be.Skipped = append(be.Skipped, t.Key+" (needs "+r.skipped+")")
		}
	}
	if err := ctx.Err(); err != nil && len(be.Failures) == 0 {
		return failed, fmt.Errorf("build canceled: %w", err)
	}
	return failed, be.Err()
}
