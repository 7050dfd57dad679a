package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"image/png"
	"io"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/haloforge/haloforge/bench"
)

// Palette colours the plots' bars and lines, in row order. The page's own
// styling uses none of them, so a screenshot can be checked for them.
var Palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xd6, 0x27, 0x28, 0xff}, // red
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
	{0xe3, 0x77, 0xc2, 0xff}, // pink
	{0x17, 0xbe, 0xcf, 0xff}, // cyan
}

func paletteAt(i int) color.RGBA { return Palette[i%len(Palette)] }

// Figure is one rendered plot.
type Figure struct {
	ID      string // stable element id: plot-<kind>-<n>
	Kind    string // backend, depth, memory
	Caption string
	PNG     []byte
	// Width and Height are the PNG's size in pixels: the page shows it at
	// its natural size.
	Width, Height int
}

const (
	plotW = 6 * vg.Inch
	plotH = 3.4 * vg.Inch
)

// pngDPI is the resolution gonum's PNG canvas draws at.
const pngDPI = 96

func px(l vg.Length) int { return int(math.Round(l.Dots(pngDPI))) }

// barHeight is a figure's height for n horizontal bars: every bar and its
// label get their own line, however many rows a table has.
func barHeight(n int) vg.Length {
	return max(plotH, vg.Points(float64(n)*16+90))
}

// renderPNG draws p at plotW x h and encodes it with fast compression (the
// plots are flat colours: the best compression buys little and cost most
// of a large report's time).
func renderPNG(p *plot.Plot, h vg.Length) ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(plotW, h), vgimg.UseDPI(pngDPI))
	p.Draw(draw.New(c))
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, c.Image()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// pendingFig is a plot laid out but not drawn yet.
type pendingFig struct {
	kind string
	p    *plot.Plot
	h    vg.Length
}

func newPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	p.Y.Tick.Marker = niceTicks{}
	p.Legend.Top = true
	return p
}

// niceTicks marks an axis at 1, 2 or 5 times a power of ten, four to ten
// major ticks, labelled with as few decimals as the step needs (t/s, MiB
// and depth read "512", not "512.00").
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'f', -1, 64)}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	dec := 0
	if step < 1 {
		dec = int(math.Ceil(-math.Log10(step)))
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', dec, 64)})
	}
	return ticks
}

// headroom raises the Y axis above the highest bar or point so the legend
// in the top corner never covers data.
func headroom(p *plot.Plot, legendRows int) {
	if legendRows == 0 {
		return
	}
	p.Y.Max *= 1 + 0.12*float64(legendRows) + 0.12
}

// figureBar is one bar of a backend figure: a row, or the rows of one
// configuration (backend, FA, batch sizes, model file) that measured the
// same test several times (several files or runs: the table shows each),
// drawn at the mean of their means with the spread of those means.
type figureBar struct {
	label string
	means []float64
	std   float64 // of a single result
	note  string  // why there is no number
}

func (b figureBar) value() (mean, spread float64) {
	if len(b.means) == 1 {
		return b.means[0], b.std
	}
	m, v := meanVar(b.means)
	return m, math.Sqrt(v)
}

// figureBars gathers a table column's bars, one per configuration, in
// table order.
func figureBars(t Table, j int) []figureBar {
	type cfg struct {
		backend          string
		fa, nb, nub      int
		modelFile, label string
	}
	idx := map[cfg]int{}
	var bars []figureBar
	for _, r := range t.Rows {
		c := r.Cells[j]
		label := RowLabel(r.Backend, r.FlashAttn) + batchSuffix(r.NBatch, r.NUbatch)
		k := cfg{r.Backend, r.FlashAttn, r.NBatch, r.NUbatch, r.ModelFile, ""}
		if c.Stat == nil {
			k.label = r.Label // each failure is its own bar
			label = r.Label + " (" + c.Note + ")"
		}
		i, ok := idx[k]
		if !ok {
			i = len(bars)
			idx[k] = i
			bars = append(bars, figureBar{label: label, note: c.Note})
		}
		if c.Stat != nil {
			bars[i].means = append(bars[i].means, c.Stat.Mean)
			bars[i].std = c.Stat.Std
		}
	}
	for i := range bars {
		if n := len(bars[i].means); n > 1 {
			bars[i].label += fmt.Sprintf(" (mean of %d)", n)
		}
	}
	return bars
}

