package store

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/internal/testfix"
)

func fixtureCase(t *testing.T, id, file string) bench.CaseResult {
	t.Helper()
	return bench.CaseResult{ID: id, Tool: bench.ToolLlamaBench, Backend: "cpu", Status: bench.StatusOK,
		Llama: testfix.Llama(t, file)}
}

// Several processes opening one fresh database at once: every one opens it,
// and the schema is created once (the version is re-read under the write
// lock). Each opener is its own connection pool, as separate processes are.
// Sixty rounds: SQLite answers busy without waiting in a few percent of
// them, which Open must retry.
func TestConcurrentFirstOpen(t *testing.T) {
	for round := 0; round < 60; round++ {
		path := filepath.Join(t.TempDir(), "results.db")
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				s, err := Open(path)
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			}(i)
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d opener %d: %v", round, i, err)
			}
		}
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var v int
		if err := s.DB().QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
			t.Fatalf("user_version %d (%v), want %d", v, err, len(migrations))
		}
		_ = s.Close()
	}
}

// --replace replaces: the old run's cases are gone, not merged.
func TestReplaceDropsOldCases(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	t0 := time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)
	old := testRun("r", t0)
	old.Cases = []bench.CaseResult{fixtureCase(t, "import/1-bench.json", "bench.json"), fixtureCase(t, "import/2-bench-fa1.json", "bench-fa1.json")}
	if err := s.PutRunWithCases(ctx, old, false); err != nil {
		t.Fatal(err)
	}
	next := testRun("r", t0)
	next.Cases = []bench.CaseResult{fixtureCase(t, "import/1-bench.jsonl", "bench.jsonl")}
	if err := s.PutRunWithCases(ctx, next, false); err == nil {
		t.Fatal("second store without replace succeeded")
	}
	if err := s.PutRunWithCases(ctx, next, true); err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Cases) != 1 || got.Cases[0].ID != "import/1-bench.jsonl" {
		t.Fatalf("after replace: %d cases %v", len(got.Cases), got.Cases)
	}
	var n int
	_ = s.DB().QueryRow("SELECT COUNT(*) FROM llama_bench WHERE run_id = 'r'").Scan(&n)
	if n != len(next.Cases[0].Llama) {
		t.Fatalf("%d llama_bench rows after replace, want %d", n, len(next.Cases[0].Llama))
	}
}

// latest is the run stored last, not the one whose tests ran last: an
// import of old outputs stored after a run of today is the latest.
func TestLatestIsStoredLast(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	today := testRun("today", time.Now().Add(-time.Hour))
	if err := s.PutRunWithCases(ctx, today, false); err != nil {
		t.Fatal(err)
	}
	old := testRun("import-old", time.Date(2025, 6, 18, 21, 4, 11, 0, time.UTC))
	if err := s.PutRunWithCases(ctx, old, false); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{"latest": "import-old", "latest~1": "today"} {
		if id, err := s.Resolve(ctx, ref); err != nil || id != want {
			t.Errorf("%s = %q, %v; want %q", ref, id, err, want)
		}
	}
}

// Reading needs no write access: OpenReadOnly never writes (its file is
// byte for byte the same afterwards, no -wal or -shm appears) and reads
// what Open stored.
func TestOpenReadOnlyWritesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "results.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	run := testRun("r", time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC))
	run.Cases = []bench.CaseResult{fixtureCase(t, "c", "bench.json")}
	if err := s.PutRunWithCases(ctx, run, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ro.Run(ctx, "r"); err != nil || len(got.Cases) != 1 || len(got.Cases[0].Llama) != 2 {
		t.Fatalf("read-only run: %v %+v", err, got)
	}
	if _, err := ro.Resolve(ctx, "latest"); err != nil {
		t.Fatal(err)
	}
	if err := ro.PutRun(ctx, testRun("other", time.Now())); err == nil {
		t.Error("a write through the read-only store succeeded")
	}
	_ = ro.Close()
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("the database file changed")
	}
	if _, err := OpenReadOnly(filepath.Join(dir, "absent.db")); err == nil {
		t.Error("an absent file opened")
	}
}

// Migrate (db migrate's workflow) copies runs once: a rerun skips them, a
// grown run is replaced, a clash is named and not copied.
func TestMigrateIdempotent(t *testing.T) {
	ctx := context.Background()
	src, dst := open(t), open(t)
	t0 := time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)
	a := testRun("a", t0)
	a.Cases = []bench.CaseResult{fixtureCase(t, "c1", "bench.json")}
	b := testRun("b", t0.Add(time.Hour))
	b.Cases = []bench.CaseResult{fixtureCase(t, "c1", "bench-multi.jsonl")}
	for _, r := range []bench.Run{a, b} {
		if err := src.PutRunWithCases(ctx, r, false); err != nil {
			t.Fatal(err)
		}
	}
	n, err := Migrate(ctx, src, dst, false, io.Discard)
	if err != nil || n.Runs != 2 || n.Cases != 2 || n.LlamaRows != 14 {
		t.Fatalf("first migrate: %+v %v", n, err)
	}
	n, err = Migrate(ctx, src, dst, false, io.Discard)
	if err != nil || n.Runs != 0 || n.Skipped != 2 {
		t.Fatalf("second migrate: %+v %v", n, err)
	}
	if err := src.PutCase(ctx, "a", fixtureCase(t, "c2", "bench-fa1.json")); err != nil {
		t.Fatal(err)
	}
	clash := testRun("clash", t0)
	if err := dst.PutRunWithCases(ctx, clash, false); err != nil {
		t.Fatal(err)
	}
	other := testRun("clash", t0.Add(time.Minute))
	if err := src.PutRunWithCases(ctx, other, false); err != nil {
		t.Fatal(err)
	}
	n, err = Migrate(ctx, src, dst, false, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "clash") || n.Updated != 1 || len(n.Clashes) != 1 {
		t.Fatalf("third migrate: %+v %v", n, err)
	}
	if got, _ := dst.Run(ctx, "a"); len(got.Cases) != 2 {
		t.Fatalf("grown run has %d cases in dst", len(got.Cases))
	}
}

