package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/mamf"
	"github.com/haloforge/haloforge/bench/rbt"
	"github.com/haloforge/haloforge/internal/testfix"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func f64(v float64) *float64 { return &v }

func testRun(id string, started time.Time) bench.Run {
	return bench.Run{
		ID: id, Suite: "smoke", Target: "gfx1151", Started: started,
		Host:   bench.HostFacts{Hostname: "box", Kernel: "6.18.4", GPUs: []string{"gfx1151 (Radeon 8060S)"}},
		Images: map[string]bench.ImageInfo{"hf/llama:vulkan": {Ref: "hf/llama:vulkan", Labels: map[string]string{"io.haloforge.llama.cpp": "b6000"}}},
	}
}

func TestRoundTripFixture(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	t0 := time.Date(2026, 11, 26, 11, 39, 0, 0, time.UTC)
	run := testRun("20261126-113900-smoke", t0)
	if err := s.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	recs := testfix.Llama(t, "bench.json")
	c := bench.CaseResult{
		ID: "llama/tiny-f16/cpu/fa0/pp512-tg128", Tool: bench.ToolLlamaBench, Backend: "cpu", Model: "tiny-f16",
		Args: []string{"llama-bench", "-m", "/models/tiny-f16.gguf", "-o", "json"}, Env: map[string]string{"X": "1"},
		Status: bench.StatusOK, Started: t0, Finished: t0.Add(15 * time.Second),
		Memory:    bench.MemoryPeaks{VRAMMiB: f64(7), GTTMiB: f64(8062)}, // RAM not available
		StdoutLog: "logs/a.stdout.log", Llama: recs,
	}
	mc := bench.CaseResult{ID: "mamf/bf16", Tool: bench.ToolMamf, Status: bench.StatusOK, Started: t0, Finished: t0,
		Mamf: &mamf.Result{Dtype: "torch.bfloat16", Shapes: 81, Max: mamf.Shape{TFLOPS: 22.6, M: 4096, N: 4096, K: 4096}, Elapsed: time.Minute}}
	bc := bench.CaseResult{ID: "rbt", Tool: bench.ToolRBT, Status: bench.StatusOK, Started: t0, Finished: t0,
		Bandwidth: &rbt.Result{Version: "2.6.0", GPUCopyGBs: f64(212)}}
	for _, cc := range []bench.CaseResult{c, mc, bc} {
		if err := s.PutCase(ctx, run.ID, cc); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := run
	want.Cases = []bench.CaseResult{c, mc, bc}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
	if got.Cases[0].Memory.RAMMiB != nil {
		t.Error("unavailable RAM peak came back as a number")
	}
	// llama-bench's own columns carry the numbers.
	var avg float64
	var fa, nPrompt int
	var commit string
	if err := s.DB().QueryRow(`SELECT avg_ts, flash_attn, n_prompt, build_commit FROM llama_bench WHERE run_id = ? AND test_seq = 0`, run.ID).
		Scan(&avg, &fa, &nPrompt, &commit); err != nil {
		t.Fatal(err)
	}
	if avg != recs[0].AvgTS || fa != -1 || nPrompt != 512 || commit != "Debian" {
		t.Errorf("llama_bench row = %v %v %v %q", avg, fa, nPrompt, commit)
	}
}

func TestPutCaseIdempotent(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	run := testRun("r1", time.Now())
	if err := s.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	recs := testfix.Llama(t, "bench.json")
	c := bench.CaseResult{ID: "a", Tool: bench.ToolLlamaBench, Status: bench.StatusOK, Llama: recs}
	c2 := bench.CaseResult{ID: "b", Tool: bench.ToolLlamaBench, Status: bench.StatusHang, ExitCode: 137}
	for i := 0; i < 3; i++ { // a resumed run writes the same cases again
		if err := s.PutCase(ctx, run.ID, c); err != nil {
			t.Fatal(err)
		}
		if err := s.PutCase(ctx, run.ID, c2); err != nil {
			t.Fatal(err)
		}
	}
	c.Llama = recs[:1] // a rerun that replaced the case
	if err := s.PutCase(ctx, run.ID, c); err != nil {
		t.Fatal(err)
	}
	var ncases, nrows int
	_ = s.DB().QueryRow("SELECT COUNT(*) FROM cases").Scan(&ncases)
	_ = s.DB().QueryRow("SELECT COUNT(*) FROM llama_bench").Scan(&nrows)
	if ncases != 2 || nrows != 1 {
		t.Fatalf("cases=%d llama rows=%d, want 2 and 1", ncases, nrows)
	}
	got, err := s.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cases[0].ID != "a" || got.Cases[1].ID != "b" {
		t.Errorf("case order changed on replace: %s, %s", got.Cases[0].ID, got.Cases[1].ID)
	}
}

func TestPutCaseNeedsRun(t *testing.T) {
	s := open(t)
	err := s.PutCase(context.Background(), "nope", bench.CaseResult{ID: "x", Status: bench.StatusOK})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

// A bad case in a batch leaves nothing behind.
func TestPutRunWithCasesAtomic(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	run := testRun("imp", time.Now())
	run.Cases = []bench.CaseResult{
		{ID: "ok", Tool: bench.ToolLlamaBench, Status: bench.StatusOK, Llama: testfix.Llama(t, "bench.json")},
		{ID: "", Tool: bench.ToolLlamaBench, Status: bench.StatusOK},
	}
	if err := s.PutRunWithCases(ctx, run, false); err == nil {
		t.Fatal("want an error for a case without id")
	}
	var n int
	_ = s.DB().QueryRow("SELECT (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM cases) + (SELECT COUNT(*) FROM llama_bench)").Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows left after a failed import", n)
	}
	run.Cases = run.Cases[:1]
	if err := s.PutRunWithCases(ctx, run, false); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRunWithCases(ctx, run, false); !errors.Is(err, ErrExists) {
		t.Fatalf("second import: err = %v, want ErrExists", err)
	}
}

// Every column llama-bench's own sql printer writes exists with its type,
// so compare-llama-bench.py's queries work on the store.
func TestLlamaBenchColumnsMatchSQLPrinter(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testfix.Dir(), "bench.sql"))
	if err != nil {
		t.Fatal(err)
	}
	s := open(t)
	cols, err := llamaColumns(context.Background(), s.DB())
	if err != nil {
		t.Fatal(err)
	}
	create := strings.SplitN(string(data), ");", 2)[0]
	re := regexp.MustCompile(`(?m)^  ([a-z_0-9]+) (TEXT|INTEGER|REAL),?$`)
	ms := re.FindAllStringSubmatch(create, -1)
	if len(ms) < 40 {
		t.Fatalf("found only %d columns in the fixture's CREATE TABLE", len(ms))
	}
	for _, m := range ms {
		if cols[m[1]] != m[2] {
			t.Errorf("column %s: store has %q, llama-bench prints %s", m[1], cols[m[1]], m[2])
		}
	}
	if !strings.Contains(string(data), "CREATE TABLE IF NOT EXISTS llama_bench") {
		t.Error("fixture no longer names the table llama_bench")
	}
}

