package main

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haloforge/haloforge/internal/testfix"
)

// tableCounts counts runs, cases and llama_bench rows of a results store.
func tableCounts(t *testing.T, where string) [3]int {
	t.Helper()
	s, err := openResults(context.Background(), where, true)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	h, ok := s.(interface{ DB() *sql.DB })
	if !ok {
		t.Fatalf("%T has no DB handle", s)
	}
	var n [3]int
	for i, tbl := range []string{"runs", "cases", "llama_bench"} {
		if err := h.DB().QueryRow("SELECT COUNT(*) FROM " + tbl).Scan(&n[i]); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestFleetDBMigrateAndRead: a SQLite history of real llama-bench outputs
// is copied into PostgreSQL (twice: the second copy adds nothing), then
// report, compare and history print the same from either store.
func TestFleetDBMigrateAndRead(t *testing.T) {
	dsn := testfix.PostgresDSN(t)
	home := t.TempDir()
	lite := filepath.Join(home, "results.db")
	fa1 := filepath.Join(testfix.Dir(), "bench-fa1.json")
	imports := [][]string{
		{"--run", "base", "--backend", "cpu", fa1, filepath.Join(testfix.Dir(), "bench-d512.json")},
		{"--run", "regressed", "--backend", "cpu", scaledFixture(t, "bench-fa1.json", 0.5)},
		{"--run", "wobble", "--backend", "cpu", scaledFixture(t, "bench-fa1.json", 0.99)},
	}
	for _, args := range imports {
		if _, err := runResultsCLI(t, append([]string{"import", "--home", home}, args...)...); err != nil {
			t.Fatalf("import %v: %v", args, err)
		}
	}
	out, err := runResultsCLI(t, "db", "migrate", "--from", lite, "--to", dsn)
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	t.Logf("first migrate: %s", strings.TrimSpace(out))
	want := tableCounts(t, lite)
	if !strings.HasPrefix(out, "copied 3 run(s) (4 case(s), ") {
		t.Errorf("first migrate printed %q", out)
	}
	if got := tableCounts(t, dsn); got != want {
		t.Errorf("after migrate PostgreSQL holds runs/cases/llama rows %v, SQLite %v", got, want)
	}
	out, err = runResultsCLI(t, "db", "migrate", "--from", lite, "--to", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second migrate: %s", strings.TrimSpace(out))
	if !strings.HasPrefix(out, "copied 0 run(s) (0 case(s), 0 llama-bench row(s)), updated 0, skipped 3") {
		t.Errorf("second migrate printed %q", out)
	}
	if got := tableCounts(t, dsn); got != want {
		t.Errorf("after a second migrate PostgreSQL holds %v, want %v (nothing copied twice)", got, want)
	}

	// Another box's history holds a different run under the id "base": it
	// is reported and not copied, and PostgreSQL's "base" stays as it was.
	other := t.TempDir()
	if _, err := runResultsCLI(t, "import", "--home", other, "--run", "base", "--backend", "cpu", filepath.Join(testfix.Dir(), "bench-d512.json")); err != nil {
		t.Fatal(err)
	}
	out, err = runResultsCLI(t, "db", "migrate", "--from", filepath.Join(other, "results.db"), "--to", dsn)
	t.Logf("clashing migrate: %s (%v)", strings.TrimSpace(out), err)
	if err == nil || !strings.Contains(err.Error(), "1 run(s) not copied") || !strings.Contains(err.Error(), "base") {
		t.Errorf("a clashing run id: err = %v", err)
	}
	if got := tableCounts(t, dsn); got != want {
		t.Errorf("after a clashing migrate PostgreSQL holds %v, want %v (its run was overwritten)", got, want)
	}

	reads := [][]string{
		{"report", "base"},
		{"report", "latest", "--format", "json"},
		{"report", "base", "--format", "csv"},
		{"compare", "base", "regressed"},
		{"compare", "base", "wobble", "--format", "json"},
		{"history"},
		{"history", "--backend", "cpu", "--test", "pp512"},
		{"history", "--test", "tg128", "--format", "json"},
	}
	for _, args := range reads {
		fromLite, errLite := runResultsCLI(t, append(args, "--db", lite)...)
		fromPG, errPG := runResultsCLI(t, append(args, "--db", dsn)...)
		if fromLite == "" || fromLite != fromPG || !sameErr(errLite, errPG) {
			t.Errorf("%v differs between SQLite and PostgreSQL:\nsqlite (%v):\n%s\npostgres (%v):\n%s", args, errLite, fromLite, errPG, fromPG)
		}
	}
	var ee *exitError
	if _, err := runResultsCLI(t, "compare", "base", "regressed", "--db", dsn); !errors.As(err, &ee) || ee.code != exitRegression {
		t.Errorf("compare on PostgreSQL: %v, want exit %d for the planted regression", err, exitRegression)
	}
	// HALOFORGE_DB picks the store when --db is not given.
	t.Setenv(dbEnv, dsn)
	head, err := runResultsCLI(t, "report", "base")
	if err != nil || !strings.Contains(head, "# haloforge report: base") {
		t.Errorf("report via %s: %v\n%s", dbEnv, err, head)
	}
	t.Logf("report from PostgreSQL:\n%s", firstLines(head, 12))
}

func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

func TestDBMigrateBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"to is not a DSN", []string{"db", "migrate", "--from", "x.db", "--to", "other.db"}, "give the PostgreSQL database as postgres://"},
		{"from is a DSN", []string{"db", "migrate", "--from", "postgres://u:pw@h/db", "--to", "postgres://u:pw@h/db"}, "give the SQLite file"},
		{"missing source", []string{"db", "migrate", "--from", filepath.Join(t.TempDir(), "none.db"), "--to", "postgres://u:pw@127.0.0.1:1/db"}, "none.db: no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(dbEnv, "")
			_, err := runResultsCLI(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "pw@") {
				t.Errorf("got %v, want an error containing %q without the password", err, tc.want)
			}
		})
	}
}
