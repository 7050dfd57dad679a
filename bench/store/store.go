// Package store owns haloforge's results database: an embedded SQLite file
// (pure Go driver, no cgo) holding every run's header (suite, target, host
// and image provenance), every case (status, exit code, times, memory peaks,
// log paths, argv, environment) and the tools' results.
//
// llama-bench rows live in a table named llama_bench whose columns are
// llama-bench's own (as its `-o sql` printer writes them, across schema
// generations, new fields added as columns when first seen) plus run_id and
// case_id, so llama.cpp's scripts/compare-llama-bench.py can read the
// database directly. mamf-finder and rocm_bandwidth_test results have their
// own tables. Writes are per case and idempotent: a resumed run never
// duplicates a case.
//
// The same store runs on PostgreSQL for a fleet of runners (Postgres,
// OpenPostgres; OpenAny picks by the --db value): one set of queries, with
// the differences (placeholders, column types, locking, retries) in a small
// dialect (dialect.go). Callers use the Results interface both satisfy.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/bench/mamf"
)

// Sentinel errors callers branch on.
var (
	ErrNotFound  = errors.New("no such run")
	ErrAmbiguous = errors.New("ambiguous run reference")
	ErrExists    = errors.New("run already stored")
	// ErrIDTaken: a run id is stored for another run (PutRun never merges two).
	ErrIDTaken = errors.New("run id taken by another run")
)

// Store is an open results database.
type Store struct {
	db   *sql.DB
	path string  // the file, or the DSN with its password hidden
	d    dialect // SQL differences: sqlite (nil) or postgres
	// version is the number of migrations the schema has (all of them
	// unless opened read-only on a database an older haloforge wrote).
	version int
}

// Open opens (creating if needed) the database at path, in WAL mode with a
// busy timeout, and brings its schema up to date.
func Open(path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("results store: create %s: %w", dir, err)
		}
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	// SQLite answers SQLITE_BUSY at once, without calling the busy
	// handler, while another connection switches a new file to WAL or
	// recovers its WAL index (https://sqlite.org/wal.html#sometimes_queries_return_sqlite_busy_in_wal_mode):
	// several haloforge processes opening one fresh home meet that, so
	// opening is retried for a while rather than failing.
	deadline := time.Now().Add(openBusyWait)
	for attempt := 0; ; attempt++ {
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("results store %s: %w", path, err)
		}
		s := &Store{db: db, path: path}
		err = s.migrate(context.Background())
		if err == nil {
			return s, nil
		}
		_ = db.Close()
		if isBusy(err) && time.Now().Before(deadline) {
			time.Sleep(time.Duration(10+attempt%10*10) * time.Millisecond)
			continue
		}
		if isBusy(err) {
			return nil, fmt.Errorf("results store %s: %w (another haloforge holds it for more than %s: wait for it, or see `fuser %s`)", path, err, openBusyWait, path)
		}
		return nil, fmt.Errorf("results store %s: %w (is it a haloforge results.db? move it aside to start fresh)", path, err)
	}
}

// openBusyWait bounds how long Open retries a database another process
// holds busy.
const openBusyWait = 30 * time.Second

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED
// (primary codes 5 and 6, https://sqlite.org/rescode.html), extended
// codes included.
func isBusy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == 5 || c == 6
	}
	return false
}

// OpenReadOnly opens an existing database for reading only: it never
// writes, so it works on a read-only file, directory or mount (report,
// history and compare use it). A database in WAL mode whose -shm file
// cannot be created there is opened as immutable: it must not be written
// by another process meanwhile, which a read-only mount already ensures.
// Its schema is used as found; an older schema lacks only what later
// migrations added (see version).
func OpenReadOnly(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("results store %s: %w", path, err)
	}
	var lastErr error
	deadline := time.Now().Add(openBusyWait)
	for _, mode := range []string{"mode=ro", "mode=ro&immutable=1"} {
		dsn := "file:" + path + "?" + mode + "&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("results store %s: %w", path, err)
		}
		s := &Store{db: db, path: path}
		err = s.readVersion(context.Background())
		for attempt := 0; isBusy(err) && time.Now().Before(deadline); attempt++ {
			// Busy is not a reason to fall back to immutable, which
			// would read a file another process is writing.
			time.Sleep(time.Duration(10+attempt%10*10) * time.Millisecond)
			err = s.readVersion(context.Background())
		}
		if err != nil {
			_ = db.Close()
			lastErr = err
			if isBusy(err) {
				break
			}
			continue
		}
		return s, nil
	}
	return nil, fmt.Errorf("results store %s: open read-only: %w", path, lastErr)
}

