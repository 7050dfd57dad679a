package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

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
}

const (
	plotW = 6 * vg.Inch
	plotH = 3.4 * vg.Inch
)

func renderPNG(p *plot.Plot) ([]byte, error) {
	wt, err := p.WriterTo(plotW, plotH, "png")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func newPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	p.Legend.Top = true
	return p
}

// backendFigure: t/s of one test by row (backend), one coloured bar per row.
func backendFigure(model string, t Table, j int) (*plot.Plot, bool) {
	p := newPlot(fmt.Sprintf("%s: %s", model, t.Tests[j]), "t/s")
	var names []string
	drawn := 0
	for i, r := range t.Rows {
		label := r.Label
		c := r.Cells[j]
		if c.Stat == nil {
			label += " (" + c.Note + ")"
		}
		names = append(names, label)
		if c.Stat == nil {
			continue
		}
		bc, err := plotter.NewBarChart(plotter.Values{c.Stat.Mean}, vg.Points(28))
		if err != nil {
			continue
		}
		bc.XMin = float64(i)
		bc.Color = paletteAt(i)
		bc.LineStyle.Width = 0
		p.Add(bc)
		if c.Stat.Std > 0 {
			// ± one standard deviation, in a grey no palette colour uses.
			eb, err := plotter.NewYErrorBars(errPoint{x: float64(i), y: c.Stat.Mean, e: c.Stat.Std})
			if err == nil {
				eb.Color = color.RGBA{0x33, 0x33, 0x33, 0xff}
				eb.Width = vg.Points(1.5)
				p.Add(eb)
			}
		}
		drawn++
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.7, float64(len(names))-0.3 // keep edge bars off the axes
	p.X.Tick.Label.Rotation = 0.25
	p.X.Tick.Label.XAlign = draw.XRight
	return p, drawn > 0
}

// errPoint is one bar's mean ± std for plotter.NewYErrorBars.
type errPoint struct{ x, y, e float64 }

func (p errPoint) Len() int                      { return 1 }
func (p errPoint) XY(int) (float64, float64)     { return p.x, p.y }
func (p errPoint) YError(int) (float64, float64) { return min(p.e, p.y), p.e } // t/s never goes below 0

type depthKey struct {
	model string
	base  string // pp512 / tg128
}

// depthFigures: t/s against depth, one coloured line per row, for every
// (model, test) measured at two or more depths.
func depthFigures(run bench.Run) []Figure {
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
	var figs []Figure
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
		}
		png, err := renderPNG(p)
		if err != nil {
			continue
		}
		figs = append(figs, Figure{Kind: "depth", Caption: p.Title.Text, PNG: png})
	}
	return figs
}

// memoryFigure: peak VRAM and GTT per row that has them, stacked.
func memoryFigure(m ModelSection) (*plot.Plot, bool) {
	p := newPlot(m.Model+": peak memory (VRAM + GTT)", "MiB")
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
	if len(names) == 0 {
		return nil, false
	}
	bv, err1 := plotter.NewBarChart(vram, vg.Points(28))
	bg, err2 := plotter.NewBarChart(gtt, vg.Points(28))
	if err1 != nil || err2 != nil {
		return nil, false
	}
	bv.Color, bg.Color = paletteAt(0), paletteAt(3)
	bv.LineStyle.Width, bg.LineStyle.Width = 0, 0
	bg.StackOn(bv)
	p.Add(bv, bg)
	p.Legend.Add("VRAM", bv)
	p.Legend.Add("GTT", bg)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.7, float64(len(names))-0.3
	p.X.Tick.Label.Rotation = 0.25
	p.X.Tick.Label.XAlign = draw.XRight
	return p, true
}