// history --test selects the test's llama-bench rows in SQL: other tests'
// rows are not loaded, and cases left without a result are dropped.
func TestCaseHistoryTestFilter(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	run := testRun("r", time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC))
	run.Cases = []bench.CaseResult{fixtureCase(t, "multi", "bench-multi.jsonl"), fixtureCase(t, "one", "bench.json")}
	if err := s.PutRunWithCases(ctx, run, false); err != nil {
		t.Fatal(err)
	}
	runs, err := s.CaseHistory(ctx, HistoryFilter{Test: &TestSpec{NPrompt: 128}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("%v %d runs", err, len(runs))
	}
	n := 0
	for _, c := range runs[0].Cases {
		for _, r := range c.Llama {
			if r.NPrompt != 128 || r.NGen != 0 || r.NDepth != 0 {
				t.Errorf("case %s: %s loaded", c.ID, r.Label())
			}
			n++
		}
	}
	if len(runs[0].Cases) != 1 || n != 4 { // bench-multi: pp128 at -fa 0,1 x -b 256,2048; bench.json has none
		t.Errorf("%d cases, %d pp128 results", len(runs[0].Cases), n)
	}
}

// RunTyped is Run less each record's Fields and Order.
func TestRunTyped(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	putMultiRun(t, s)
	full, err := s.Run(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	typed, err := s.RunTyped(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	for i := range full.Cases[0].Llama {
		f := full.Cases[0].Llama[i]
		if len(f.Fields) == 0 {
			t.Fatal("Run lost Fields")
		}
		f.Fields, f.Order = nil, nil
		if !reflect.DeepEqual(f, typed.Cases[0].Llama[i]) {
			t.Errorf("record %d: typed %+v, want %+v", i, typed.Cases[0].Llama[i], f)
		}
	}
}

// RunFields is RunTyped plus the named fields, with the values the records'
// JSON holds (numbers as float64), read from their columns; a field a record
// did not print, or that has no column, is absent.
func TestRunFields(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	putMultiRun(t, s)
	full, err := s.Run(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"type_k", "n_threads", "use_mmap", "model_filename", "no_such_field", "run_id"}
	got, err := s.RunFields(ctx, "r", keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Cases[0].Llama) != len(full.Cases[0].Llama) || len(full.Cases[0].Llama) < 2 {
		t.Fatalf("%d records, want %d (>1)", len(got.Cases[0].Llama), len(full.Cases[0].Llama))
	}
	for i, f := range full.Cases[0].Llama {
		g := got.Cases[0].Llama[i]
		want := map[string]any{}
		for _, k := range keys[:4] {
			if v, ok := f.Fields[k]; ok {
				if b, isBool := v.(bool); isBool { // a bool is stored as 0/1
					v = map[bool]float64{false: 0, true: 1}[b]
				}
				want[k] = v
			}
		}
		if len(want) < 3 {
			t.Fatalf("record %d printed only %v of %v: the fixture no longer exercises RunFields", i, want, keys)
		}
		if !reflect.DeepEqual(g.Fields, want) {
			t.Errorf("record %d fields %v, want %v", i, g.Fields, want)
		}
		f.Fields, f.Order, g.Fields = nil, nil, nil
		if !reflect.DeepEqual(f, g) {
			t.Errorf("record %d: typed %+v, want %+v", i, g, f)
		}
	}
}

// A database from before typed_json (schema 4): read-only it loads by
// stripping record_json on the fly; opened for writing it is migrated, every
// old row gets its typed_json, and loads are the same.
func TestTypedJSONMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "results.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	putMultiRun(t, s)
	want, err := s.RunTyped(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	_ = s.DB().QueryRow("SELECT COUNT(*) FROM llama_bench WHERE typed_json IS NOT NULL AND typed_json NOT LIKE '%\"fields\"%'").Scan(&stored)
	if stored == 0 || stored != len(want.Cases[0].Llama) {
		t.Fatalf("%d rows with a typed_json, want %d", stored, len(want.Cases[0].Llama))
	}
	// Back to schema 4.
	if _, err := s.DB().Exec("ALTER TABLE llama_bench DROP COLUMN typed_json; PRAGMA user_version = 4"); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()

	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ro.RunTyped(ctx, "r")
	_ = ro.Close()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("read-only on schema 4: %v\n got %+v\nwant %+v", err, got.Cases, want.Cases)
	}
	rw, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rw.Close() }()
	var missing int
	_ = rw.DB().QueryRow("SELECT COUNT(*) FROM llama_bench WHERE typed_json IS NULL").Scan(&missing)
	if missing != 0 {
		t.Errorf("%d rows without typed_json after the migration", missing)
	}
	if got, err := rw.RunTyped(ctx, "r"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after the migration: %v\n got %+v\nwant %+v", err, got.Cases, want.Cases)
	}
}

// putMultiRun stores run "r" with one case of several real llama-bench
// records (bench-multi.jsonl).
func putMultiRun(t *testing.T, s *Store) {
	t.Helper()
	run := testRun("r", time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC))
	run.Cases = []bench.CaseResult{fixtureCase(t, "multi", "bench-multi.jsonl")}
	if err := s.PutRunWithCases(context.Background(), run, false); err != nil {
		t.Fatal(err)
	}
}