// backendFigure: t/s of one test by configuration, one coloured horizontal
// bar each, labels on the Y axis in table order from the top. (Labels are
// drawn unrotated: rotated text is what made large reports slow.)
func backendFigure(model string, t Table, j int) (*plot.Plot, vg.Length, bool) {
	p := newPlot(fmt.Sprintf("%s: %s", model, t.Tests[j]), "")
	p.Y.Tick.Marker = nil
	p.Y.Min = 0
	p.X.Label.Text = "t/s"
	p.X.Min = 0
	p.X.Tick.Marker = niceTicks{}
	bars := figureBars(t, j)
	n := len(bars)
	names := make([]string, n)
	drawn := 0
	for i, b := range bars {
		y := float64(n - 1 - i) // first row on top
		names[n-1-i] = b.label
		if len(b.means) == 0 {
			continue
		}
		mean, spread := b.value()
		bc, err := plotter.NewBarChart(plotter.Values{mean}, vg.Points(11))
		if err != nil {
			continue
		}
		bc.Horizontal = true
		bc.XMin = y
		bc.Color = paletteAt(i)
		bc.LineStyle.Width = 0
		p.Add(bc)
		if spread > 0 {
			// ± one standard deviation, in a grey no palette colour uses.
			eb, err := plotter.NewXErrorBars(errPoint{x: mean, y: y, e: spread})
			if err == nil {
				eb.Color = color.RGBA{0x33, 0x33, 0x33, 0xff}
				eb.Width = vg.Points(1.5)
				p.Add(eb)
			}
		}
		drawn++
	}
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.7, float64(n)-0.3 // keep edge bars off the axes
	p.X.Max *= 1.04
	return p, barHeight(n), drawn > 0
}

// errPoint is one horizontal bar's mean ± std (x) for plotter.NewXErrorBars.
type errPoint struct{ x, y, e float64 }

func (p errPoint) Len() int                      { return 1 }
func (p errPoint) XY(int) (float64, float64)     { return p.x, p.y }
func (p errPoint) XError(int) (float64, float64) { return min(p.e, p.x), p.e } // t/s never goes below 0

type depthKey struct {
	model string
	base  string // pp512 / tg128
}

// depthFigures: t/s against depth, one coloured line per row, for every
// (model, test) measured at two or more depths.
func depthFigures(run bench.Run) []pendingFig {
	type series struct {
		label string
		pts   map[int]float64
	}
	groups := map[depthKey]map[string]*series{}
	var order []depthKey
	labelOrder := map[depthKey][]string{}
	for _, e := range entries(run) {
		if e.side.Stat == nil {
			continue
		}
		k := e.key
		base := testSpec{p: k.NPrompt, n: k.NGen}.label()
		dk := depthKey{k.Model, base}
		if groups[dk] == nil {
			groups[dk] = map[string]*series{}
			order = append(order, dk)
		}
		lbl := k.Label()
		s := groups[dk][lbl]
		if s == nil {
			s = &series{label: lbl, pts: map[int]float64{}}
			groups[dk][lbl] = s
			labelOrder[dk] = append(labelOrder[dk], lbl)
		}
		if _, dup := s.pts[k.NDepth]; !dup {
			s.pts[k.NDepth] = e.side.Stat.Mean
		}
	}
	var figs []pendingFig
	for _, dk := range order {
		multi := false
		for _, s := range groups[dk] {
			if len(s.pts) >= 2 {
				multi = true
			}
		}
		if !multi {
			continue
		}
		p := newPlot(fmt.Sprintf("%s: %s by context depth", dk.model, dk.base), "t/s")
		p.X.Label.Text = "depth (tokens already in context)"
		p.X.Tick.Marker = niceTicks{}
		legend := 0
		for i, lbl := range labelOrder[dk] {
			s := groups[dk][lbl]
			if len(s.pts) < 2 {
				continue
			}
			var depths []int
			for d := range s.pts {
				depths = append(depths, d)
			}
			sort.Ints(depths)
			xy := make(plotter.XYs, len(depths))
			for n, d := range depths {
				xy[n] = plotter.XY{X: float64(d), Y: s.pts[d]}
			}
			line, pts, err := plotter.NewLinePoints(xy)
			if err != nil {
				continue
			}
			line.Color = paletteAt(i)
			line.Width = vg.Points(3)
			pts.Color = paletteAt(i)
			pts.Shape = draw.CircleGlyph{}
			pts.Radius = vg.Points(4)
			p.Add(line, pts)
			p.Legend.Add(lbl, line)
			legend++
		}
		headroom(p, legend)
		figs = append(figs, pendingFig{kind: "depth", p: p, h: plotH})
	}
	return figs
}

