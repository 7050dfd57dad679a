package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/bench/mamf"
	"github.com/haloforge/haloforge/bench/rbt"
)

// RunFilter selects runs; zero fields match everything.
type RunFilter struct {
	Suite  string
	Target string
	Limit  int // 0: no limit
}

// RunSummary is a run header with case counts, for listings.
type RunSummary struct {
	ID       string
	Suite    string
	Target   string
	Started  time.Time
	Finished time.Time
	Cases    int
	Failed   int // cases not ok and not skipped
}

const runCols = "id, suite, target, started, finished, host, images, lock_digest, run_json"

func scanRun(sc interface{ Scan(...any) error }) (bench.Run, error) {
	var r bench.Run
	var started, finished, runJ sql.NullString
	var host, images string
	if err := sc.Scan(&r.ID, &r.Suite, &r.Target, &started, &finished, &host, &images, &r.LockDigest, &runJ); err != nil {
		return r, err
	}
	if runJ.Valid && runJ.String != "" {
		// The whole header as written: keeps fields added to bench.Run later.
		id := r.ID
		r = bench.Run{}
		if err := json.Unmarshal([]byte(runJ.String), &r); err != nil {
			return r, fmt.Errorf("run %s: header: %w", id, err)
		}
		r.Cases = nil
		return r, nil
	}
	var err error
	if r.Started, err = parseTime(started); err != nil {
		return r, fmt.Errorf("run %s: started: %w", r.ID, err)
	}
	if r.Finished, err = parseTime(finished); err != nil {
		return r, fmt.Errorf("run %s: finished: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(host), &r.Host); err != nil {
		return r, fmt.Errorf("run %s: host facts: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(images), &r.Images); err != nil {
		return r, fmt.Errorf("run %s: images: %w", r.ID, err)
	}
	if len(r.Images) == 0 {
		r.Images = nil
	}
	return r, nil
}

// Runs lists run summaries, newest first.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]RunSummary, error) {
	q := `SELECT r.id, r.suite, r.target, r.started, r.finished,
  (SELECT COUNT(*) FROM cases c WHERE c.run_id = r.id),
  (SELECT COUNT(*) FROM cases c WHERE c.run_id = r.id AND c.status NOT IN ('ok', 'skipped'))
FROM runs r WHERE (? = '' OR r.suite = ?) AND (? = '' OR r.target = ?)
ORDER BY r.started DESC, r.id DESC`
	args := []any{f.Suite, f.Suite, f.Target, f.Target}
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.x().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []RunSummary
	for rows.Next() {
		var r RunSummary
		var st, fin sql.NullString
		if err := rows.Scan(&r.ID, &r.Suite, &r.Target, &st, &fin, &r.Cases, &r.Failed); err != nil {
			return nil, err
		}
		r.Started, _ = parseTime(st)
		r.Finished, _ = parseTime(fin)
		out = append(out, r)
	}
	return out, rows.Err()
}

var latestRE = regexp.MustCompile(`^latest(?:~(\d+))?$`)

// Resolve turns a run reference into a run id: an exact id, a unique prefix
// of one, `latest` (the most recently started run) or `latest~N` (N runs
// before it).
func (s *Store) Resolve(ctx context.Context, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", fmt.Errorf("%w: empty reference (give a run id, a prefix of one, latest or latest~N)", ErrNotFound)
	}
	if m := latestRE.FindStringSubmatch(ref); m != nil {
		n := 0
		if m[1] != "" {
			var err error
			if n, err = strconv.Atoi(m[1]); err != nil {
				return "", fmt.Errorf("%w: %s", ErrNotFound, ref)
			}
		}
		var id string
		order := "COALESCE(stored, started)"
		if s.version < 4 { // read-only on an older schema: no stored column
			order = "started"
		}
		err := s.x().QueryRowContext(ctx, "SELECT id FROM runs ORDER BY "+order+" DESC, id DESC LIMIT 1 OFFSET ?", n).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("%w: %s (the store %s holds fewer runs; see haloforge history or run haloforge bench)", ErrNotFound, ref, s.path)
		}
		return id, err
	}
	var id string
	err := s.x().QueryRowContext(ctx, "SELECT id FROM runs WHERE id = ?", ref).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(ref)
	rows, err := s.x().QueryContext(ctx, `SELECT id FROM runs WHERE id LIKE ? ESCAPE '\' ORDER BY started DESC LIMIT 6`, esc+"%")
	if err != nil {
		return "", err
	}
	defer func() { _ = rows.Close() }()
	var ids []string
	for rows.Next() {
		var x string
		if err := rows.Scan(&x); err != nil {
			return "", err
		}
		ids = append(ids, x)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("%w: %q in %s (list runs with haloforge history, or use latest)", ErrNotFound, ref, s.path)
	case 1:
		return ids[0], nil
	default:
		return "", fmt.Errorf("%w: %q matches %s...: give more characters", ErrAmbiguous, ref, strings.Join(ids, ", "))
	}
}

