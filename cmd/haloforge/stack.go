package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/recipes"
)

// stackFile is the copy of the lock kept in every run directory.
const stackFile = "stack.lock"

// stackProvenance makes the build plan a suite's images belong to, from lock
// or, when lock is nil, from the lock in effect: the checkout's stack.lock,
// else the lock the recipes imply. The recipes are the checkout's, else the
// built-in ones (recipes.Request). It returns the plan's provenance and the
// exact lock bytes to keep with the run.
func stackProvenance(target, profile string, lock *recipes.Lock) (bench.StackInfo, *recipes.Lock, []byte, error) {
	req := recipes.Request{}
	set, err := req.LoadSet()
	if err != nil {
		return bench.StackInfo{}, nil, nil, err
	}
	if lock == nil {
		// The notice about a derived lock is for plan and build, not here.
		if lock, _, err = req.LoadLock(set, io.Discard); err != nil {
			return bench.StackInfo{}, nil, nil, err
		}
	}
	info, err := planInfo(set, lock, target, profile)
	if err != nil {
		return bench.StackInfo{}, nil, nil, err
	}
	return info, lock, lock.Marshal(), nil
}

// planInfo is the digest and step keys of the plan for (recipes, lock,
// target, profile).
func planInfo(set *recipes.Set, lock *recipes.Lock, target, profile string) (bench.StackInfo, error) {
	t, err := recipes.LookupTarget(target)
	if err != nil {
		return bench.StackInfo{}, err
	}
	in := &recipes.Inputs{Set: set, Lock: lock, Target: t, Selection: recipes.Selection{Profile: profile}}
	p, err := in.Plan()
	if err != nil {
		return bench.StackInfo{}, err
	}
	return planStackInfo(p, profile), nil
}

// planStackInfo is the provenance of plan p made for profile: its digest
// and step keys.
func planStackInfo(p *recipes.Plan, profile string) bench.StackInfo {
	sum := sha256.Sum256(p.JSON())
	info := bench.StackInfo{Profile: profile, PlanDigest: "sha256:" + hex.EncodeToString(sum[:]), Haloforge: version()}
	for _, s := range p.Steps {
		info.Steps = append(info.Steps, s.ID+"@"+s.Key[:12])
	}
	return info
}

// runLock reads the lock kept with a run.
func runLock(home, runID string) (*recipes.Lock, error) {
	path := bench.RunDir(home, runID) + "/" + stackFile
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("run %s has no %s (it was imported or made by an older haloforge): it cannot be rebuilt exactly", runID, stackFile)
	}
	return recipes.ParseLock(path, data)
}
