package testfix

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create the schema
)

// PostgresDSN returns a DSN of the PostgreSQL server named by
// $HALOFORGE_TEST_PG_DSN whose search_path is a fresh schema, dropped when
// the test ends, so tests never see each other's tables. Without the
// variable the test is skipped, unless HALOFORGE_REQUIRE_PG=1 (CI) makes
// that a failure. scripts/pg-test-server.sh starts a throwaway server and
// prints a DSN for it.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("HALOFORGE_TEST_PG_DSN")
	if dsn == "" {
		if os.Getenv("HALOFORGE_REQUIRE_PG") == "1" {
			t.Fatal("HALOFORGE_REQUIRE_PG=1 but HALOFORGE_TEST_PG_DSN is unset: start a server with scripts/pg-test-server.sh")
		}
		t.Skip("no PostgreSQL: set HALOFORGE_TEST_PG_DSN (scripts/pg-test-server.sh prints one)")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("HALOFORGE_TEST_PG_DSN: %v", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "hf_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		_ = admin.Close()
		t.Fatalf("create schema %s in %s: %v", schema, u.Redacted(), err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		_ = admin.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
