package runner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
)

type recordingProgress struct {
	mu    sync.Mutex
	notes []string
	done  []string
}

func (p *recordingProgress) Begin(string, int, int) {}
func (p *recordingProgress) CaseStart(suite.Case)   {}
func (p *recordingProgress) CaseDone(c suite.Case, _ bench.CaseResult) {
	p.mu.Lock()
	p.done = append(p.done, c.ID)
	p.mu.Unlock()
}
func (p *recordingProgress) Note(s string) { p.mu.Lock(); p.notes = append(p.notes, s); p.mu.Unlock() }
func (p *recordingProgress) End()          {}

type memRecorder struct {
	runs  []bench.Run
	cases map[string]bench.CaseResult
	puts  int
}

func (m *memRecorder) PutRun(_ context.Context, r bench.Run) error {
	m.runs = append(m.runs, r)
	return nil
}
func (m *memRecorder) PutCase(_ context.Context, _ string, c bench.CaseResult) error {
	m.cases[c.ID] = c
	m.puts++
	return nil
}

// TestCasesReal runs real llama-bench cases in the smoke image on the real
// daemon: a normal case, a crash (a file that is not a GGUF), a Vulkan case
// over its time limit (hang: killed, logs kept, suite goes on, GPU probe
// before the next GPU case), and a case after it.
func TestCasesReal(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	tiny := dockertest.TinyModel(t)
	// A GGUF file cut short: it passes the mount checks (GGUF magic) and
	// llama-bench fails to load it, so the case crashes.
	whole, err := os.ReadFile(tiny)
	if err != nil {
		t.Fatal(err)
	}
	notGGUF := filepath.Join(t.TempDir(), "broken.gguf")
	if err := os.WriteFile(notGGUF, whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	y := `
name: itest
defaults: {timeout: 15m, repetitions: 1}
backends:
  cpu: {image: ` + runtime.SmokeRef + `}
  vulkan: {image: ` + runtime.SmokeRef + `, device: software}
models:
  tiny: {path: ` + tiny + `}
  broken: {path: ` + notGGUF + `}
cases:
  - {tool: llama-bench, models: [tiny], backends: [cpu], tests: [pp16/tg4]}
  - {tool: llama-bench, variant: crash, models: [broken], backends: [cpu], tests: [pp16]}
  - {tool: llama-bench, variant: hang, models: [tiny], backends: [vulkan], tests: [pp2048/tg2048], repetitions: 5, timeout: 20s}
  - {tool: llama-bench, variant: after, models: [tiny], backends: [vulkan], tests: [tg2]}
`
	s, err := suite.Parse("itest.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.Expand(suite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	ctx := context.Background()
	binds, _, err := testCache(home, s).Prepare(ctx, s, cases)
	if err != nil {
		t.Fatal(err)
	}
	prog := &recordingProgress{}
	rec := &memRecorder{cases: map[string]bench.CaseResult{}}
	r := &Runner{Docker: dc, Home: home, Binds: binds, NamePrefix: "hf-runner-test-", Progress: prog, Recorder: rec}
	run, err := r.Start(ctx, bench.Run{Suite: s.Name}, s.Raw, cases)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Cases) != 4 || run.Finished.IsZero() {
		t.Fatalf("%d cases, finished %v", len(run.Cases), run.Finished)
	}
	dir := bench.RunDir(home, run.ID)
	logOf := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Errorf("log %s: %v", rel, err)
		}
		return string(b)
	}
	hostGIDs, _ := Host{}.GroupIDs()

	ok := run.Cases[0]
	if ok.Status != bench.StatusOK || len(ok.Llama) != 2 {
		t.Fatalf("ok case: %s %s %d records", ok.Status, ok.Error, len(ok.Llama))
	}
	for _, l := range ok.Llama {
		if l.AvgTS <= 0 {
			t.Errorf("%s: %v t/s", l.Label(), l.AvgTS)
		}
	}
	if !strings.Contains(logOf(ok.StdoutLog), `"avg_ts"`) || !strings.Contains(logOf(ok.StderrLog), "load_backend") {
		t.Error("ok case logs incomplete")
	}
	if !slices.Equal(ok.GroupAdd, hostGIDs) || len(ok.Devices) != 0 {
		t.Errorf("groups %v (host %v), devices %v", ok.GroupAdd, hostGIDs, ok.Devices)
	}

	crash := run.Cases[1]
	if crash.Status != bench.StatusCrash || crash.ExitCode == 0 || !strings.Contains(crash.Error, "exited with code") {
		t.Errorf("crash case: %s exit %d %q", crash.Status, crash.ExitCode, crash.Error)
	}
	if logOf(crash.StderrLog) == "" {
		t.Error("crash case has no stderr log")
	}

	hang := run.Cases[2]
	// 20s: long enough for llama-bench to start and log its Vulkan device on
	// a loaded 2-core machine, far shorter than the case's minutes of work.
	if hang.Status != bench.StatusHang || !strings.Contains(hang.Error, "time limit of 20s") {
		t.Errorf("hang case: %s %q", hang.Status, hang.Error)
	}
	if d := hang.Finished.Sub(hang.Started); d < 20*time.Second || d > 90*time.Second {
		t.Errorf("hang case took %s", d)
	}
	if !strings.Contains(logOf(hang.StderrLog), "ggml_vulkan") {
		t.Error("hang case logs not kept")
	}
	if !slices.ContainsFunc(hang.Notes, func(n string) bool { return strings.Contains(n, "/dev/dri absent") }) && len(hang.Devices) == 0 {
		t.Errorf("no note about the absent /dev/dri: %v", hang.Notes)
	}

	after := run.Cases[3]
	if after.Status != bench.StatusOK {
		t.Errorf("suite did not go on after the hang: %s %q", after.Status, after.Error)
	}
	if !slices.ContainsFunc(prog.notes, func(n string) bool { return strings.Contains(n, "GPU probe") }) {
		t.Errorf("no GPU probe note before the case after the hang: %v", prog.notes)
	}
	if len(rec.cases) != 4 || len(rec.runs) != 2 || rec.runs[1].Finished.IsZero() {
		t.Errorf("store saw %d cases, %d run writes", len(rec.cases), len(rec.runs))
	}
	// Every case file on disk, and no container left behind.
	files, _ := filepath.Glob(filepath.Join(dir, "cases", "*.json"))
	if len(files) != 4 {
		t.Errorf("%d case files", len(files))
	}
	list, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelRun+"="+run.ID)})
	if err != nil || len(list.Items) != 0 {
		t.Errorf("containers left: %d %v", len(list.Items), err)
	}
}
