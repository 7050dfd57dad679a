package main

import (
	"context"
	"os"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/gguf"
	"github.com/haloforge/haloforge/bench/host"
	"github.com/haloforge/haloforge/bench/memory"
	"github.com/haloforge/haloforge/bench/models"
	"github.com/haloforge/haloforge/bench/runner"
	"github.com/haloforge/haloforge/bench/session"
	"github.com/haloforge/haloforge/bench/store"
	"github.com/haloforge/haloforge/recipes"
)

// Seams between bench and the rest of haloforge: the tiny model generator
// (bench/gguf), the memory sampler (bench/memory) and host provenance
// (bench/host, the facts haloforge doctor prints).

// Both results stores record runs for the runner.
var (
	_ runner.Recorder = (*store.Store)(nil)
	_ runner.Recorder = (*store.Postgres)(nil)
)

// tinyWriter generates the suite's tiny models with bench/gguf (seed 0, so
// every host benches the same bytes).
func tinyWriter() models.TinyWriter { return gguf.TinyMaker{} }

// memorySampler samples sysfs/procfs of the real host every 200 ms per case.
func memorySampler() func() runner.MemorySampler {
	return func() runner.MemorySampler { return memory.New(os.DirFS("/")) }
}

// gatherHost records the host's provenance as haloforge doctor sees it.
func gatherHost(ctx context.Context, d *client.Client) bench.HostFacts {
	facts, _ := host.Gather(ctx, host.Options{Root: "/", Docker: mobyDocker{c: d}})
	return facts
}

// benchWiring connects a bench session to the results store, the build
// plan's provenance, host facts, the tiny model generator and the memory
// sampler.
func benchWiring() session.Wiring {
	return session.Wiring{
		Results: func(ctx context.Context, where string) (session.Results, error) {
			return openResults(ctx, resultsLocation(where, bench.Home()), false)
		},
		Provenance: func(target, profile string, lock *recipes.Lock) (bench.StackInfo, string, map[string][]byte, error) {
			stack, l, b, err := stackProvenance(target, profile, lock)
			if err != nil {
				return stack, "", nil, err
			}
			return stack, l.Digest(), map[string][]byte{stackFile: b}, nil
		},
		Host:    gatherHost,
		Tiny:    tinyWriter(),
		Sampler: memorySampler(),
	}
}