// Figures renders every plot of the report: t/s by backend for each table
// column, t/s by depth where a run swept depths, and memory per model.
func (r Report) Figures(run bench.Run) []Figure {
	var figs []Figure
	n := 0
	add := func(kind string, p *plot.Plot) {
		png, err := renderPNG(p)
		if err != nil {
			return
		}
		n++
		figs = append(figs, Figure{ID: fmt.Sprintf("plot-%s-%d", kind, n), Kind: kind, Caption: p.Title.Text, PNG: png})
	}
	for _, m := range r.Models {
		for _, t := range m.Tables {
			for j := range t.Tests {
				if p, ok := backendFigure(m.Model, t, j); ok {
					add("backend", p)
				}
			}
		}
	}
	for _, f := range depthFigures(run) {
		n++
		f.ID = fmt.Sprintf("plot-depth-%d", n)
		figs = append(figs, f)
	}
	for _, m := range r.Models {
		if p, ok := memoryFigure(m); ok {
			add("memory", p)
		}
	}
	return figs
}

type htmlCell struct {
	Text string
	Best bool
	Bad  bool
}

type htmlTable struct {
	Head []string
	Rows [][]htmlCell
}

type htmlModel struct {
	Name   string
	Tables []htmlTable
	Notes  []string
}

type htmlFig struct {
	ID, Kind, Caption string
	Src               template.URL
}

type htmlPage struct {
	R         Report
	Models    []htmlModel
	Mamf      *htmlTable
	Bandwidth *htmlTable
	Figs      map[string][]htmlFig
}

func mdTableToHTML(head []string, rows [][]string) htmlTable {
	t := htmlTable{Head: head}
	for _, r := range rows {
		var cells []htmlCell
		for _, c := range r {
			best := strings.HasPrefix(c, "**") && strings.HasSuffix(c, "**")
			c = strings.TrimSuffix(strings.TrimPrefix(c, "**"), "**")
			bad := c == "GPU Hang" || strings.HasPrefix(c, "Crash") || c == "Error"
			cells = append(cells, htmlCell{Text: c, Best: best, Bad: bad})
		}
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// capture runs a table writer into a buffer and reads the rows back: the
// HTML shows exactly what the markdown shows.
func captureTables(f func(io.Writer)) []htmlTable {
	var b bytes.Buffer
	f(&b)
	var out []htmlTable
	var cur *htmlTable
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, "|") {
			cur = nil
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cur == nil {
			out = append(out, htmlTable{Head: cells})
			cur = &out[len(out)-1]
			continue
		}
		if strings.Trim(strings.Join(cells, ""), "-:") == "" {
			continue
		}
		*cur = mdTableToHTML(cur.Head, append(rowsOf(*cur), cells))
	}
	return out
}

func rowsOf(t htmlTable) [][]string {
	var out [][]string
	for _, r := range t.Rows {
		var row []string
		for _, c := range r {
			if c.Best {
				row = append(row, "**"+c.Text+"**")
			} else {
				row = append(row, c.Text)
			}
		}
		out = append(out, row)
	}
	return out
}

// HTML writes one self-contained page (inline CSS, plots as data-URI PNGs,
// nothing fetched) with the report's tables and plots.
func (r Report) HTML(w io.Writer, run bench.Run) error {
	page := htmlPage{R: r, Figs: map[string][]htmlFig{}}
	for _, m := range r.Models {
		hm := htmlModel{Name: m.Model}
		sec := Report{Target: r.Target, Models: []ModelSection{m}}
		hm.Tables = captureTables(func(b io.Writer) {
			for _, t := range sec.Models[0].Tables {
				writeModelTable(b, t)
				_, _ = fmt.Fprintln(b)
				sec.efficiencyTable(b, t)
				_, _ = fmt.Fprintln(b)
			}
		})
		for _, t := range m.Tables {
			if overPeak(t) {
				hm.Notes = append(hm.Notes, overPeakNote)
				break
			}
		}
		page.Models = append(page.Models, hm)
	}
	if len(r.Mamf) > 0 || len(r.Bandwidth) > 0 {
		var b bytes.Buffer
		only := Report{Target: r.Target, Mamf: r.Mamf}
		if len(r.Mamf) > 0 {
			_ = only.Markdown(&b)
			if ts := captureTables(func(x io.Writer) { _, _ = x.Write(b.Bytes()) }); len(ts) > 0 {
				page.Mamf = &ts[len(ts)-1]
			}
		}
		if len(r.Bandwidth) > 0 {
			b.Reset()
			only = Report{Target: r.Target, Bandwidth: r.Bandwidth}
			_ = only.Markdown(&b)
			if ts := captureTables(func(x io.Writer) { _, _ = x.Write(b.Bytes()) }); len(ts) > 0 {
				page.Bandwidth = &ts[len(ts)-1]
			}
		}
	}
	for _, f := range r.Figures(run) {
		page.Figs[f.Kind] = append(page.Figs[f.Kind], htmlFig{ID: f.ID, Kind: f.Kind, Caption: f.Caption,
			Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(f.PNG))})
	}
	return pageTmpl.Execute(w, page)
}

