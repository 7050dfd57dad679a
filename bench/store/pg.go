package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/haloforge/haloforge/bench/llamabench"
)

// Postgres is the results store on a PostgreSQL server, for a fleet of
// runners writing into one database: the same tables, queries and JSON
// copies as the embedded SQLite file (Store), in PostgreSQL's types, with
// writers of one run serialised by an advisory lock and llama_bench columns
// added with ADD COLUMN IF NOT EXISTS outside the write transactions.
type Postgres struct {
	*Store
}

// IsDSN reports whether a --db value names a PostgreSQL database
// (postgres:// or postgresql:// URL) rather than a SQLite file.
func IsDSN(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// RedactDSN hides a DSN's password, for messages and Path.
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable DSN)"
	}
	return u.Redacted()
}

// OpenPostgres connects to the PostgreSQL database named by dsn
// (postgres://user:password@host:port/db?sslmode=...) and brings its schema
// up to date; several runners may do so at the same time.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	name := RedactDSN(dsn)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("results store %s: %w (check the DSN: postgres://USER:PASSWORD@HOST:PORT/DB)", name, err)
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("results store %s: %w (is the server running and reachable, and the user allowed in pg_hba.conf?)", name, err)
	}
	s := &Store{db: db, path: name, d: pgDialect{}, version: len(migrations)}
	if err := pgMigrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("results store %s: %w", name, err)
	}
	return &Postgres{Store: s}, nil
}

// pgSchemaLock is the advisory lock key schema changes hold ("haloforg").
const pgSchemaLock int64 = 0x68616c6f666f7267

var (
	pgInteger = regexp.MustCompile(`\bINTEGER\b`)
	pgReal    = regexp.MustCompile(`\bREAL\b`)
	pgText    = regexp.MustCompile(`\bTEXT\b`)
)

// pgMigration translates one of the SQLite migrations: 64-bit integers
// (llama-bench's avg_ns and model_size overflow PostgreSQL's 32-bit
// INTEGER), double precision (PostgreSQL's REAL is 32-bit) and byte-order
// text (run ids and times sort as in SQLite, whatever the server's locale).
func pgMigration(m string) string {
	m = pgInteger.ReplaceAllString(m, "BIGINT")
	m = pgReal.ReplaceAllString(m, "DOUBLE PRECISION")
	return pgText.ReplaceAllString(m, `TEXT COLLATE "C"`)
}

// pgMigrate applies the migrations the database lacks, in one transaction
// under an advisory lock, so runners starting together migrate it once.
func pgMigrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", pgSchemaLock); err != nil {
		return fmt.Errorf("lock schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS haloforge_schema (version BIGINT NOT NULL)"); err != nil {
		return fmt.Errorf("schema version table: %w (does the user own the database, or have CREATE on its schema?)", err)
	}
	var v int
	err = tx.QueryRowContext(ctx, "SELECT version FROM haloforge_schema").Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, "INSERT INTO haloforge_schema (version) VALUES (0)"); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this haloforge knows (%d): upgrade haloforge", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, pgMigration(migration(pgDialect{}, i))); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE haloforge_schema SET version = $1", len(migrations)); err != nil {
		return err
	}
	return tx.Commit()
}

// pgDialect is PostgreSQL's: $n placeholders, strict 64-bit types, many
// concurrent writers.
type pgDialect struct{}

var _ dialect = pgDialect{}

func (pgDialect) rebind(q string) string { return dollarRebind(q) }

func (pgDialect) llamaColumns(ctx context.Context, db execer) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'llama_bench'`)
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
		switch typ {
		case "bigint", "integer", "smallint":
			cols[name] = "INTEGER"
		case "double precision", "real", "numeric":
			cols[name] = "REAL"
		default:
			cols[name] = "TEXT"
		}
	}
	return cols, rows.Err()
}

func (pgDialect) addColumn(name, typ string) string {
	return fmt.Sprintf("ALTER TABLE llama_bench ADD COLUMN IF NOT EXISTS %s %s", name, pgMigration(typ))
}

// value makes a converted field value fit its typed column. A value the
// column's type cannot hold (a string in an integer column, written by a
// llama-bench whose field changed type) is NULL in the column; the record's
// JSON copy keeps it.
func (pgDialect) value(v any, typ string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case int64:
		switch typ {
		case "TEXT":
			return fmt.Sprint(x)
		case "REAL":
			return float64(x)
		}
		return x
	case float64:
		switch typ {
		case "TEXT":
			return fmt.Sprint(x)
		case "INTEGER":
			if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
				return int64(x)
			}
			return nil
		}
		return x
	case string:
		if typ == "TEXT" {
			return x
		}
		return nil
	default:
		if typ == "TEXT" {
			return fmt.Sprint(x)
		}
		return nil
	}
}

func (d pgDialect) prepareLlama(ctx context.Context, db execer, recs []llamabench.Record) error {
	if len(recs) == 0 {
		return nil
	}
	cols, err := d.llamaColumns(ctx, db)
	if err != nil {
		return err
	}
	missing, err := missingLlamaColumns(cols, recs)
	if err != nil {
		return err
	}
	for _, c := range missing {
		// Autocommitted, idempotent: runners adding the same new field at
		// once wait for each other's table lock and the later one finds it.
		if _, err := db.ExecContext(ctx, d.addColumn(c[0], c[1])); err != nil {
			return fmt.Errorf("add llama_bench column %s: %w", c[0], err)
		}
	}
	return nil
}

func (pgDialect) lockRun(ctx context.Context, tx execer, runID string) error {
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", runID); err != nil {
		return fmt.Errorf("lock run %s: %w", runID, err)
	}
	return nil
}

// typedRecord: jsonb's - operator deletes a key
// (https://www.postgresql.org/docs/current/functions-json.html).
func (pgDialect) typedRecord(col string) string {
	return "((" + col + ")::jsonb - 'fields' - 'order')::text"
}

func (pgDialect) retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// serialization_failure, deadlock_detected, and a unique violation
		// of a concurrent first insert (the retry sees the committed row).
		return pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "23505"
	}
	return false
}
