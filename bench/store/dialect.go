package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/haloforge/haloforge/bench/llamabench"
)

// dialect is what differs between the SQL databases the store runs on. The
// queries themselves are written once, with ? placeholders and ON CONFLICT
// upserts that both SQLite and PostgreSQL accept.
type dialect interface {
	// rebind rewrites ? placeholders into the database's own.
	rebind(q string) string
	// llamaColumns returns llama_bench's columns with their types as
	// INTEGER, REAL or TEXT (the llama-bench sql printer's vocabulary).
	llamaColumns(ctx context.Context, db execer) (map[string]string, error)
	// addColumn is the DDL adding a llama_bench column of an INTEGER, REAL or
	// TEXT field.
	addColumn(name, typ string) string
	// value adapts a converted field value to what a column of type typ
	// accepts (SQLite takes anything; PostgreSQL's types are strict).
	value(v any, typ string) any
	// prepareLlama adds the llama_bench columns records need before the
	// write transaction starts (DDL inside concurrent write transactions
	// deadlocks on PostgreSQL); a no-op where writers are serialised anyway.
	prepareLlama(ctx context.Context, db execer, recs []llamabench.Record) error
	// lockRun serialises writers of one run id for the rest of the
	// transaction.
	lockRun(ctx context.Context, tx execer, runID string) error
	// typedRecord is an expression giving a record_json column's value
	// without its "fields" and "order" members.
	typedRecord(col string) string
	// retryable reports a transient conflict with a concurrent writer after
	// which the whole transaction may simply run again.
	retryable(err error) bool
}

// bound is a handle (database or transaction) that speaks one dialect: it
// rewrites the shared queries' placeholders on the way through.
type bound struct {
	x execer
	d dialect
}

var _ execer = bound{}

func (b bound) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return b.x.ExecContext(ctx, b.d.rebind(q), args...)
}

func (b bound) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return b.x.QueryContext(ctx, b.d.rebind(q), args...)
}

func (b bound) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return b.x.QueryRowContext(ctx, b.d.rebind(q), args...)
}

func (s *Store) dialect() dialect {
	if s.d == nil {
		return sqliteDialect{}
	}
	return s.d
}

// x is the database handle in the store's dialect.
func (s *Store) x() bound { return bound{x: s.db, d: s.dialect()} }

// sqliteDialect is the embedded database's: ? placeholders, dynamic typing,
// one writer at a time (BEGIN IMMEDIATE), so nothing to lock or retry.
type sqliteDialect struct{}

var _ dialect = sqliteDialect{}

func (sqliteDialect) rebind(q string) string { return q }

func (sqliteDialect) llamaColumns(ctx context.Context, db execer) (map[string]string, error) {
	return llamaColumns(ctx, db)
}

func (sqliteDialect) addColumn(name, typ string) string {
	return fmt.Sprintf("ALTER TABLE llama_bench ADD COLUMN %s %s", name, typ)
}

func (sqliteDialect) value(v any, _ string) any { return v }

func (sqliteDialect) prepareLlama(context.Context, execer, []llamabench.Record) error { return nil }

func (sqliteDialect) lockRun(context.Context, execer, string) error { return nil }

func (sqliteDialect) retryable(error) bool { return false }

// typedRecord: SQLite's json_remove (https://sqlite.org/json1.html#jrm).
func (sqliteDialect) typedRecord(col string) string {
	return "json_remove(" + col + ", '$.fields', '$.order')"
}

// dollarRebind turns each ? outside string literals into $1, $2, ...
func dollarRebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, inStr := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// missingLlamaColumns lists the fields of recs that llama_bench lacks, with
// the type their first value implies, in first-seen order.
func missingLlamaColumns(cols map[string]string, recs []llamabench.Record) ([][2]string, error) {
	var out [][2]string
	seen := map[string]bool{}
	for _, rec := range recs {
		fields, order, err := recordFields(rec)
		if err != nil {
			return nil, err
		}
		for _, k := range order {
			v, ok := fields[k]
			if !ok || reservedColumns[k] || !identRE.MatchString(k) || seen[k] {
				continue
			}
			seen[k] = true
			if _, known := cols[k]; !known {
				out = append(out, [2]string{k, sqlType(v)})
			}
		}
	}
	return out, nil
}
