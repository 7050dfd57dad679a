// Package ci holds the nightly workflow for a self-hosted Strix Halo runner
// (nightly.yml), the steps it runs (nightly.sh), the persistent Dagger
// engine's configuration (engine.json) and the runner setup script. Its Go
// tests lint the workflow with actionlint so a broken workflow never lands.
package ci
