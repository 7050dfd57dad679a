package recipes

import (
	"sort"
	"strings"
)

// DefaultTarget is the GPU target haloforge builds for unless told otherwise:
// AMD Strix Halo (Ryzen AI Max+ 395, Radeon 8060S).
const DefaultTarget = "gfx1151"

// Target is a GPU target (an LLVM gfx name) with the figures reports use to
// turn measurements into efficiency: peak FP16/BF16 matrix throughput and
// peak memory bandwidth.
type Target struct {
	Name    string // LLVM target, e.g. gfx1151
	Product string // marketing name of the reference part
	Arch    string // e.g. RDNA 3.5
	// GFXVersion is the HSA_OVERRIDE_GFX_VERSION spelling of Name, used only
	// when running code objects built for a neighbouring target.
	GFXVersion string
	CUs        int     // compute units
	ClockGHz   float64 // peak engine clock
	// FP16FLOPPerClkPerCU is dense FP16/BF16 FLOP per clock per CU with WMMA
	// (or wave32 VOPD dual issue); without them real code reaches half.
	FP16FLOPPerClkPerCU int
	MemoryType          string // e.g. LPDDR5X-8000
	MemoryBusBits       int    // total bus width in bits
	MemoryMTs           int    // data rate in mega-transfers per second
	// DeviceNames are names tools print for this GPU besides Name (torch's
	// device name in mamf-finder, llama-bench's gpu_info): a result naming
	// another device is not measured against these peaks.
	DeviceNames []string
}

// PeakTFLOPS is CUs x FLOP/clk/CU x clock, in TFLOPS (FP16/BF16, dense).
func (t Target) PeakTFLOPS() float64 {
	return float64(t.CUs) * float64(t.FP16FLOPPerClkPerCU) * t.ClockGHz / 1000
}

// PeakGBs is bus bytes x data rate, in GB/s (10^9 bytes per second).
func (t Target) PeakGBs() float64 {
	return float64(t.MemoryBusBits) / 8 * float64(t.MemoryMTs) / 1000
}

// targets is the table. Sources: AMD product pages and the Strix Halo reference post
// (gfx1151: 40 CU x 512 x 2.9 GHz = 59.4 TFLOPS, 256-bit LPDDR5X-8000 = 256 GB/s).
var targets = []Target{
	{Name: "gfx1151", Product: "Radeon 8060S (Ryzen AI Max+ 395, Strix Halo)", Arch: "RDNA 3.5", GFXVersion: "11.5.1",
		CUs: 40, ClockGHz: 2.9, FP16FLOPPerClkPerCU: 512, MemoryType: "LPDDR5X-8000", MemoryBusBits: 256, MemoryMTs: 8000,
		// torch names the Strix Halo GPU "AMD Radeon Graphics" (gcnArchName gfx1151).
		DeviceNames: []string{"Radeon 8060S", "AMD Radeon Graphics"}},
	{Name: "gfx1150", Product: "Radeon 890M (Ryzen AI 9 HX 370, Strix Point)", Arch: "RDNA 3.5", GFXVersion: "11.5.0",
		CUs: 16, ClockGHz: 2.9, FP16FLOPPerClkPerCU: 512, MemoryType: "LPDDR5X-7500", MemoryBusBits: 128, MemoryMTs: 7500},
	{Name: "gfx1100", Product: "Radeon RX 7900 XTX", Arch: "RDNA 3", GFXVersion: "11.0.0",
		CUs: 96, ClockGHz: 2.5, FP16FLOPPerClkPerCU: 512, MemoryType: "GDDR6-20000", MemoryBusBits: 384, MemoryMTs: 20000},
	{Name: "gfx1103", Product: "Radeon 780M (Ryzen 7 8845HS, Phoenix)", Arch: "RDNA 3", GFXVersion: "11.0.3",
		CUs: 12, ClockGHz: 2.7, FP16FLOPPerClkPerCU: 512, MemoryType: "DDR5-5600", MemoryBusBits: 128, MemoryMTs: 5600},
	{Name: "gfx1201", Product: "Radeon RX 9070 XT", Arch: "RDNA 4", GFXVersion: "12.0.1",
		CUs: 64, ClockGHz: 2.97, FP16FLOPPerClkPerCU: 1024, MemoryType: "GDDR6-20000", MemoryBusBits: 256, MemoryMTs: 20000},
	{Name: "gfx942", Product: "Instinct MI300X", Arch: "CDNA 3", GFXVersion: "9.4.2",
		CUs: 304, ClockGHz: 2.1, FP16FLOPPerClkPerCU: 2048, MemoryType: "HBM3-5200", MemoryBusBits: 8192, MemoryMTs: 5200},
}

// Targets returns the target table sorted by name.
func Targets() []Target {
	out := append([]Target(nil), targets...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TargetNames lists the known target names, sorted.
func TargetNames() []string {
	var names []string
	for _, t := range Targets() {
		names = append(names, t.Name)
	}
	return names
}

// LookupTarget returns the named target. An unknown name is an *InputError
// of kind ErrUnknownTarget listing the known ones.
func LookupTarget(name string) (Target, error) {
	for _, t := range targets {
		if t.Name == name {
			return t, nil
		}
	}
	return Target{}, &InputError{Kind: ErrUnknownTarget, Field: "--target",
		Problem: "unknown GPU target " + quote(name),
		Fix:     "use one of " + strings.Join(TargetNames(), ", ") + " (add a row to recipes/target.go for a new GPU)"}
}

func quote(s string) string { return `"` + s + `"` }
