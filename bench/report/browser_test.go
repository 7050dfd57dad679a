package report

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// chromium finds a headless-capable Chromium; the test skips without one
// unless HALOFORGE_REQUIRE_BROWSER=1 (CI: apt-get install chromium).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("HALOFORGE_REQUIRE_BROWSER") == "1" {
		t.Fatal("HALOFORGE_REQUIRE_BROWSER=1 but no chromium on PATH (Debian: apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: install Debian's chromium to check the HTML report in a real browser")
	return ""
}

func near(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint32, y uint8) bool {
		v := int(x>>8) - int(y)
		return v <= tol && v >= -tol
	}
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func countColour(img image.Image, want color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(img.At(x, y), want, 6) {
				n++
			}
		}
	}
	return n
}

// TestHTMLInBrowser renders the report, opens it in headless Chromium (no
// network), takes a screenshot and checks the plots were really drawn: for
// each palette colour, the screenshot holds about as many pixels of it as
// the plots' own images do (they are shown at their natural size). A page
// whose images failed to load, or a blank page, has none.
func TestHTMLInBrowser(t *testing.T) {
	bin := chromium(t)
	run := depthRun(t)
	rep := Build(run, DefaultTarget)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := rep.HTML(&b, run); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--hide-scrollbars",
		"--screenshot="+shot, "--window-size=1280,6000", "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer func() { _ = f.Close() }()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if keep := os.Getenv("HALOFORGE_SCREENSHOT"); keep != "" {
		data, _ := os.ReadFile(shot)
		_ = os.WriteFile(keep, data, 0o644)
	}
	// What the plots themselves contain.
	want := make([]int, 4)
	for _, fig := range rep.Figures(run) {
		src, err := png.Decode(bytes.NewReader(fig.PNG))
		if err != nil {
			t.Fatalf("%s: %v", fig.ID, err)
		}
		for i := range want {
			want[i] += countColour(src, Palette[i])
		}
	}
	for i, w := range want {
		if w < 500 {
			t.Fatalf("palette colour %d: only %d pixels in the plots themselves; test data too thin", i, w)
		}
		got := countColour(img, Palette[i])
		t.Logf("palette colour %d %v: %d pixels on screen, %d in the plot images", i, Palette[i], got, w)
		if float64(got) < 0.9*float64(w) || float64(got) > 1.1*float64(w) {
			t.Errorf("palette colour %d: %d pixels on screen, want about %d: plots not rendered as drawn", i, got, w)
		}
	}
}