// readVersion reads the schema version and checks this haloforge knows it.
func (s *Store) readVersion(ctx context.Context) error {
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&s.version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if s.version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this haloforge knows (%d): upgrade haloforge", s.version, len(migrations))
	}
	// The runs table is there in every version: a file that is not a
	// haloforge results database fails here, not at the first query.
	var n int
	if err := s.x().QueryRowContext(ctx, "SELECT COUNT(*) FROM runs WHERE id = ''").Scan(&n); err != nil {
		return fmt.Errorf("not a haloforge results database: %w", err)
	}
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the handle for read-only queries (tests, ad-hoc tools).
func (s *Store) DB() *sql.DB { return s.db }

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this haloforge knows (%d): upgrade haloforge", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if err := s.migrateStep(ctx, i); err != nil {
			return err
		}
	}
	s.version = len(migrations)
	return nil
}

// migrateStep applies migration i unless another process did so since this
// one read the version: the transaction takes the write lock when it begins
// (_txlock=immediate), and the version is read again under it, so several
// processes opening a fresh database at once create its tables once.
func (s *Store) migrateStep(ctx context.Context, i int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %d: %w", i+1, err)
	}
	defer func() { _ = tx.Rollback() }()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > i {
		return nil
	}
	if _, err := tx.ExecContext(ctx, migration(sqliteDialect{}, i)); err != nil {
		return fmt.Errorf("migration %d: %w", i+1, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
		return fmt.Errorf("migration %d: %w", i+1, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %d: %w", i+1, err)
	}
	return nil
}

const timeLayout = time.RFC3339Nano

// storedLayout writes the stored column: fixed width, so text order is time
// order (RFC3339Nano drops trailing zeros and would not sort).
const storedLayout = "2006-01-02T15:04:05.000000000Z"

// storedNow is the stored column's value for a run written now.
func storedNow() string { return time.Now().UTC().Format(storedLayout) }

func fmtTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(ns sql.NullString) (time.Time, error) {
	if !ns.Valid || ns.String == "" {
		return time.Time{}, nil
	}
	return time.Parse(timeLayout, ns.String)
}

func mustJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ execer = (*sql.DB)(nil)
	_ execer = (*sql.Tx)(nil)
)

// PutRun inserts or updates a run's header (everything but its cases). It
// only ever updates the same run: when the id is already stored for a run
// that started at another time or on another host (two runners drew the same
// id), it refuses with ErrIDTaken instead of merging two runs into one row.
// Replacing a run on purpose is PutRunWithCases with replace set.
func (s *Store) PutRun(ctx context.Context, r bench.Run) error {
	if err := checkRun(r); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx bound) error {
		stored, found, err := lockStored(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if found {
			if err := sameRun(stored, r); err != nil {
				return err
			}
		}
		return putRun(ctx, tx, r)
	})
}

// storedRun is what lockStored reads of a stored run's header.
type storedRun struct {
	started  string // as stored ("" when NULL)
	hostname string // "" when the host column is unreadable
}

// lockStored takes the run's write lock (lockRun) for the rest of tx, then
// reads the run's stored header: found is false when id is not stored.
func lockStored(ctx context.Context, tx bound, id string) (stored storedRun, found bool, err error) {
	if err := tx.d.lockRun(ctx, tx, id); err != nil {
		return stored, false, err
	}
	var started sql.NullString
	var hostJ []byte
	err = tx.QueryRowContext(ctx, "SELECT started, host FROM runs WHERE id = ?", id).Scan(&started, &hostJ)
	if errors.Is(err, sql.ErrNoRows) {
		return stored, false, nil
	}
	if err != nil {
		return stored, false, fmt.Errorf("store run %s: %w", id, err)
	}
	var host bench.HostFacts
	_ = json.Unmarshal(hostJ, &host) // an unreadable host column only loses the host comparison
	return storedRun{started: started.String, hostname: host.Hostname}, true, nil
}

// identity is what tells two runs under one id apart: their start time (as
// stored) and host name.
func identity(r bench.Run) storedRun {
	started, _ := fmtTime(r.Started).(string)
	return storedRun{started: started, hostname: r.Host.Hostname}
}

// SameRun reports whether a and b are the same run (same start time and
// host), e.g. a stored copy and its source, as opposed to two runs that
// happen to share an id.
func SameRun(a, b bench.Run) bool { return identity(a) == identity(b) }

