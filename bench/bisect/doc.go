// Package bisect is the pure logic of `haloforge bisect`: which components
// moved between two runs' locks and in which order to try them, the commit
// range between two pins and the next commit to test (with skipped commits,
// like git bisect skip), the classification of a measurement against the
// good and bad ends with the statistics compare uses (Welch's t-test), and
// the append-only log that makes a bisection resumable.
//
// It builds and runs nothing: cmd/haloforge/bisect.go drives the pipeline
// and the benchmark runner and records each finished step here.
package bisect
