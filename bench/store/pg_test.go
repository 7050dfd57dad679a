package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/mamf"
	"github.com/haloforge/haloforge/bench/rbt"
	"github.com/haloforge/haloforge/bench/runner"
	"github.com/haloforge/haloforge/internal/testfix"
)

// PostgreSQL tests run against a real server: HALOFORGE_TEST_PG_DSN names a
// database the user may create schemas in (scripts/pg-test-server.sh starts
// a throwaway one and prints its DSN). Each test works in a schema of its
// own, dropped afterwards.

// pgTestDSN returns a DSN for a fresh schema, or skips the test when no
// server is configured (fails instead with HALOFORGE_REQUIRE_PG=1).
func pgTestDSN(t *testing.T) string { return testfix.PostgresDSN(t) }

func openPG(t *testing.T, dsn string) *Postgres {
	t.Helper()
	p, err := OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// fleetRun is a run as a runner on host would store it: a llama-bench case
// from a real fixture (optionally with a field no llama-bench printed yet),
// a mamf-finder and a bandwidth case.
func fleetRun(t testing.TB, id, host string, started time.Time, extraField string) bench.Run {
	recs, err := testfix.LlamaJSON(testfix.Dir() + "/bench.json")
	if err != nil {
		t.Fatal(err)
	}
	if extraField != "" {
		for i := range recs {
			recs[i].Fields[extraField] = float64(i + 1)
			recs[i].Order = append(recs[i].Order, extraField)
		}
	}
	r := testRun(id, started)
	r.Host.Hostname = host
	r.Finished = started.Add(time.Minute)
	r.Cases = []bench.CaseResult{
		{ID: "llama/tiny-f16/cpu/fa0/pp512-tg128", Tool: bench.ToolLlamaBench, Backend: "cpu", Model: "tiny-f16",
			Args: []string{"llama-bench", "-o", "json"}, Status: bench.StatusOK, Started: started, Finished: started.Add(15 * time.Second),
			Memory: bench.MemoryPeaks{VRAMMiB: f64(7), GTTMiB: f64(8062)}, StdoutLog: "logs/a.stdout.log", Llama: recs},
		{ID: "mamf/bf16", Tool: bench.ToolMamf, Status: bench.StatusOK, Started: started, Finished: started,
			Mamf: &mamf.Result{Dtype: "torch.bfloat16", Shapes: 81, Max: mamf.Shape{TFLOPS: 22.6, M: 4096, N: 4096, K: 4096}, Elapsed: time.Minute}},
		{ID: "rbt", Tool: bench.ToolRBT, Status: bench.StatusOK, Started: started, Finished: started,
			Bandwidth: &rbt.Result{Version: "2.6.0", GPUCopyGBs: f64(212)}},
	}
	return r
}

// writeCaseByCase stores a run the way the runner does: header, then each
// case as it finishes, then the header again with its finish time.
func writeCaseByCase(ctx context.Context, s Results, r bench.Run) error {
	head := r
	head.Cases, head.Finished = nil, time.Time{}
	if err := s.PutRun(ctx, head); err != nil {
		return err
	}
	for _, c := range r.Cases {
		if err := s.PutCase(ctx, r.ID, c); err != nil {
			return err
		}
	}
	head.Finished = r.Finished
	return s.PutRun(ctx, head)
}

func TestDollarRebind(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"none", "SELECT 1", "SELECT 1"},
		{"several", "SELECT a FROM t WHERE x = ? AND y = ?", "SELECT a FROM t WHERE x = $1 AND y = $2"},
		{"literals kept", `WHERE (? = '' OR s = ?) AND id LIKE ? ESCAPE '\'`, `WHERE ($1 = '' OR s = $2) AND id LIKE $3 ESCAPE '\'`},
		{"question mark in a literal", "SELECT '?', ?", "SELECT '?', $1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dollarRebind(tc.in); got != tc.want {
				t.Errorf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestIsDSN(t *testing.T) {
	for in, want := range map[string]bool{
		"postgres://u:p@h/db": true, "postgresql://h/db": true, "  POSTGRES://h/db": true,
		"results.db": false, "/var/lib/haloforge/results.db": false, "postgres.db": false, "": false,
	} {
		if IsDSN(in) != want {
			t.Errorf("IsDSN(%q) = %v", in, !want)
		}
	}
	if got := RedactDSN("postgres://hf:secret@db:5432/hf"); strings.Contains(got, "secret") {
		t.Errorf("password shown: %s", got)
	}
}

// TestPostgresMatchesSQLite stores the same runs in both stores and reads
// everything back through the Results interface: runs, listings, prefix
// resolution and case history must be identical.
func TestPostgresMatchesSQLite(t *testing.T) {
	ctx := context.Background()
	pg := openPG(t, pgTestDSN(t))
	lite := open(t)
	t0 := time.Date(2026, 11, 26, 11, 39, 0, 0, time.UTC)
	var ids []string
	for i, host := range []string{"strix1", "strix2", "strix1"} {
		r := fleetRun(t, runner.FleetRunID(t0.Add(time.Duration(i)*time.Hour), "smoke", host), host, t0.Add(time.Duration(i)*time.Hour), "")
		if i == 2 {
			r.Cases[0].Status, r.Cases[0].Llama = bench.StatusHang, nil
		}
		ids = append(ids, r.ID)
		for _, s := range []Results{lite, pg} {
			if err := writeCaseByCase(ctx, s, r); err != nil {
				t.Fatalf("%s: %v", s.Path(), err)
			}
		}
	}
	// Idempotent rewrites change nothing.
	again := fleetRun(t, ids[0], "strix1", t0, "")
	for _, s := range []Results{lite, pg} {
		if err := s.PutCase(ctx, ids[0], again.Cases[0]); err != nil {
			t.Fatal(err)
		}
	}
	same := func(what string, f func(Results) (any, error)) {
		t.Helper()
		a, err := f(lite)
		if err != nil {
			t.Fatalf("%s from SQLite: %v", what, err)
		}
		b, err := f(pg)
		if err != nil {
			t.Fatalf("%s from PostgreSQL: %v", what, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differs:\nsqlite   %+v\npostgres %+v", what, a, b)
		}
	}
	for _, id := range ids {
		same("run "+id, func(s Results) (any, error) { return s.Run(ctx, id) })
		same("typed run "+id, func(s Results) (any, error) { return s.RunTyped(ctx, id) })
		same("run fields "+id, func(s Results) (any, error) {
			return s.RunFields(ctx, id, []string{"n_threads", "type_k", "model_filename"})
		})
	}
	same("runs", func(s Results) (any, error) { return s.Runs(ctx, RunFilter{}) })
	same("runs limited", func(s Results) (any, error) { return s.Runs(ctx, RunFilter{Suite: "smoke", Limit: 2}) })
	for _, ref := range []string{"latest", "latest~1", "latest~2", ids[1], ids[1][:len(ids[1])-3], "20261126-12"} {
		same("resolve "+ref, func(s Results) (any, error) { return s.Resolve(ctx, ref) })
	}
	for _, ref := range []string{"20261126", "nope", "latest~9", "100%"} {
		_, e1 := lite.Resolve(ctx, ref)
		_, e2 := pg.Resolve(ctx, ref)
		if e1 == nil || e2 == nil {
			t.Errorf("resolve %q: sqlite %v, postgres %v; want errors from both", ref, e1, e2)
		}
	}
	for _, id := range []string{ids[0], "nope", ids[0][:8]} {
		same("has "+id, func(s Results) (any, error) { return s.Has(ctx, id) })
	}
	same("history", func(s Results) (any, error) {
		return s.CaseHistory(ctx, HistoryFilter{Model: "tiny-f16", Tool: bench.ToolLlamaBench})
	})
	// The numbers sit in llama-bench's own columns on PostgreSQL too.
	var avg float64
	var nPrompt, avgNS int64
	if err := pg.DB().QueryRow(`SELECT avg_ts, n_prompt, avg_ns FROM llama_bench WHERE run_id = $1 AND test_seq = 0`, ids[0]).
		Scan(&avg, &nPrompt, &avgNS); err != nil {
		t.Fatal(err)
	}
	want := again.Cases[0].Llama[0]
	if avg != want.AvgTS || int(nPrompt) != want.NPrompt || float64(avgNS) != want.AvgNS {
		t.Errorf("columns: avg_ts %v n_prompt %d avg_ns %d; want %v %d %v", avg, nPrompt, avgNS, want.AvgTS, want.NPrompt, want.AvgNS)
	}
	var rows int
	_ = pg.DB().QueryRow("SELECT COUNT(*) FROM llama_bench").Scan(&rows)
	if n := 2 * len(again.Cases[0].Llama); rows != n {
		t.Errorf("%d llama_bench rows after rewriting a case, want %d", rows, n)
	}
	// PutRunWithCases without replace refuses an existing id.
	if err := pg.PutRunWithCases(ctx, again, false); err == nil || !strings.Contains(err.Error(), "already stored") {
		t.Errorf("storing an existing run again: %v", err)
	}
}

func TestPostgresTypedColumnsAndNewFields(t *testing.T) {
	ctx := context.Background()
	pg := openPG(t, pgTestDSN(t))
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	r := fleetRun(t, "r1", "strix1", t0, "n_future_knob")
	// A field that changes type between llama-bench versions: text in an
	// integer column becomes NULL there and stays in record_json.
	r.Cases[0].Llama[1].Fields["n_batch"] = "auto"
	if err := pg.PutRunWithCases(ctx, r, false); err != nil {
		t.Fatal(err)
	}
	var knob sql.NullInt64
	var batch sql.NullInt64
	if err := pg.DB().QueryRow("SELECT n_future_knob, n_batch FROM llama_bench WHERE run_id = 'r1' AND test_seq = 1").Scan(&knob, &batch); err != nil {
		t.Fatal(err)
	}
	if knob.Int64 != 2 || batch.Valid {
		t.Errorf("n_future_knob %v (want 2), n_batch %v (want NULL)", knob, batch)
	}
	got, err := pg.Run(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Cases[0].Llama[1].Fields["n_batch"]; v != "auto" {
		t.Errorf("record_json lost the text n_batch: %v", v)
	}
	var typ string
	_ = pg.DB().QueryRow(`SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()
AND table_name = 'llama_bench' AND column_name = 'avg_ns'`).Scan(&typ)
	if typ != "bigint" {
		t.Errorf("avg_ns is %s, want bigint (nanoseconds overflow 32 bits)", typ)
	}
}

// Two runner processes, 50 runs each, into one PostgreSQL database at once.
const (
	writerEnv      = "HALOFORGE_TEST_PG_WRITER"
	writerRuns     = 50
	writerProcs    = 2
	writerNewField = "n_fleet_knob"
)

// TestPGWriterProcess is the body of one writer process; it runs only when
// TestPostgresConcurrentRunners re-executes the test binary.
func TestPGWriterProcess(t *testing.T) {
	host := os.Getenv(writerEnv)
	if host == "" {
		t.Skip("helper process of TestPostgresConcurrentRunners")
	}
	ctx := context.Background()
	s, err := OpenPostgres(ctx, os.Getenv("HALOFORGE_TEST_PG_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	// Every run starts in the same second on both hosts: ids differ only by
	// what FleetRunID adds.
	t0 := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	for i := 0; i < writerRuns; i++ {
		extra := ""
		if i%10 == 3 {
			extra = writerNewField // both processes add the same new column
		}
		r := fleetRun(t, runner.FleetRunID(t0, "smoke", host), host, t0, extra)
		r.Host.Extra = map[string]string{"writer": fmt.Sprintf("%s#%d", host, i)}
		if err := writeCaseByCase(ctx, s, r); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		fmt.Printf("stored %s\n", r.ID)
	}
}

func TestPostgresConcurrentRunners(t *testing.T) {
	dsn := pgTestDSN(t)
	ctx := context.Background()
	_ = openPG(t, dsn).Close() // schema exists before the writers race (they migrate safely anyway)
	var wg sync.WaitGroup
	outs := make([][]byte, writerProcs)
	errs := make([]error, writerProcs)
	start := time.Now()
	for p := 0; p < writerProcs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPGWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), writerEnv+"=strix"+strconv.Itoa(p+1), "HALOFORGE_TEST_PG_DSN="+dsn)
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			outs[p], errs[p] = cmd.CombinedOutput()
		}(p)
	}
	wg.Wait()
	for p := range errs {
		if errs[p] != nil {
			t.Fatalf("writer %d: %v\n%s", p+1, errs[p], outs[p])
		}
	}
	t.Logf("%d processes x %d runs stored in %s", writerProcs, writerRuns, time.Since(start).Round(time.Millisecond))
	stored := map[string]bool{}
	for _, o := range outs {
		for _, line := range strings.Split(string(o), "\n") {
			if id, ok := strings.CutPrefix(line, "stored "); ok {
				stored[id] = true
			}
		}
	}
	if len(stored) != writerProcs*writerRuns {
		t.Fatalf("writers reported %d distinct run ids, want %d", len(stored), writerProcs*writerRuns)
	}

	s := openPG(t, dsn)
	list, err := s.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	notes := map[string]int{}
	want := fleetRun(t, "x", "x", time.Now(), "")
	for _, rs := range list {
		seen[rs.ID]++
		r, err := s.Run(ctx, rs.ID)
		if err != nil {
			t.Fatal(err)
		}
		notes[r.Host.Extra["writer"]]++
		if rs.Cases != 3 || len(r.Cases) != 3 || len(r.Cases[0].Llama) != len(want.Cases[0].Llama) || r.Cases[1].Mamf == nil || r.Finished.IsZero() {
			t.Errorf("run %s came back incomplete: %d cases (summary %d), %d llama rows, finished %v",
				rs.ID, len(r.Cases), rs.Cases, len(r.Cases[0].Llama), r.Finished)
		}
	}
	for id := range stored {
		if seen[id] != 1 {
			t.Errorf("run %s read back %d times, want once", id, seen[id])
		}
	}
	if len(list) != len(stored) || len(notes) != len(stored) {
		t.Errorf("read back %d runs (%d distinct notes), stored %d", len(list), len(notes), len(stored))
	}
	var rows, withKnob int
	_ = s.DB().QueryRow("SELECT COUNT(*), COUNT("+writerNewField+") FROM llama_bench").Scan(&rows, &withKnob)
	nl := len(want.Cases[0].Llama)
	if rows != writerProcs*writerRuns*nl || withKnob != writerProcs*(writerRuns/10)*nl {
		t.Errorf("llama_bench holds %d rows (%d with %s), want %d (%d)", rows, withKnob, writerNewField,
			writerProcs*writerRuns*nl, writerProcs*(writerRuns/10)*nl)
	}
	t.Logf("read back %d runs once each, %d llama_bench rows (%d with the column both writers added)", len(list), rows, withKnob)
}

// TestQueriesGoThroughDialect: a query sent on the raw handle (s.db) skips
// the placeholder rewrite and works on SQLite only; every query must go
// through s.x() or a transaction's bound handle.
func TestQueriesGoThroughDialect(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	raw := regexp.MustCompile(`s\.db\.(Query|QueryRow|Exec)(Context)?\(`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if raw.MatchString(line) && !strings.Contains(line, "PRAGMA") {
				t.Errorf("%s:%d: query on s.db bypasses the dialect (use s.x()): %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// FuzzDollarRebind: the rewrite numbers exactly the ? outside string
// literals, and undoing it gives the query back.
func FuzzDollarRebind(f *testing.F) {
	f.Add(`SELECT id FROM runs WHERE (? = '' OR suite = ?) AND id LIKE ? ESCAPE '\' LIMIT ?`)
	f.Add("INSERT INTO t VALUES (?, '?', ?)")
	f.Add("")
	f.Fuzz(func(t *testing.T, q string) {
		if strings.Contains(q, "$") || regexp.MustCompile(`\?[0-9]`).MatchString(q) {
			return // $ already, or ?N whose digits would run into the number
		}
		out := dollarRebind(q)
		want, n, in := 0, 0, false
		for i := 0; i < len(q); i++ {
			switch {
			case q[i] == '\'':
				in = !in
			case q[i] == '?' && !in:
				want++
			}
		}
		back := regexp.MustCompile(`\$[0-9]+`).ReplaceAllStringFunc(out, func(m string) string {
			n++
			if m != "$"+strconv.Itoa(n) {
				t.Fatalf("placeholder %s out of order in %q", m, out)
			}
			return "?"
		})
		if n != want || back != q {
			t.Fatalf("%q -> %q: %d placeholders, want %d; undone %q", q, out, n, want, back)
		}
	})
}

func TestRunIDTakenPostgres(t *testing.T) { checkIDTaken(t, openPG(t, pgTestDSN(t))) }
