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
// PlanFor is the one way from what a user names (recipes directory, lock
// file, target, selection, --source trees) to the plan: `haloforge plan`,
// `haloforge build`, `haloforge bench` and the Dagger module all plan
// through it. Without --recipes it uses the checkout's recipes/ (beside
// stack.lock here or in a parent), else the copy embedded in the binary.
//
//	plan, _, err := recipes.PlanFor(recipes.Request{Target: "gfx1151",
//		Selection: recipes.Selection{Only: []string{"llama.cpp"}}}, os.Stderr)
//
// Every error caused by input names the file, the line or field, and the fix,
// on one line.
package recipes
