package ingest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/haloforge/haloforge/bench"
)

// RunDirRun is one run read back from its directory under HOME/runs.
type RunDirRun struct {
	Dir string
	Run bench.Run // header from run.json with Cases from cases/*.json in case order
}

// RunDirs reads every run directory under home/runs (the files the runner
// writes atomically: run.json and cases/<index>-<slug>.json), so a results
// store can be rebuilt from them. A directory that cannot be read is
// reported in problems, with the file and the reason, and skipped.
func RunDirs(home string) (runs []RunDirRun, problems []string, err error) {
	root := filepath.Join(home, "runs")
	ents, err := os.ReadDir(root)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil, fmt.Errorf("no runs under %s: nothing to rebuild from", root)
		}
		return nil, nil, err
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		r, err := readRunDir(dir)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		runs = append(runs, RunDirRun{Dir: dir, Run: r})
	}
	return runs, problems, nil
}

func readRunDir(dir string) (bench.Run, error) {
	var run bench.Run
	p := filepath.Join(dir, "run.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return run, fmt.Errorf("%s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &run); err != nil {
		return run, fmt.Errorf("%s: %w", p, err)
	}
	if run.ID != filepath.Base(dir) {
		return run, fmt.Errorf("%s: id %q differs from its directory's name", p, run.ID)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "cases"))
	if err != nil && !os.IsNotExist(err) {
		return run, fmt.Errorf("%s: %w", dir, err)
	}
	type indexed struct {
		n int
		c bench.CaseResult
	}
	var cases []indexed
	for _, e := range ents {
		name := e.Name()
		idx, _, ok := strings.Cut(name, "-")
		n, aerr := strconv.Atoi(idx)
		if strings.HasPrefix(name, ".tmp-") || !ok || aerr != nil || !strings.HasSuffix(name, ".json") {
			continue
		}
		cp := filepath.Join(dir, "cases", name)
		cb, err := os.ReadFile(cp)
		if err != nil {
			return run, fmt.Errorf("%s: %w", cp, err)
		}
		var c bench.CaseResult
		if err := json.Unmarshal(cb, &c); err != nil {
			return run, fmt.Errorf("%s: %w (remove it, then resume the run to rerun that case)", cp, err)
		}
		cases = append(cases, indexed{n, c})
	}
	slices.SortFunc(cases, func(a, b indexed) int { return a.n - b.n })
	for i, c := range cases {
		if i > 0 && cases[i-1].n == c.n {
			return run, fmt.Errorf("%s: two result files for case %d: remove the stale one", dir, c.n)
		}
		run.Cases = append(run.Cases, c.c)
	}
	return run, nil
}
