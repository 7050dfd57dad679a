package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/internal/testfix"
)

// depthRun adds real depth-sweep results (Debian sid llama-bench, -d 0 and
// -d 512) to the seed run, so every plot kind has data.
func depthRun(t testing.TB) bench.Run {
	run := storedSeed(t)
	d0 := testfix.Llama(t, "bench.json")
	d512 := testfix.Llama(t, "bench-d512.json")
	run.Cases = append(run.Cases,
		llamaCase("tiny/cpu/d0", "cpu", "tiny-f16 (Debian sid, 2 cores)", nil, d0...),
		llamaCase("tiny/cpu/d512", "cpu", "tiny-f16 (Debian sid, 2 cores)", []string{"-d", "512"}, d512...))
	return run
}

func TestHTMLSelfContained(t *testing.T) {
	run := depthRun(t)
	rep := Build(run, DefaultTarget)
	var b bytes.Buffer
	if err := rep.HTML(&b, run); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"http://", "https://", "<link", "<script src", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("page references %q: not self-contained", bad)
		}
	}
	for _, kind := range []string{"backend", "depth", "memory"} {
		if !strings.Contains(page, `id="plot-`+kind+`-`) {
			t.Errorf("no %s plot", kind)
		}
	}
	if n := strings.Count(page, "data:image/png;base64,"); n < 8 {
		t.Errorf("%d embedded plots, want >= 8", n)
	}
	if dir := os.Getenv("HALOFORGE_HTML_OUT"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "report.html"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_ = time.Now
}

// Table cells are escaped: a model, backend or error text cannot inject
// markup into the page.
func TestHTMLTablesEscape(t *testing.T) {
	g := grid{Head: []string{`model <i>`}, Rows: [][]gridCell{
		{{Text: `<script>alert("x")</script> & 'q'`, Bad: true}},
		{{Text: "HIP + WMMA", Best: true}},
	}}
	got := string(gridHTML(g))
	want := "<table>\n<tr><th>model &lt;i&gt;</th></tr>\n" +
		`<tr><td class="bad">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39;</td></tr>` + "\n" +
		`<tr><td class="best">HIP + WMMA</td></tr>` + "\n</table>\n"
	if got != want {
		t.Errorf("gridHTML:\n%s\nwant\n%s", got, want)
	}
}
