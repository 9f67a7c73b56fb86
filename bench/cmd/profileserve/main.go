// Command profileserve serves Steward's HTTP API exactly as `steward serve`
// wires it (same services, default configuration, JSON request log), plus
// net/http/pprof on a second address, so a load run can be profiled without
// a profiling endpoint in the shipped binary:
//
//	profileserve --db steward.db --addr 127.0.0.1:3901 --pprof 127.0.0.1:6060 2>requests.log &
//	go tool pprof -top http://127.0.0.1:6060/debug/pprof/profile?seconds=10
//
// It does not migrate or bootstrap: point it at a database prepared by
// `steward bootstrap` (run-users.sh with BENCH_KEEP shows how).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"

	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/postgres"
	"github.com/steward-dev/steward/sqlite"
	"github.com/steward-dev/steward/sqlstore"
)

func main() {
	dbURL := flag.String("db", "steward.db", "SQLite file path or postgres:// URL")
	addr := flag.String("addr", "127.0.0.1:3901", "API listen address")
	pprofAddr := flag.String("pprof", "127.0.0.1:6060", "pprof listen address")
	flag.Parse()
	ctx := context.Background()
	var db *sqlstore.DB
	var err error
	if strings.HasPrefix(*dbURL, "postgres://") || strings.HasPrefix(*dbURL, "postgresql://") {
		db, err = postgres.Open(ctx, *dbURL)
	} else {
		db, err = sqlite.Open(*dbURL)
	}
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc := httpapi.Services{Tenants: db, Users: db, APIKeys: db, Sessions: db, Invitations: db, Outbox: db, Ping: db.Ping}
	api := httpapi.NewServer(svc, httpapi.DefaultConfig(), logger, db.Clock)
	go api.Run(ctx)

	dbg := http.NewServeMux()
	dbg.HandleFunc("/debug/pprof/", pprof.Index)
	dbg.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go func() { log.Fatal(http.ListenAndServe(*pprofAddr, dbg)) }()
	fmt.Printf("API on http://%s, pprof on http://%s/debug/pprof/\n", *addr, *pprofAddr)
	log.Fatal(http.ListenAndServe(*addr, api))
}