// A field a newer llama-bench prints becomes a column; nothing is dropped.
func TestUnknownFieldBecomesColumn(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	run := testRun("r", time.Now())
	if err := s.PutRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	recs := testfix.Llama(t, "bench.json")
	recs[0].Fields["n_future_knob"] = 7.0
	recs[0].Fields["Bad Name;"] = "x" // not an identifier: kept in record_json only
	recs[0].Order = append(recs[0].Order, "n_future_knob", "Bad Name;")
	if err := s.PutCase(ctx, run.ID, bench.CaseResult{ID: "c", Tool: bench.ToolLlamaBench, Status: bench.StatusOK, Llama: recs}); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.DB().QueryRow("SELECT n_future_knob FROM llama_bench WHERE test_seq = 0").Scan(&v); err != nil || v != 7 {
		t.Fatalf("n_future_knob = %d, %v", v, err)
	}
	got, err := s.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Cases[0].Llama[0].Fields["Bad Name;"] != "x" {
		t.Error("odd field name lost")
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range []string{"20261101-a-smoke", "20261102-b-seed", "20261103-c-seed"} {
		r := testRun(id, base.Add(time.Duration(i)*24*time.Hour))
		r.Suite = id[strings.LastIndex(id, "-")+1:]
		if err := s.PutRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, ref, want string
		err             error
	}{
		{"exact", "20261102-b-seed", "20261102-b-seed", nil},
		{"unique prefix", "20261101", "20261101-a-smoke", nil},
		{"latest", "latest", "20261103-c-seed", nil},
		{"latest~1", "latest~1", "20261102-b-seed", nil},
		{"latest~2", "latest~2", "20261101-a-smoke", nil},
		{"too far back", "latest~3", "", ErrNotFound},
		{"ambiguous prefix", "2026110", "", ErrAmbiguous},
		{"unknown", "zzz", "", ErrNotFound},
		{"like wildcard is literal", "2026110_", "", ErrNotFound},
		{"empty", "", "", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Resolve(ctx, tt.ref)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tt.ref, got, err, tt.want)
			}
		})
	}
	list, err := s.Runs(ctx, RunFilter{Suite: "seed"})
	if err != nil || len(list) != 2 || list[0].ID != "20261103-c-seed" {
		t.Fatalf("Runs(seed) = %+v, %v", list, err)
	}
}