// sameRun reports ErrIDTaken when the run stored under r.ID is a different run.
func sameRun(stored storedRun, r bench.Run) error {
	this := identity(r)
	if stored == this {
		return nil
	}
	return fmt.Errorf("%w: run id %s is already stored for a run started %s on host %q (this run: started %s on %q); "+
		"start the run again for a fresh id, or pass --run-id with an unused id",
		ErrIDTaken, r.ID, stored.started, stored.hostname, this.started, this.hostname)
}

// checkRun is what a run header must have to be stored.
func checkRun(r bench.Run) error {
	if strings.TrimSpace(r.ID) == "" {
		return errors.New("run has no id")
	}
	if r.Started.IsZero() {
		return fmt.Errorf("run %s has no start time", r.ID)
	}
	return nil
}

func putRun(ctx context.Context, db execer, r bench.Run) error {
	if err := checkRun(r); err != nil {
		return err
	}
	host, err := mustJSON(r.Host)
	if err != nil {
		return fmt.Errorf("run %s host facts: %w", r.ID, err)
	}
	images := r.Images
	if images == nil {
		images = map[string]bench.ImageInfo{}
	}
	imgs, err := mustJSON(images)
	if err != nil {
		return fmt.Errorf("run %s images: %w", r.ID, err)
	}
	header := r
	header.Cases = nil
	runJ, err := mustJSON(header)
	if err != nil {
		return fmt.Errorf("run %s: %w", r.ID, err)
	}
	_, err = db.ExecContext(ctx, `
INSERT INTO runs (id, suite, target, started, finished, host, images, lock_digest, run_json, stored)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET suite=excluded.suite, target=excluded.target,
  started=excluded.started, finished=excluded.finished, host=excluded.host,
  images=excluded.images, lock_digest=excluded.lock_digest, run_json=excluded.run_json`,
		r.ID, r.Suite, r.Target, fmtTime(r.Started), fmtTime(r.Finished), host, imgs, r.LockDigest, runJ, storedNow())
	if err != nil {
		return fmt.Errorf("store run %s: %w", r.ID, err)
	}
	return nil
}

// PutCase stores one case of a stored run, replacing any earlier version of
// the same case (same run and case id) in a single transaction, so a resumed
// run never duplicates a case and a failed write leaves the old one intact.
func (s *Store) PutCase(ctx context.Context, runID string, c bench.CaseResult) error {
	if err := s.dialect().prepareLlama(ctx, s.x(), c.Llama); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx bound) error { return putCase(ctx, tx, runID, c) })
}

