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
)

// Seams between bench and the rest of haloforge: the tiny model generator
// (bench/gguf), the memory sampler (bench/memory) and host provenance
// (bench/host, the facts haloforge doctor prints).

// ggufTiny generates the suite's tiny models with bench/gguf (seed 0, so
// every host benches the same bytes).
type ggufTiny struct{}

var _ models.TinyWriter = ggufTiny{}

func (ggufTiny) WriteTiny(path, typ string) error {
	t, err := gguf.ParseTensorType(typ)
	if err != nil {
		return err
	}
	return writeTiny(path, gguf.TinyOptions{Type: t})
}

func tinyWriter() models.TinyWriter { return ggufTiny{} }

// memorySampler samples sysfs/procfs of the real host every 200 ms per case.
func memorySampler() func() runner.MemorySampler {
	return func() runner.MemorySampler { return memory.New(os.DirFS("/")) }
}

// gatherHost records the host's provenance as haloforge doctor sees it.
func gatherHost(ctx context.Context, d *client.Client) bench.HostFacts {
	facts, _ := host.Gather(ctx, host.Options{Root: "/", Docker: mobyDocker{c: d}})
	return facts
}
