package store

import (
	"context"

	"github.com/haloforge/haloforge/bench"
)

// Results is the results store as haloforge's commands use it: the runner
// records runs case by case, import and migrate store whole runs, report,
// compare and history read them. The embedded SQLite file (Store) and a
// PostgreSQL database (Postgres) both implement it; OpenAny picks one.
type Results interface {
	PutRun(ctx context.Context, r bench.Run) error
	PutCase(ctx context.Context, runID string, c bench.CaseResult) error
	PutRunWithCases(ctx context.Context, r bench.Run, replace bool) error
	Resolve(ctx context.Context, ref string) (string, error)
	Has(ctx context.Context, id string) (bool, error)
	Run(ctx context.Context, id string) (bench.Run, error)
	// RunTyped is Run without each llama-bench record's Fields map and
	// Order (its typed fields only): for report, which reads no other.
	RunTyped(ctx context.Context, id string) (bench.Run, error)
	// RunFields is RunTyped plus the named llama-bench fields in each
	// record's Fields (for compare).
	RunFields(ctx context.Context, id string, keys []string) (bench.Run, error)
	Runs(ctx context.Context, f RunFilter) ([]RunSummary, error)
	CaseHistory(ctx context.Context, f HistoryFilter) ([]bench.Run, error)
	// Path names the database for messages: the file, or the DSN without
	// its password.
	Path() string
	Close() error
}

var (
	_ Results = (*Store)(nil)
	_ Results = (*Postgres)(nil)
)

// OpenAny opens the results store a --db value (or $HALOFORGE_DB) names: a
// postgres:// or postgresql:// DSN is a PostgreSQL database, anything else
// the path of a SQLite file.
func OpenAny(ctx context.Context, db string) (Results, error) {
	if IsDSN(db) {
		return OpenPostgres(ctx, db)
	}
	return Open(db)
}