// PutRunWithCases stores a whole run (header and cases) in one transaction:
// either everything is stored or nothing. With replace false an existing run
// of the same id is an ErrExists error.
func (s *Store) PutRunWithCases(ctx context.Context, r bench.Run, replace bool) error {
	var recs []llamabench.Record
	for _, c := range r.Cases {
		recs = append(recs, c.Llama...)
	}
	if err := s.dialect().prepareLlama(ctx, s.x(), recs); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx bound) error {
		_, found, err := lockStored(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if found && !replace {
			return fmt.Errorf("%w: %s (choose another --run id)", ErrExists, r.ID)
		}
		if found {
			// Replace means replace: the old cases (and their results, ON
			// DELETE CASCADE) go, and the run counts as stored now.
			if _, err := tx.ExecContext(ctx, "DELETE FROM cases WHERE run_id = ?", r.ID); err != nil {
				return fmt.Errorf("replace run %s: %w", r.ID, err)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE runs SET stored = ? WHERE id = ?", storedNow(), r.ID); err != nil {
				return fmt.Errorf("replace run %s: %w", r.ID, err)
			}
		}
		if err := putRun(ctx, tx, r); err != nil {
			return err
		}
		// The header is stored and the run locked above: each case needs
		// only its write.
		for _, c := range r.Cases {
			if err := checkCase(r.ID, c); err != nil {
				return err
			}
			if err := writeCase(ctx, tx, r.ID, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// inTx runs f in a transaction, retrying it a few times when the database
// reports a transient conflict with a concurrent writer (PostgreSQL
// serialization failures and deadlocks; SQLite serialises writers itself).
func (s *Store) inTx(ctx context.Context, f func(bound) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = s.tryTx(ctx, f); err == nil || !s.dialect().retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	return err
}

func (s *Store) tryTx(ctx context.Context, f func(bound) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("results store %s: begin: %w", s.path, err)
	}
	if err := f(bound{x: tx, d: s.dialect()}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("results store %s: commit: %w", s.path, err)
	}
	return nil
}

func nullFloat(p *float64) any {
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		return nil
	}
	return *p
}

// putCase stores one case of a stored run: checks that the case has an id
// and its run is stored, then writes it.
func putCase(ctx context.Context, tx bound, runID string, c bench.CaseResult) error {
	if err := checkCase(runID, c); err != nil {
		return err
	}
	// Writers of one run take turns (PostgreSQL: an advisory lock on the
	// run id), so the case sequence numbers writeCase picks never race.
	_, found, err := lockStored(ctx, tx, runID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("store case %s: %w: %s (store the run header with PutRun first)", c.ID, ErrNotFound, runID)
	}
	return writeCase(ctx, tx, runID, c)
}

func checkCase(runID string, c bench.CaseResult) error {
	if strings.TrimSpace(c.ID) == "" {
		return fmt.Errorf("run %s: case has no id", runID)
	}
	return nil
}

// writeCase writes case c of run runID, replacing an earlier version of it.
// The caller has checked the case (checkCase) and holds the run's lock with
// its header stored (lockStored).
func writeCase(ctx context.Context, tx bound, runID string, c bench.CaseResult) error {
	var seq int64
	err := tx.QueryRowContext(ctx, "SELECT seq FROM cases WHERE run_id = ? AND case_id = ?", runID, c.ID).Scan(&seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM cases WHERE run_id = ?", runID).Scan(&seq); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	// Replace: children go with the case (ON DELETE CASCADE).
	if _, err := tx.ExecContext(ctx, "DELETE FROM cases WHERE run_id = ? AND case_id = ?", runID, c.ID); err != nil {
		return fmt.Errorf("replace case %s: %w", c.ID, err)
	}
	args := c.Args
	if args == nil {
		args = []string{}
	}
	env := c.Env
	if env == nil {
		env = map[string]string{}
	}
	argsJ, _ := mustJSON(args)
	envJ, _ := mustJSON(env)
	head := c
	head.Llama, head.Mamf, head.Bandwidth = nil, nil, nil
	caseJ, err := mustJSON(head)
	if err != nil {
		return fmt.Errorf("store case %s: %w", c.ID, err)
	}
	var wall, limit *float64
	if c.WallSec > 0 {
		wall = &c.WallSec
	}
	if c.TimeoutSec > 0 {
		limit = &c.TimeoutSec
	}
	_, err = tx.ExecContext(ctx, `
INSERT INTO cases (run_id, case_id, seq, tool, backend, model, image, status, exit_code, error,
  started, finished, vram_mib, gtt_mib, ram_mib, stdout_log, stderr_log, args, env,
  case_json, wall_sec, timeout_sec, proc_vram_mib, proc_gtt_mib)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		runID, c.ID, seq, string(c.Tool), c.Backend, c.Model, c.Image, string(c.Status), c.ExitCode, c.Error,
		fmtTime(c.Started), fmtTime(c.Finished), nullFloat(c.Memory.VRAMMiB), nullFloat(c.Memory.GTTMiB),
		nullFloat(c.Memory.RAMMiB), c.StdoutLog, c.StderrLog, argsJ, envJ,
		caseJ, nullFloat(wall), nullFloat(limit), nullFloat(c.Memory.ProcVRAMMiB), nullFloat(c.Memory.ProcGTTMiB))
	if err != nil {
		return fmt.Errorf("store case %s: %w", c.ID, err)
	}
	if len(c.Llama) > 0 {
		cols, err := tx.d.llamaColumns(ctx, tx)
		if err != nil {
			return err
		}
		for i, rec := range c.Llama {
			if err := putLlama(ctx, tx, cols, runID, c.ID, i, rec); err != nil {
				return fmt.Errorf("store case %s llama-bench row %d: %w", c.ID, i+1, err)
			}
		}
	}
	if m := c.Mamf; m != nil {
		j, err := mustJSON(m)
		if err != nil {
			return fmt.Errorf("store case %s mamf: %w", c.ID, err)
		}
		var geo any
		if m.GeomeanTFLOPS != nil {
			geo = *m.GeomeanTFLOPS
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO mamf (run_id, case_id, dtype, device, torch, shapes,
  mean_tflops, mean_shape, median_tflops, median_shape, max_tflops, max_shape, geomean_tflops, elapsed_s, result_json)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			runID, c.ID, m.Dtype, m.Device, m.Torch, m.Shapes, m.Mean.TFLOPS, shape(m.Mean),
			m.Median.TFLOPS, shape(m.Median), m.Max.TFLOPS, shape(m.Max), geo, m.Elapsed.Seconds(), j)
		if err != nil {
			return fmt.Errorf("store case %s mamf: %w", c.ID, err)
		}
	}
	if b := c.Bandwidth; b != nil {
		j, err := mustJSON(b)
		if err != nil {
			return fmt.Errorf("store case %s bandwidth: %w", c.ID, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO bandwidth (run_id, case_id, version, gpu_copy_gbs,
  host_to_gpu_gbs, gpu_to_host_gbs, result_json) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			runID, c.ID, b.Version, nullFloat(b.GPUCopyGBs), nullFloat(b.HostToGPUGBs), nullFloat(b.GPUToHostGBs), j)
		if err != nil {
			return fmt.Errorf("store case %s bandwidth: %w", c.ID, err)
		}
	}
	return nil
}

func shape(s mamf.Shape) string { return fmt.Sprintf("%dx%dx%d", s.M, s.N, s.K) }

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// llamaColumns returns the llama_bench table's columns and their declared types.
func llamaColumns(ctx context.Context, db execer) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT name, type FROM pragma_table_info('llama_bench')")
	if err != nil {
		return nil, fmt.Errorf("read llama_bench columns: %w", err)
	}
	defer func() { _ = rows.Close() }()
	cols := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		cols[name] = strings.ToUpper(typ)
	}
	return cols, rows.Err()
}

// recordFields returns a record's fields in print order: the parser's Fields
// and Order when present, else the typed fields (records built in code).
func recordFields(rec llamabench.Record) (map[string]any, []string, error) {
	if len(rec.Fields) > 0 {
		order := rec.Order
		if len(order) == 0 {
			for k := range rec.Fields {
				order = append(order, k)
			}
			sort.Strings(order)
		}
		return rec.Fields, order, nil
	}
	typed := rec
	typed.Fields, typed.Order = nil, nil
	b, err := json.Marshal(typed)
	if err != nil {
		return nil, nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, err
	}
	order := make([]string, 0, len(m))
	for k := range m {
		order = append(order, k)
	}
	sort.Strings(order)
	return m, order, nil
}

func sqlType(v any) string {
	switch x := v.(type) {
	case bool:
		return "INTEGER"
	case float64:
		if x == math.Trunc(x) {
			return "INTEGER"
		}
		return "REAL"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "INTEGER"
		}
		return "REAL"
	default:
		return "TEXT"
	}
}

// sqlValue converts a field value for a column of the given declared type.
func sqlValue(v any, typ string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case float64:
		if typ == "INTEGER" && x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x)
		}
		if typ == "TEXT" {
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil && typ != "TEXT" {
			return i
		}
		if f, err := x.Float64(); err == nil && typ == "REAL" {
			return f
		}
		return x.String()
	case string:
		switch typ {
		case "INTEGER":
			if i, err := strconv.ParseInt(x, 10, 64); err == nil {
				return i
			}
			switch x {
			case "true":
				return int64(1)
			case "false":
				return int64(0)
			}
		case "REAL":
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return f
			}
		}
		return x
	case []any, map[string]any:
		b, _ := json.Marshal(x)
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

func putLlama(ctx context.Context, tx bound, cols map[string]string, runID, caseID string, seq int, rec llamabench.Record) error {
	fields, order, err := recordFields(rec)
	if err != nil {
		return err
	}
	names := []string{"run_id", "case_id", "test_seq", "record_json", "typed_json"}
	recJ, err := mustJSON(rec)
	if err != nil {
		return err
	}
	typed := rec
	typed.Fields, typed.Order = nil, nil
	typedJ, err := mustJSON(typed)
	if err != nil {
		return err
	}
	vals := []any{runID, caseID, seq, recJ, typedJ}
	for _, k := range order {
		v, ok := fields[k]
		if !ok || reservedColumns[k] || !identRE.MatchString(k) {
			continue
		}
		typ, known := cols[k]
		if !known {
			typ = sqlType(v)
			// A field this llama-bench prints that the table lacks: add it as
			// a column, typed like llama-bench's own sql printer would.
			if _, err := tx.ExecContext(ctx, tx.d.addColumn(k, typ)); err != nil {
				return fmt.Errorf("add column %s: %w", k, err)
			}
			cols[k] = typ
		}
		names = append(names, k)
		vals = append(vals, tx.d.value(sqlValue(v, typ), typ))
	}
	if len(rec.SamplesNS) > 0 {
		j, _ := mustJSON(rec.SamplesNS)
		names, vals = append(names, "samples_ns"), append(vals, j)
	}
	if len(rec.SamplesTS) > 0 {
		j, _ := mustJSON(rec.SamplesTS)
		names, vals = append(names, "samples_ts"), append(vals, j)
	}
	q := "INSERT INTO llama_bench (" + strings.Join(names, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")"
	if _, err := tx.ExecContext(ctx, q, vals...); err != nil {
		return err
	}
	return nil
}