// Has reports whether a run with exactly this id is stored.
func (s *Store) Has(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.x().QueryRowContext(ctx, "SELECT COUNT(*) FROM runs WHERE id = ?", id).Scan(&n)
	return n > 0, err
}

// Latest is the most recently stored run's id.
func (s *Store) Latest(ctx context.Context) (string, error) { return s.Resolve(ctx, "latest") }

// Run loads a full run (header and every case with its results) by exact id.
func (s *Store) Run(ctx context.Context, id string) (bench.Run, error) {
	return s.run(ctx, id, fullRecords)
}

func (s *Store) run(ctx context.Context, id string, lean recordMode) (bench.Run, error) {
	r, err := scanRun(s.x().QueryRowContext(ctx, "SELECT "+runCols+" FROM runs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return r, err
	}
	cases, err := s.loadCasesWith(ctx, "c.run_id = ?", []any{id}, "", nil, lean)
	if err != nil {
		return r, err
	}
	r.Cases = cases[id]
	if r.Cases == nil {
		r.Cases = []bench.CaseResult{}
	}
	return r, nil
}

// RunTyped is Run with each llama-bench record's typed fields only (no
// Fields map or Order): what report needs, at a fraction of the load time.
func (s *Store) RunTyped(ctx context.Context, id string) (bench.Run, error) {
	return s.run(ctx, id, typedRecords)
}

// RunFields is RunTyped plus, in each record's Fields, only the named
// llama-bench fields that the record holds (a field printed as null is left
// out): for compare, which matches tests on a few settings besides the
// typed ones.
func (s *Store) RunFields(ctx context.Context, id string, keys []string) (bench.Run, error) {
	return s.run(ctx, id, fieldRecords(keys))
}

// HistoryFilter selects cases across runs; empty fields match everything.
type HistoryFilter struct {
	// Test keeps only llama-bench results of one test (n_prompt, n_gen,
	// n_depth), selected in SQL; cases left with no result are dropped
	// unless they failed. nil: every test.
	Test    *TestSpec
	Model   string
	Backend string
	Tool    bench.Tool
	Suite   string
}

// TestSpec is one llama-bench test: prompt and generated tokens at a depth.
type TestSpec struct{ NPrompt, NGen, NDepth int }

// CaseHistory returns every run, oldest first, holding only the cases that
// match the filter (runs with no matching case are left out).
func (s *Store) CaseHistory(ctx context.Context, f HistoryFilter) ([]bench.Run, error) {
	where := "(? = '' OR c.model = ?) AND (? = '' OR c.backend = ?) AND (? = '' OR c.tool = ?) AND (? = '' OR r.suite = ?)"
	args := []any{f.Model, f.Model, f.Backend, f.Backend, string(f.Tool), string(f.Tool), f.Suite, f.Suite}
	var lw string
	var la []any
	if t := f.Test; t != nil {
		lw = " AND lb.n_prompt = ? AND lb.n_gen = ? AND lb.n_depth = ?"
		la = []any{t.NPrompt, t.NGen, t.NDepth}
	}
	cases, err := s.loadCasesWith(ctx, where, args, lw, la, typedRecords)
	if err != nil {
		return nil, err
	}
	if f.Test != nil {
		for run, cs := range cases {
			kept := cs[:0]
			for _, c := range cs {
				if len(c.Llama) > 0 || c.Status != bench.StatusOK {
					kept = append(kept, c)
				}
			}
			cases[run] = kept
		}
	}
	rows, err := s.x().QueryContext(ctx, "SELECT "+runCols+" FROM runs ORDER BY started, id")
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []bench.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		if cs := cases[r.ID]; len(cs) > 0 {
			r.Cases = cs
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// loadCasesWith loads cases (with results) matching a WHERE clause over
// cases c joined with runs r, grouped by run id and in case order, with a
// further condition on the llama_bench rows loaded (llamaWhere,
// " AND lb.... = ?", with its llamaArgs).
//
// lean leaves each record's Fields and Order out (only the typed fields):
// decoding those maps is most of a large run's load time, and only
// compare's matching reads them.
func (s *Store) loadCasesWith(ctx context.Context, where string, args []any, llamaWhere string, llamaArgs []any, lean recordMode) (map[string][]bench.CaseResult, error) {
	q := `SELECT c.run_id, c.case_id, c.tool, c.backend, c.model, c.image, c.status, c.exit_code, c.error,
  c.started, c.finished, c.vram_mib, c.gtt_mib, c.ram_mib, c.stdout_log, c.stderr_log, c.args, c.env, c.case_json
FROM cases c JOIN runs r ON r.id = c.run_id WHERE ` + where + ` ORDER BY c.run_id, c.seq`
	rows, err := s.x().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("load cases: %w", err)
	}
	type key struct{ run, cs string }
	out := map[string][]bench.CaseResult{}
	index := map[key]*bench.CaseResult{}
	var order []key
	for rows.Next() {
		var c bench.CaseResult
		var runID, tool, status, argsJ, envJ string
		var st, fin, caseJ sql.NullString
		var vram, gtt, ram sql.NullFloat64
		if err := rows.Scan(&runID, &c.ID, &tool, &c.Backend, &c.Model, &c.Image, &status, &c.ExitCode, &c.Error,
			&st, &fin, &vram, &gtt, &ram, &c.StdoutLog, &c.StderrLog, &argsJ, &envJ, &caseJ); err != nil {
			_ = rows.Close()
			return nil, err
		}
		if caseJ.Valid && caseJ.String != "" {
			// The whole case as written (results attach below): keeps
			// fields added to bench.CaseResult later.
			var full bench.CaseResult
			if err := json.Unmarshal([]byte(caseJ.String), &full); err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("run %s case %s: %w", runID, c.ID, err)
			}
			out[runID] = append(out[runID], full)
			order = append(order, key{runID, full.ID})
			continue
		}
		c.Tool, c.Status = bench.Tool(tool), bench.Status(status)
		c.Started, _ = parseTime(st)
		c.Finished, _ = parseTime(fin)
		c.Memory = bench.MemoryPeaks{VRAMMiB: ptr(vram), GTTMiB: ptr(gtt), RAMMiB: ptr(ram)}
		if err := json.Unmarshal([]byte(argsJ), &c.Args); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("run %s case %s: args: %w", runID, c.ID, err)
		}
		if len(c.Args) == 0 {
			c.Args = nil
		}
		if err := json.Unmarshal([]byte(envJ), &c.Env); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("run %s case %s: env: %w", runID, c.ID, err)
		}
		if len(c.Env) == 0 {
			c.Env = nil
		}
		out[runID] = append(out[runID], c)
		order = append(order, key{runID, c.ID})
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for run, cs := range out {
		for i := range cs {
			index[key{run, cs[i].ID}] = &cs[i]
		}
	}
	if len(order) == 0 {
		return out, nil
	}
	// Results of the selected cases. The same WHERE applies through the join.
	// A typed load has the database drop each record's Fields and Order
	// (most of its JSON) before Go decodes it; the fields a comparison
	// needs come from their own columns.
	recordCol := "lb.record_json"
	switch {
	case lean.typed && s.version >= 5:
		recordCol = "COALESCE(lb.typed_json, " + s.dialect().typedRecord("lb.record_json") + ")"
	case lean.typed: // read-only on an older schema: no typed_json column
		recordCol = s.dialect().typedRecord("lb.record_json")
	}
	var fieldCols []string // keys with a llama_bench column, in query order
	if len(lean.keys) > 0 {
		cols, err := s.dialect().llamaColumns(ctx, s.x())
		if err != nil {
			return nil, err
		}
		for _, k := range lean.keys {
			if _, ok := cols[k]; ok && identRE.MatchString(k) && !reservedColumns[k] {
				fieldCols = append(fieldCols, k)
				recordCol += ", lb." + k
			}
		}
	}
	lq := `SELECT lb.run_id, lb.case_id, ` + recordCol + ` FROM llama_bench lb
JOIN cases c ON c.run_id = lb.run_id AND c.case_id = lb.case_id JOIN runs r ON r.id = c.run_id
WHERE ` + where + llamaWhere + ` ORDER BY lb.run_id, lb.case_id, lb.test_seq`
	type pending struct {
		c      *bench.CaseResult
		j      string
		fields map[string]any
		r      llamabench.Record
	}
	var todo []pending
	rows, err = s.x().QueryContext(ctx, lq, append(append([]any{}, args...), llamaArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("load llama-bench results: %w", err)
	}
	dest := make([]any, 3+len(fieldCols))
	var run, cs, j string
	dest[0], dest[1], dest[2] = &run, &cs, &j
	vals := make([]any, len(fieldCols))
	for i := range vals {
		dest[3+i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			_ = rows.Close()
			return nil, err
		}
		c := index[key{run, cs}]
		if c == nil {
			continue
		}
		p := pending{c: c, j: j}
		for i, k := range fieldCols {
			if v := columnValue(vals[i]); v != nil {
				if p.fields == nil {
					p.fields = make(map[string]any, len(fieldCols))
				}
				p.fields[k] = v
			}
		}
		todo = append(todo, p)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Decoding the records is most of the cost of a large run: spread it
	// over the CPUs, then attach in stored order.
	workers := min(runtime.GOMAXPROCS(0), max(1, len(todo)/256))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(todo); i += workers {
				if err := decodeRecord([]byte(todo[i].j), &todo[i].r, lean); err != nil && errs[w] == nil {
					errs[w] = fmt.Errorf("case %s: llama-bench row: %w", todo[i].c.ID, err)
				}
				if lean.typed {
					todo[i].r.Fields = todo[i].fields
				}
			}
		}(w)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i := range todo {
		todo[i].c.Llama = append(todo[i].c.Llama, todo[i].r)
	}
	find := func(run, cs string) *bench.CaseResult { return index[key{run, cs}] }
	if err := attachResults(ctx, s.x(), "mamf", "mamf result", where, args, find,
		func(c *bench.CaseResult, m *mamf.Result) { c.Mamf = m }); err != nil {
		return nil, err
	}
	if err := attachResults(ctx, s.x(), "bandwidth", "bandwidth result", where, args, find,
		func(c *bench.CaseResult, b *rbt.Result) { c.Bandwidth = b }); err != nil {
		return nil, err
	}
	return out, nil
}

// attachResults decodes the result_json of table's rows (mamf, bandwidth)
// that belong to the cases a loadCases WHERE selects, and hands each to set
// with its case (find; rows of cases not found are skipped). what names the
// result in a decoding error.
func attachResults[T any](ctx context.Context, db execer, table, what, where string, args []any,
	find func(run, cs string) *bench.CaseResult, set func(*bench.CaseResult, *T)) error {
	q := `SELECT t.run_id, t.case_id, t.result_json FROM ` + table + ` t
JOIN cases c ON c.run_id = t.run_id AND c.case_id = t.case_id JOIN runs r ON r.id = c.run_id WHERE ` + where
	return eachRow(ctx, db, q, args, func(run, cs, j string) error {
		c := find(run, cs)
		if c == nil {
			return nil
		}
		v := new(T)
		if err := json.Unmarshal([]byte(j), v); err != nil {
			return fmt.Errorf("run %s case %s: %s: %w", run, cs, what, err)
		}
		set(c, v)
		return nil
	})
}

func eachRow(ctx context.Context, db execer, q string, args []any, f func(run, cs, j string) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var run, cs, j string
		if err := rows.Scan(&run, &cs, &j); err != nil {
			return err
		}
		if err := f(run, cs, j); err != nil {
			return err
		}
	}
	return rows.Err()
}

func ptr(n sql.NullFloat64) *float64 {
	if !n.Valid {
		return nil
	}
	v := n.Float64
	return &v
}

// recordMode says how much of each stored llama-bench record a load
// decodes: everything, or the typed fields only (no Fields, no Order) plus,
// in Fields, the named fields read from their llama_bench columns.
type recordMode struct {
	typed bool
	keys  []string
}

var (
	fullRecords  = recordMode{}
	typedRecords = recordMode{typed: true}
)

func fieldRecords(keys []string) recordMode { return recordMode{typed: true, keys: keys} }

// decodeRecord decodes a record_json value (in a typed load, the record
// without Fields and Order) into r.
func decodeRecord(j []byte, r *llamabench.Record, _ recordMode) error {
	return json.Unmarshal(j, r)
}

// columnValue turns a llama_bench column value into what decoding the
// record's JSON gives (float64 numbers, strings); NULL (the record lacked
// the field, or printed null) is nil.
func columnValue(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float32:
		return float64(x)
	case []byte:
		return string(x)
	}
	return v
}