// memoryFigure: peak VRAM and GTT per row that has them, stacked
// horizontal bars, first row on top.
func memoryFigure(m ModelSection) (*plot.Plot, vg.Length, bool) {
	p := newPlot(m.Model+": peak memory (VRAM + GTT)", "")
	p.Y.Tick.Marker = nil
	p.X.Label.Text = "MiB"
	p.X.Min = 0
	p.X.Tick.Marker = niceTicks{}
	var names []string
	var vram, gtt plotter.Values
	for _, t := range m.Tables {
		for _, r := range t.Rows {
			if r.Memory.VRAMMiB == nil && r.Memory.GTTMiB == nil {
				continue
			}
			names = append(names, r.Label+" "+strings.Join(t.Tests, "/"))
			v, g := 0.0, 0.0
			if r.Memory.VRAMMiB != nil {
				v = *r.Memory.VRAMMiB
			}
			if r.Memory.GTTMiB != nil {
				g = *r.Memory.GTTMiB
			}
			vram, gtt = append(vram, v), append(gtt, g)
		}
	}
	n := len(names)
	if n == 0 {
		return nil, 0, false
	}
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 { // first row on top
		names[i], names[j] = names[j], names[i]
		vram[i], vram[j] = vram[j], vram[i]
		gtt[i], gtt[j] = gtt[j], gtt[i]
	}
	bv, err1 := plotter.NewBarChart(vram, vg.Points(11))
	bg, err2 := plotter.NewBarChart(gtt, vg.Points(11))
	if err1 != nil || err2 != nil {
		return nil, 0, false
	}
	bv.Horizontal, bg.Horizontal = true, true
	bv.Color, bg.Color = paletteAt(0), paletteAt(3)
	bv.LineStyle.Width, bg.LineStyle.Width = 0, 0
	bg.StackOn(bv)
	p.Add(bv, bg)
	p.Legend.Add("VRAM", bv)
	p.Legend.Add("GTT", bg)
	p.Legend.Top = false // bottom right: bars start at the left
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.7, float64(n)-0.3
	p.X.Max *= 1.25 // room for the legend right of the longest bar
	return p, barHeight(n + 2), true
}

// Figures renders every plot of the report: t/s by backend for each table
// column, t/s by depth where a run swept depths, and memory per model.
func (r Report) Figures(run bench.Run) []Figure {
	var todo []pendingFig
	for _, m := range r.Models {
		for _, t := range m.Tables {
			for j := range t.Tests {
				if p, h, ok := backendFigure(m.Model, t, j); ok {
					todo = append(todo, pendingFig{"backend", p, h})
				}
			}
		}
	}
	todo = append(todo, depthFigures(run)...)
	for _, m := range r.Models {
		if p, h, ok := memoryFigure(m); ok {
			todo = append(todo, pendingFig{"memory", p, h})
		}
	}
	// Drawing is independent per plot: spread it over the CPUs.
	pngs := make([][]byte, len(todo))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(todo)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if b, err := renderPNG(todo[i].p, todo[i].h); err == nil {
					pngs[i] = b
				}
			}
		}()
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	var figs []Figure
	for i, f := range todo {
		if pngs[i] == nil {
			continue
		}
		figs = append(figs, Figure{ID: fmt.Sprintf("plot-%s-%d", f.kind, len(figs)+1), Kind: f.kind, Caption: f.p.Title.Text,
			PNG: pngs[i], Width: px(plotW), Height: px(f.h)})
	}
	return figs
}

type htmlFig struct {
	ID, Kind, Caption string
	Width, Height     int
	Src               template.URL
}

type htmlPage struct {
	R              Report
	Headline, Host string
	Models         []section
	Mamf           *grid
	MamfNotes      []string
	Bandwidth      *grid
	BandwidthNotes []string
	Figs           map[string][]htmlFig
}