func TestCaseHistory(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	recs := testfix.Llama(t, "bench.json")
	for i, id := range []string{"r1", "r2"} {
		r := testRun(id, base.Add(time.Duration(i)*time.Hour))
		r.Cases = []bench.CaseResult{
			{ID: "vk", Tool: bench.ToolLlamaBench, Backend: "vulkan", Model: "tiny", Status: bench.StatusOK, Llama: recs},
			{ID: "hip", Tool: bench.ToolLlamaBench, Backend: "hip", Model: "tiny", Status: bench.StatusHang},
		}
		if err := s.PutRunWithCases(ctx, r, false); err != nil {
			t.Fatal(err)
		}
	}
	h, err := s.CaseHistory(ctx, HistoryFilter{Backend: "vulkan"})
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].ID != "r1" || len(h[0].Cases) != 1 || h[0].Cases[0].ID != "vk" || len(h[1].Cases[0].Llama) != 2 {
		t.Fatalf("history = %+v", h)
	}
}

func TestReopenKeepsSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.db")
	for i := 0; i < 2; i++ {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var v int
		_ = s.DB().QueryRow("PRAGMA user_version").Scan(&v)
		var mode string
		_ = s.DB().QueryRow("PRAGMA journal_mode").Scan(&mode)
		if v != len(migrations) || mode != "wal" {
			t.Fatalf("user_version=%d journal_mode=%s", v, mode)
		}
		_ = s.Close()
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(bad, []byte("this is not a database, just text that is long enough........................................................................................"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("opening garbage: err = %v, want an error naming the file", err)
	}
}

// Fields added to bench.Run and bench.CaseResult after the schema survive a
// round trip (whole header and case kept as JSON); rows written before that
// column existed still load from the columns.
func TestNewFieldsAndOldRows(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	run := testRun("r", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	run.Models = map[string]bench.ModelInfo{"tiny": {Source: "tiny:q4_0", SHA256: []string{"ab"}, Bytes: 42}}
	c := bench.CaseResult{ID: "c", Tool: bench.ToolLlamaBench, Status: bench.StatusOK, WallSec: 12.5, TimeoutSec: 600,
		Devices: []string{"/dev/dri"}, GroupAdd: []string{"44"}, Notes: []string{"no /dev/kfd"},
		Memory: bench.MemoryPeaks{GTTMiB: f64(100), ProcGTTMiB: f64(90)}, Llama: testfix.Llama(t, "bench.json")}
	run.Cases = []bench.CaseResult{c}
	if err := s.PutRunWithCases(ctx, run, false); err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, run) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, run)
	}
	var wall, proc float64
	if err := s.DB().QueryRow("SELECT wall_sec, proc_gtt_mib FROM cases").Scan(&wall, &proc); err != nil || wall != 12.5 || proc != 90 {
		t.Fatalf("columns: %v %v %v", wall, proc, err)
	}
	if _, err := s.DB().Exec("UPDATE runs SET run_json = NULL; UPDATE cases SET case_json = NULL"); err != nil {
		t.Fatal(err)
	}
	old, err := s.Run(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if old.ID != "r" || old.Images["hf/llama:vulkan"].Labels["io.haloforge.llama.cpp"] != "b6000" ||
		len(old.Cases) != 1 || len(old.Cases[0].Llama) != 2 || *old.Cases[0].Memory.GTTMiB != 100 {
		t.Fatalf("old-row load = %+v", old)
	}
}

