package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/internal/testfix"
)

func TestHistoryMarksVersionChanges(t *testing.T) {
	recs := testfix.Llama(t, "bench.json")
	t0 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	mk := func(id string, day int, build string, rocm string, factor float64) bench.Run {
		rs := scaled(recs, factor)
		for i := range rs {
			rs[i].BuildCommit = build
		}
		c := llamaCase("llama/tiny/vulkan", "vulkan", "tiny-f16", nil, rs...)
		c.Image = "hf/llama:vulkan"
		return bench.Run{ID: id, Started: t0.Add(time.Duration(day) * 24 * time.Hour), Host: bench.HostFacts{Kernel: "6.18.4"},
			Images: map[string]bench.ImageInfo{"hf/llama:vulkan": {Ref: "hf/llama:vulkan",
				Labels: map[string]string{"io.haloforge.rocm": rocm, "maintainer": "x"}}},
			Cases: []bench.CaseResult{c}}
	}
	runs := []bench.Run{
		mk("r3", 2, "b6100", "6.4.1", 1.2),
		mk("r1", 0, "Debian", "6.4.0", 1),
		mk("r2", 1, "Debian", "6.4.0", 1.01),
	}
	h := BuildHistory(runs, "pp512")
	if len(h.Series) != 1 || len(h.Series[0].Points) != 3 {
		t.Fatalf("history = %+v", h)
	}
	pts := h.Series[0].Points
	if pts[0].Run != "r1" || len(pts[1].Changes) != 0 || len(pts[2].Changes) != 2 {
		t.Fatalf("points = %+v", pts)
	}
	var md bytes.Buffer
	if err := h.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	golden(t, "history.md", md.Bytes())
	for _, want := range []string{"▶ r3", "io.haloforge.rocm 6.4.0 → 6.4.1", "llama.cpp build Debian (11669) → b6100 (11669)"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("history lacks %q", want)
		}
	}
	if strings.Contains(md.String(), "maintainer") {
		t.Error("non-version label shown as a version")
	}
}
