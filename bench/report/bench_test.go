package report

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/store"
	"github.com/haloforge/haloforge/internal/testfix"
)

// BenchmarkReport10k: load a stored run of 10,000 llama-bench cases (20,000
// tests with every llama-bench field and samples) from SQLite, lay it out and
// render markdown. The goal is under 2 s per report.
func BenchmarkReport10k(b *testing.B) {
	recs := testfix.Llama(b, "bench.json")
	s, err := store.Open(filepath.Join(b.TempDir(), "results.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx := context.Background()
	run := bench.Run{ID: "big", Suite: "seed", Target: "gfx1151", Started: time.Now()}
	backends := []string{"cpu", "hip", "hip-rocwmma", "vulkan"}
	for i := 0; i < 10000; i++ {
		c := llamaCase(fmt.Sprintf("llama/m%d/%s/fa%d/%d", i%50, backends[i%4], i%2, i), backends[i%4],
			fmt.Sprintf("model-%02d", i%50), []string{"-fa", fmt.Sprint(i % 2)}, scaled(recs, 1+float64(i%7)/100)...)
		for j := range c.Llama {
			c.Llama[j].FlashAttn = i % 2
			c.Llama[j].NBatch = 256 << (i / 200 % 4)
		}
		run.Cases = append(run.Cases, c)
	}
	if err := s.PutRunWithCases(ctx, run, false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := s.Run(ctx, "big")
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Cases) != 10000 {
			b.Fatalf("%d cases", len(r.Cases))
		}
		if err := Build(r, DefaultTarget).Markdown(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
