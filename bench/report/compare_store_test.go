package report

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/bench/store"
	"github.com/haloforge/haloforge/internal/testfix"
)

// Compare on runs loaded from the store as the command loads them
// (RunFields with CompareFields) matches as on the records in memory: tests
// of two llama-bench generations match, a differing key property keeps
// them apart.
func TestCompareThroughStore(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(t.TempDir(), "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	base := testfix.Llama(t, "bench.json")
	old := make([]llamabench.Record, len(base))
	for i, r := range base {
		f := map[string]any{}
		for k, v := range r.Fields {
			if k != "load_mode" && k != "n_cpu_moe" && k != "fit_target" && k != "devices" {
				f[k] = v
			}
		}
		f["use_mmap"] = false // mid-2025 builds print use_mmap instead of load_mode
		f["flash_attn"] = -1.0
		r.FlashAttn = -1
		r.Fields = f
		old[i] = r
	}
	differ := append([]llamabench.Record(nil), old...)
	f := map[string]any{}
	for k, v := range differ[0].Fields {
		f[k] = v
	}
	f["type_k"] = "q8_0"
	differ[0].Fields = f
	t0 := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	for i, r := range []bench.Run{runOf("old", old), runOf("differ", differ), runOf("new", base)} {
		r.Started = t0.Add(time.Duration(i) * time.Hour)
		if err := s.PutRunWithCases(ctx, r, false); err != nil {
			t.Fatal(err)
		}
	}
	load := func(id string) bench.Run {
		r, err := s.RunFields(ctx, id, CompareFields())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	c := Compare(load("old"), load("new"), CompareOptions{Threshold: 0.05})
	if len(c.Deltas) != len(base) {
		t.Errorf("%d deltas, want %d", len(c.Deltas), len(base))
	}
	for _, d := range c.Deltas {
		if d.Base == nil || d.New == nil {
			t.Errorf("not matched across field sets: %+v", d)
		}
	}
	c = Compare(load("differ"), load("new"), CompareOptions{Threshold: 0.05})
	if n := len(c.Deltas); n != len(base)+1 {
		t.Errorf("type_k q8_0 vs f16 matched: %d deltas, want %d", n, len(base)+1)
	}
}
