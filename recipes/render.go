package recipes

import (
	"fmt"
	"io"
	"strings"
)

// RenderOptions tune the text rendering of a plan.
type RenderOptions struct {
	Commands bool // also print the resolved commands and environment of each step
	// Cache, when set, marks each step "[shared cache]" or "[to build]" and
	// ends with a summary (see Plan.CheckCache).
	Cache *CacheReport
}

// Render writes the plan as readable text: the target, the lock, the base,
// every step in build order with its exact pin, key and images, and the
// dependency tree of the selected steps.
func (p *Plan) Render(w io.Writer, opt RenderOptions) error {
	var b strings.Builder
	t, err := LookupTarget(p.Target)
	if err == nil {
		fmt.Fprintf(&b, "target  %s  %s, %s: %d CU x %d FLOP/clk x %.2f GHz = %.1f TFLOPS FP16/BF16; %d-bit %s = %.0f GB/s\n",
			t.Name, t.Product, t.Arch, t.CUs, t.FP16FLOPPerClkPerCU, t.ClockGHz, t.PeakTFLOPS(), t.MemoryBusBits, t.MemoryType, t.PeakGBs())
	}
	fmt.Fprintf(&b, "lock    %s\n", p.LockDigest)
	var tools []string
	for _, tl := range p.Tools {
		tools = append(tools, tl.Name+" "+tl.Version)
	}
	fmt.Fprintf(&b, "tools   %s\n", strings.Join(tools, ", "))
	lb := p.Base.Lock
	rootfs := "rootfs not yet recorded"
	if lb.RootfsSHA256 != "" {
		rootfs = "rootfs sha256:" + lb.RootfsSHA256
	}
	fmt.Fprintf(&b, "base    %s%s\n", p.Base.Image, opt.Cache.mark("base"))
	fmt.Fprintf(&b, "        %s %s %s (%s) from %s @ %s, InRelease sha256:%s, %s\n",
		lb.Distribution, lb.Suite, lb.Architecture, lb.Variant, lb.Mirror, lb.Snapshot, lb.ReleaseSHA256, rootfs)
	for _, ob := range p.Bases {
		ol := ob.Lock
		fmt.Fprintf(&b, "base    %s (%s)%s\n", ob.Image, ol.Name, opt.Cache.mark("base:"+ol.Name))
		fmt.Fprintf(&b, "        %s %s %s (%s) from %s @ %s, InRelease sha256:%s\n",
			ol.Distribution, ol.Suite, ol.Architecture, ol.Variant, ol.Mirror, ol.Snapshot, ol.ReleaseSHA256)
	}

	fmt.Fprintf(&b, "\nsteps (%d, in build order):\n", len(p.Steps))
	width := len(fmt.Sprint(len(p.Steps)))
	idW, verW := 0, 0
	for _, s := range p.Steps {
		idW = max(idW, len(s.ID))
		verW = max(verW, len(s.Version))
	}
	for i, s := range p.Steps {
		mark := ""
		if !s.Selected {
			mark = "  (dependency)"
		}
		mark += opt.Cache.mark(s.ID)
		fmt.Fprintf(&b, "%*d. %-*s  %-*s  key %s%s\n", width, i+1, idW, s.ID, verW, s.Version, short(s.Key), mark)
		ind := strings.Repeat(" ", width+2)
		fmt.Fprintf(&b, "%ssource    %s\n", ind, s.Source.Subject)
		if s.Mirror != nil {
			fmt.Fprintf(&b, "%smirror    %s (%s)\n", ind, s.Mirror.Repo, s.Mirror.state())
		}
		if s.Base != "" {
			fmt.Fprintf(&b, "%sbase      %s\n", ind, s.Base)
		}
		if len(s.Needs) > 0 {
			fmt.Fprintf(&b, "%sneeds     %s\n", ind, strings.Join(s.Needs, ", "))
		}
		fmt.Fprintf(&b, "%simage     %s\n", ind, s.BuildImage)
		if s.Runtime != nil {
			dev := ""
			if len(s.Runtime.Devices) > 0 {
				dev = "  devices: " + strings.Join(s.Runtime.Devices, ",")
			}
			fmt.Fprintf(&b, "%sruntime   %s%s\n", ind, s.Runtime.Image, dev)
		}
		if opt.Commands {
			if len(s.BuildPackages) > 0 {
				fmt.Fprintf(&b, "%sapt       %s\n", ind, strings.Join(s.BuildPackages, " "))
			}
			for _, e := range s.Env {
				fmt.Fprintf(&b, "%senv       %s=%s\n", ind, e.Name, e.Value)
			}
			for _, c := range s.Commands {
				fmt.Fprintf(&b, "%s%-10s%s\n", ind, c.Phase, c.Run)
			}
		}
	}

	// The tree starts at the selected steps nothing else selected needs.
	fmt.Fprintf(&b, "\ndependency tree:\n")
	needs := map[string][]string{}
	needed := map[string]bool{}
	for _, s := range p.Steps {
		needs[s.ID] = s.Needs
		if s.Selected {
			for _, d := range s.Needs {
				needed[d] = true
			}
		}
	}
	var tree func(id, prefix string, last bool, top bool)
	tree = func(id, prefix string, last, top bool) {
		branch, next := "├── ", "│   "
		if last {
			branch, next = "└── ", "    "
		}
		if top {
			branch, next = "", ""
		}
		fmt.Fprintf(&b, "%s%s%s\n", prefix, branch, id)
		for i, d := range needs[id] {
			tree(d, prefix+next, i == len(needs[id])-1, false)
		}
	}
	for _, s := range p.Steps {
		if s.Selected && !needed[s.ID] {
			tree(s.ID, "  ", true, true)
		}
	}
	if opt.Cache != nil {
		opt.Cache.render(&b)
	}
	_, err = io.WriteString(w, b.String())
	return err
}
