package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/palisade-sec/palisade/internal/pgtest"
	"github.com/palisade-sec/palisade/internal/store"
	"github.com/palisade-sec/palisade/internal/store/postgres"
	"github.com/palisade-sec/palisade/internal/store/storetest"
)

// pg is the server every test here shares; it starts on first use.
var pg *pgtest.Server // owned by TestMain

func TestMain(m *testing.M) {
	pg = pgtest.NewServer()
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// linguistic makes a database whose default collation sorts "a" before "B",
// unlike SQLite: the suite's ordering tests then show whether the schema's
// COLLATE "C" columns keep results bytewise.
const linguistic = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"

func TestConformance(t *testing.T) {
	var (
		mu   sync.Mutex
		dsns = map[string]string{} // by test name, so that a test can reopen its database
	)
	storetest.Run(t, func(t *testing.T) store.Store {
		mu.Lock()
		dsn, ok := dsns[t.Name()]
		mu.Unlock()
		if !ok {
			dsn = pg.DatabaseWith(t, linguistic)
			mu.Lock()
			dsns[t.Name()] = dsn
			mu.Unlock()
		}
		s, err := postgres.Open(t.Context(), dsn, nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestLinguisticCollation(t *testing.T) {
	// Guards the premise of TestConformance's database: without it the
	// ordering tests would pass even if the schema lost COLLATE "C".
	conn, err := pgx.Connect(t.Context(), pg.DatabaseWith(t, linguistic))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var aFirst bool
	if err := conn.QueryRow(t.Context(), "SELECT 'a'::text < 'B'::text").Scan(&aFirst); err != nil {
		t.Fatal(err)
	}
	if !aFirst {
		t.Errorf("the linguistic database sorts bytewise; the conformance suite's ordering tests prove nothing")
	}
}

func TestSchemaTooNew(t *testing.T) {
	dsn := pg.Database(t)
	s, err := postgres.Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	known, err := s.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_the_future')", known+1); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(t.Context(), dsn, nil)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: error = %v, want ErrSchemaTooNew", err)
	}
	t.Logf("error reads: %v", err)
}

// TestReplicasMigrateOnce opens one empty database from many replicas at
// once: the advisory lock must let exactly one apply each migration while
// the others wait, and none may fail.
func TestReplicasMigrateOnce(t *testing.T) {
	dsn := pg.Database(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), dsn, nil)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var rows, maxV int
	if err := conn.QueryRow(t.Context(), "SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&rows, &maxV); err != nil {
		t.Fatal(err)
	}
	if rows != maxV || rows == 0 {
		t.Errorf("schema_migrations has %d rows for %d versions", rows, maxV)
	}
}

func TestOpenErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://palisade:s3cretpw@127.0.0.1:1/palisade?sslmode=disable&connect_timeout=2", nil)
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("error reveals the password: %v", err)
	}
}