// writeModelTable is the results table of Markdown, alone.
func writeModelTable(w io.Writer, t Table) {
	head := []string{"Run"}
	align := []bool{false}
	for _, tst := range t.Tests {
		head = append(head, tst+" (t/s)")
		align = append(align, true)
	}
	head = append(head, "Max Mem (MiB)")
	align = append(align, true)
	head, align = correctHead(t, head, align)
	var rows [][]string
	for _, row := range t.Rows {
		cells := []string{row.Label}
		for _, c := range row.Cells {
			cells = append(cells, c.text())
		}
		mem := FormatMemory(row.Memory)
		if row.MemBest {
			mem = "**" + mem + "**"
		}
		rows = append(rows, append(append(cells, mem), correctCells(t, row)...))
	}
	table(w, head, align, rows)
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
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
figure img { display: block; width: 576px; height: 326px; }
figcaption { font-size: 0.85em; color: #555; text-align: center; }
</style>
</head>
<body>
<h1>haloforge report: {{.R.RunID}}</h1>
<p class="meta">Suite <code>{{.R.Suite}}</code> on {{.R.Target.Name}} (peak {{printf "%.1f" .R.Target.PeakTFLOPS}} TFLOPS FP16/BF16, {{printf "%.0f" .R.Target.PeakGBs}} GB/s){{if not .R.Started.IsZero}}, started {{.R.Started.UTC.Format "2006-01-02 15:04 UTC"}}{{end}}.
{{with .R.Host}}{{if .Hostname}} Host {{.Hostname}}{{end}}{{if .Kernel}}, kernel {{.Kernel}}{{end}}{{if .Firmware}}, linux-firmware {{.Firmware}}{{end}}{{range .GPUs}}, {{.}}{{end}}.{{end}}</p>
{{range .Models}}
<h2>{{.Name}}</h2>
{{range .Tables}}<table>
<tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td{{if .Best}} class="best"{{else if .Bad}} class="bad"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</table>
{{end}}{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{end}}
{{with .Mamf}}<h2>Matmul (mamf-finder)</h2>
<table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.Text}}</td>{{end}}</tr>{{end}}</table>{{end}}
{{with .Bandwidth}}<h2>Memory bandwidth (rocm_bandwidth_test)</h2>
<table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.Text}}</td>{{end}}</tr>{{end}}</table>{{end}}
<h2>t/s by backend</h2>
<div class="plots">{{range index .Figs "backend"}}<figure id="{{.ID}}"><img alt="{{.Caption}}" src="{{.Src}}"><figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p>No llama-bench results.</p>{{end}}</div>
<h2>t/s by depth</h2>
<div class="plots">{{range index .Figs "depth"}}<figure id="{{.ID}}"><img alt="{{.Caption}}" src="{{.Src}}"><figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p>No test in this run was measured at two or more context depths (llama-bench -d).</p>{{end}}</div>
<h2>Memory</h2>
<div class="plots">{{range index .Figs "memory"}}<figure id="{{.ID}}"><img alt="{{.Caption}}" src="{{.Src}}"><figcaption>{{.Caption}}</figcaption></figure>
{{else}}<p>No memory peaks were measured in this run.</p>{{end}}</div>
</body>
</html>
`))