// HTML writes one self-contained page (inline CSS, plots as data-URI PNGs,
// nothing fetched) with the report's tables and plots. The tables are the
// same grids Markdown draws, built from the report model.
func (r Report) HTML(w io.Writer, run bench.Run) error {
	page := htmlPage{R: r, Headline: strings.ReplaceAll(r.headline(), "`", ""), Host: r.hostLine(),
		Models: r.sections(), Figs: map[string][]htmlFig{}}
	if len(r.Mamf) > 0 {
		g, notes := r.mamfGrid()
		page.Mamf, page.MamfNotes = &g, notes
	}
	if len(r.Bandwidth) > 0 {
		g, notes := r.bandwidthGrid()
		page.Bandwidth, page.BandwidthNotes = &g, notes
	}
	for _, f := range r.Figures(run) {
		page.Figs[f.Kind] = append(page.Figs[f.Kind], htmlFig{ID: f.ID, Kind: f.Kind, Caption: f.Caption, Width: f.Width, Height: f.Height,
			Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(f.PNG))})
	}
	return pageTmpl.Execute(w, page)
}

// gridHTML writes a table as HTML: the same markup a template would, with
// html.EscapeString's escaping (html/template's for text), at a fraction of
// html/template's cost on a table of tens of thousands of rows.
func gridHTML(g grid) template.HTML {
	var b strings.Builder
	b.WriteString("<table>\n<tr>")
	for _, h := range g.Head {
		b.WriteString("<th>")
		b.WriteString(html.EscapeString(h))
		b.WriteString("</th>")
	}
	b.WriteString("</tr>\n")
	for _, row := range g.Rows {
		b.WriteString("<tr>")
		for _, c := range row {
			switch {
			case c.Best:
				b.WriteString(`<td class="best">`)
			case c.Bad || c.Wrong:
				b.WriteString(`<td class="bad">`)
			default:
				b.WriteString("<td>")
			}
			b.WriteString(html.EscapeString(c.Text))
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
	return template.HTML(b.String()) // #nosec G203 -- every text is escaped above
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{"gridHTML": gridHTML}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>haloforge report {{.R.RunID}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; background: #fff; max-width: 1200px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
p.meta { color: #555; }
p.note { color: #555; font-size: 0.85em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; }
th { background: #f2f2f2; }
td { text-align: right; font-variant-numeric: tabular-nums; }
td:first-child { text-align: left; }
td.best { font-weight: bold; }
td.bad { color: #a00; font-weight: bold; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; border: 1px solid #ddd; padding: 0.4em; }
figure img { display: block; }
figcaption { font-size: 0.85em; color: #555; text-align: center; }
</style>
</head>
<body>
<h1>haloforge report: {{.R.RunID}}</h1>
<p class="meta">{{.Headline}}{{with .Host}} {{.}}{{end}}</p>
{{range .Models}}
<h2>{{.Name}}</h2>
{{range .Tables}}{{gridHTML .}}{{end}}{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{end}}
{{with .Mamf}}<h2>Matmul (mamf-finder)</h2>
{{gridHTML .}}{{end}}{{range .MamfNotes}}<p class="note">{{.}}</p>
{{end}}
{{with .Bandwidth}}<h2>Memory bandwidth (rocm_bandwidth_test)</h2>
{{gridHTML .}}{{end}}{{range .BandwidthNotes}}<p class="note">{{.}}</p>
{{end}}
<h2>t/s by backend</h2>
<div class="plots">{{range index .Figs "backend"}}<figure id="{{.ID}}"><img alt="{{.Caption}}" width="{{.Width}}" height="{{.Height}}" src="{{.Src}}"><figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p>No llama-bench results.</p>{{end}}</div>
<h2>t/s by depth</h2>
<div class="plots">{{range index .Figs "depth"}}<figure id="{{.ID}}"><img alt="{{.Caption}}" width="{{.Width}}" height="{{.Height}}" src="{{.Src}}"><figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p>No test in this run was measured at two or more context depths (llama-bench -d).</p>{{end}}</div>
<h2>Memory</h2>
<div class="plots">{{range index .Figs "memory"}}<figure id="{{.ID}}"><img alt="{{.Caption}}" width="{{.Width}}" height="{{.Height}}" src="{{.Src}}"><figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p>No memory peaks were measured in this run.</p>{{end}}</div>
</body>
</html>
`))
