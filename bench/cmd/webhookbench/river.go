package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver River's SQLite driver runs on
)

// hookArgs is River's job for one event: the event's fields, as a
// webhook's payload would be kept.
type hookArgs struct {
	Phase string `json:"phase"`
	T     string `json:"t"`
	Note  string `json:"note"`
}

// Kind implements river.JobArgs.
func (hookArgs) Kind() string { return "webhook_event" }

// riverTarget is River behind the smallest webhook a Go program could
// have: a net/http handler that inserts one job per POST (River's Insert,
// one transaction each), and a worker that calls the sink, as Steward's
// HTTP Request action does.
type riverTarget struct {
	name    string
	srv     *http.Server
	url     string
	stop    func() error
	closeDB func()
}

func startRiverPostgres(ctx context.Context, name, dbURL string, workers int, sinkURL string) (*riverTarget, error) {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return startRiver(ctx, name, riverpgxv5.New(pool), workers, sinkURL, pool.Close)
}

func startRiverSQLite(ctx context.Context, name, path string, workers int, sinkURL string) (*riverTarget, error) {
	// WAL and one connection, as River's SQLite driver documentation advises.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	db.SetMaxOpenConns(1)
	return startRiver(ctx, name, riversqlite.New(db), workers, sinkURL, func() { db.Close() })
}

func startRiver[TTx any](ctx context.Context, name string, d riverdriver.Driver[TTx], workers int, sinkURL string, closeDB func()) (*riverTarget, error) {
	migrator, err := rivermigrate.New(d, nil)
	if err != nil {
		closeDB()
		return nil, err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		closeDB()
		return nil, fmt.Errorf("%s: migrate: %w", name, err)
	}
	// The same client Steward's HTTP Request action uses when it is given
	// none: Go's default transport (two idle connections kept per host).
	client := &http.Client{Timeout: 120 * time.Second}
	ws := river.NewWorkers()
	river.AddWorker(ws, river.WorkFunc(func(ctx context.Context, j *river.Job[hookArgs]) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, sinkURL+"/sink/"+j.Args.Phase+"/"+j.Args.T, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return fmt.Errorf("sink answered %d", resp.StatusCode)
		}
		return nil
	}))
	rc, err := river.NewClient(d, &river.Config{
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Workers: ws,
		// River's own benchmark settings, as queuebench uses: its defaults
		// (100 ms cooldown, 1 s poll) would make it look slower than it is.
		FetchCooldown:     2 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
	})
	if err != nil {
		closeDB()
		return nil, err
	}
	if err := rc.Start(ctx); err != nil {
		closeDB()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook", func(w http.ResponseWriter, r *http.Request) {
		var args hookArgs
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&args); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, err := rc.Insert(r.Context(), args, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"job_id":%d}`, res.Job.ID)
	})
	t := &riverTarget{name: name, url: "http://" + ln.Addr().String() + "/webhook", closeDB: closeDB,
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go t.srv.Serve(ln)
	t.stop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return rc.Stop(ctx)
	}
	return t, nil
}

func (t *riverTarget) Name() string            { return t.name }
func (t *riverTarget) WebhookURL() string      { return t.url }
func (t *riverTarget) RSS() (float64, float64) { return 0, 0 }

func (t *riverTarget) Close() error {
	t.srv.Close()
	err := t.stop()
	t.closeDB()
	return err
}
