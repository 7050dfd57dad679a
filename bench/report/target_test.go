package report

import (
	"math"
	"testing"

	"github.com/haloforge/haloforge/recipes"
)

// TestTargetOfReadsRecipes: the peaks efficiency is measured against are the
// ones of recipes' target table, for every target it knows.
func TestTargetOfReadsRecipes(t *testing.T) {
	if DefaultTarget.Name != "gfx1151" || DefaultTarget.PeakTFLOPS != 59.4 || DefaultTarget.PeakGBs != 256 {
		t.Errorf("DefaultTarget = %+v, want gfx1151 59.4 TFLOPS 256 GB/s", DefaultTarget)
	}
	for _, rt := range recipes.Targets() {
		got, ok := TargetOf(rt.Name)
		if !ok || math.Abs(got.PeakTFLOPS-rt.PeakTFLOPS()) > 0.05 || got.PeakGBs != rt.PeakGBs() {
			t.Errorf("TargetOf(%s) = %+v, %v; recipes: %.3f TFLOPS %.1f GB/s", rt.Name, got, ok, rt.PeakTFLOPS(), rt.PeakGBs())
		}
	}
	if got, ok := TargetOf("gfx9999"); ok || got.PeakTFLOPS != 0 || got.Name != "gfx9999" {
		t.Errorf("unknown target: %+v, %v", got, ok)
	}
}
