// Package recipes owns what haloforge builds: the component recipes (one
// YAML file per component under components/), the Debian sid base image
// definition, the GPU target table with its peak figures, the stack lock
// (stack.lock: every exact input) and the pure plan.
//
// The plan is computed without an engine: MakePlan turns (recipes, lock,
// target, selection, source overrides) into an ordered DAG of build steps,
// each carrying everything needed to execute it (builder image, packages,
// environment, resolved shell commands, source, outputs, runtime image
// contents), a content-derived cache key, image names and OCI labels. The
// Dagger pipeline (pipeline/, images/) only executes it.
//
// Typical use:
//
//	set, err := recipes.Load("recipes")        // or recipes.Default() for the embedded copy
//	lock, err := recipes.LoadLock("stack.lock")
//	target, err := recipes.LookupTarget("gfx1151")
//	plan, err := recipes.MakePlan(set, lock, target, recipes.Selection{Only: []string{"llama.cpp"}}, nil)
//
// Every error caused by input names the file, the line or field, and the fix,
// on one line.
package recipes
