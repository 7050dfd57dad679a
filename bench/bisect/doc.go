// Package bisect is the pure logic of `haloforge bisect`: which components
// moved between two runs' locks and in which order to try them, the commit
// range between two pins and the next commit to test (with skipped commits,
// like git bisect skip), the classification of a measurement against the
// good and bad ends with the statistics compare uses (Welch's t-test), and
// the append-only log that makes a bisection resumable.
//
// Driver runs a whole bisection over an Executor, which builds and runs
// nothing here: cmd/haloforge/bisect.go implements it with the Dagger
// pipeline and the benchmark runner. Listing a range and writing a commit's
// tree use the git CLI on a local repository.
package bisect