// Two handles on one file (the runner writing, a report reading) never see
// "database is locked": WAL, a busy timeout and immediate write transactions.
func TestConcurrentHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "results.db")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	if err := a.PutRun(ctx, testRun("r", time.Now())); err != nil {
		t.Fatal(err)
	}
	recs := testfix.Llama(t, "bench.json")
	errs := make(chan error, 3)
	for w, s := range []*Store{a, b} {
		go func(w int, s *Store) {
			for i := 0; i < 40; i++ {
				c := bench.CaseResult{ID: fmt.Sprintf("w%d-%d", w, i), Tool: bench.ToolLlamaBench, Status: bench.StatusOK, Llama: recs}
				if err := s.PutCase(ctx, "r", c); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(w, s)
	}
	go func() {
		for i := 0; i < 40; i++ {
			if _, err := b.Run(ctx, "r"); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Run(ctx, "r")
	if err != nil || len(got.Cases) != 80 {
		t.Fatalf("%d cases, %v", len(got.Cases), err)
	}
}

// checkIDTaken: a second run that drew a stored run's id is refused, and the
// first run's header and cases are untouched; the same run may rewrite its
// own header (a resume) and finish.
func checkIDTaken(t *testing.T, s Results) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	first := testRun("20261126-140000-smoke-box-0000beef", t0)
	if err := s.PutRun(ctx, first); err != nil {
		t.Fatal(err)
	}
	c := bench.CaseResult{ID: "rbt", Tool: bench.ToolRBT, Status: bench.StatusOK, Started: t0, Finished: t0,
		Bandwidth: &rbt.Result{Version: "2.6.0", GPUCopyGBs: f64(212)}}
	if err := s.PutCase(ctx, first.ID, c); err != nil {
		t.Fatal(err)
	}
	for name, other := range map[string]bench.Run{
		"other host, same second": func() bench.Run { r := first; r.Host.Hostname = "box2"; return r }(),
		"same host, later start":  testRun(first.ID, t0.Add(time.Minute)),
	} {
		err := s.PutRun(ctx, other)
		if !errors.Is(err, ErrIDTaken) {
			t.Fatalf("%s: PutRun = %v, want ErrIDTaken", name, err)
		}
		for _, want := range []string{first.ID, "2026-11-26T14:00:00", `"box"`, "--run-id"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error does not name %s: %v", name, want, err)
			}
		}
	}
	resumed := first
	resumed.Finished = t0.Add(time.Hour)
	if err := s.PutRun(ctx, resumed); err != nil {
		t.Fatalf("the same run rewriting its header: %v", err)
	}
	got, err := s.Run(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Host.Hostname != "box" || !got.Started.Equal(t0) || !got.Finished.Equal(resumed.Finished) || len(got.Cases) != 1 {
		t.Errorf("stored run changed: host %q started %v finished %v, %d cases", got.Host.Hostname, got.Started, got.Finished, len(got.Cases))
	}
}

func TestRunIDTakenSQLite(t *testing.T) { checkIDTaken(t, open(t)) }
