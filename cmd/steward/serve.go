package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/steward-dev/steward/action"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/metrics"
	"github.com/steward-dev/steward/queue"
	"github.com/steward-dev/steward/sqlstore"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlagSet("serve", "[flags]", stdout, stderr, &cfg, serveEnv)
	workers, err := envInt("STEWARD_WORKERS", 10)
	if err != nil {
		return err
	}
	fs.StringVar(&cfg.Addr, "addr", envOr("STEWARD_ADDR", "127.0.0.1:3000"), "listen address (env STEWARD_ADDR)")
	fs.IntVar(&cfg.Workers, "workers", workers, "concurrent job workers; 0 serves the API without running jobs (env STEWARD_WORKERS)")
	fs.StringVar(&cfg.BaseURL, "base-url", envOr("STEWARD_BASE_URL", ""), "public URL for links; default: the request's host (env STEWARD_BASE_URL)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", envOr("STEWARD_TLS_CERT", ""), "PEM certificate (chain) file; with --tls-key, serve HTTPS (env STEWARD_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", envOr("STEWARD_TLS_KEY", ""), "PEM private key file for --tls-cert (env STEWARD_TLS_KEY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tlsConfig, err := loadTLS(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return err
	}
	cfg.AdminSecret = envOr("STEWARD_ADMIN_SECRET", "")
	allowWeak, err := envBool("STEWARD_ADMIN_SECRET_ALLOW_WEAK", false)
	if err != nil {
		return err
	}
	if err := checkAdminSecret(cfg.AdminSecret, allowWeak, log); err != nil {
		return err
	}
	cfg.SMTPURL = envOr("STEWARD_SMTP_URL", "")
	cfg.MailFrom = envOr("STEWARD_MAIL_FROM", "steward@localhost")

	db, err := openMigrated(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := httpapi.StoreServices(db)
	svc.Metrics = metrics.NewRegistry()
	if err := svc.Metrics.Register(newDBCollector(db)); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := firstRun(ctx, svc, stderr, log); err != nil {
		return err
	}
	qcfg, err := queue.FromEnv(queue.DefaultConfig())
	if err != nil {
		return err
	}
	qcfg.Workers, qcfg.Log, qcfg.Clock, qcfg.Metrics = cfg.Workers, log, db.Clock, svc.Metrics
	safety, err := readTenantSafety()
	if err != nil {
		return err
	}

	hcfg := httpapi.DefaultConfig()
	hcfg.BaseURL, hcfg.AdminSecret = cfg.BaseURL, cfg.AdminSecret
	if err := applyAuthEnv(&hcfg); err != nil {
		return err
	}
	if err := applyCompatEnv(&hcfg); err != nil {
		return err
	}
	if err := applyAccessEnv(&hcfg); err != nil {
		return err
	}
	dispatcher, err := newDispatcher(cfg, db, db.Clock, log)
	if err != nil {
		return err
	}
	svc.Outbox = dispatcher.Waking(svc.Outbox)
	svc.MailQueued = dispatcher.Wake
	hcfg.MetricsToken = envOr("STEWARD_METRICS_TOKEN", "")
	// Without a mail server, the console shows admins the invitation links.
	hcfg.Console.ShowInvitationLinks = cfg.SMTPURL == ""
	api := httpapi.NewServer(svc, hcfg, log, db.Clock)

	stopDebug, err := startDebug(envOr("STEWARD_DEBUG_ADDR", ""), log)
	if err != nil {
		return err
	}
	defer stopDebug()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	runner, err := newRunner(db, safety, ln.Addr(), log)
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { api.Run(bg) })
	// Sign-in retention and the mail outbox.
	wg.Go(func() { api.RunRetention(bg, time.Hour) })
	wg.Go(func() { dispatcher.Run(bg) })
	// Other servers' address bans, and pruning old failure counts.
	wg.Go(func() { api.RunAuthThrottle(bg, 2*time.Second) })
	// Job workers stop after the HTTP server, so that requests in flight
	// can still enqueue; --workers 0 serves the API only.
	stopEngine := startEngine(ctx, db, runner, qcfg, log)
	defer stopEngine()

	errc := make(chan error, 1)
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	log.Info("steward listening", "addr", ln.Addr().String(), "scheme", scheme, "database", db.Dialect.Name(), "workers", cfg.Workers)
	fmt.Fprintf(stdout, "Steward is listening on %s://%s\n", scheme, ln.Addr())

	select {
	case err := <-errc:
		stopEngine()
		stopBG()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "error", err)
	}
	stopEngine()
	stopBG()
	wg.Wait()
	return nil
}

// startEngine runs the job engine with cfg.Workers workers (none when 0)
// and returns a function that shuts it down gracefully and waits; calling
// it again does nothing.
func startEngine(ctx context.Context, db *sqlstore.DB, runner *action.Runner, cfg queue.Config, log *slog.Logger) func() {
	if cfg.Workers <= 0 {
		return func() {}
	}
	engCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	engine := queue.New(db, runner.Run, cfg)
	go func() {
		defer close(done)
		if err := engine.Run(engCtx); err != nil {
			log.Error("job engine", "error", err)
		}
	}()
	return func() { cancel(); <-done }
}

// firstRun creates a tenant and an admin on an empty database, so a new
// user can start with one command. The log says so; the credentials, being
// secrets, are shown only on a terminal (once), and otherwise obtained
// with the break-glass commands the log names.
func firstRun(ctx context.Context, svc httpapi.Services, terminal io.Writer, log *slog.Logger) error {
	n, err := svc.Tenants.CountTenants(ctx)
	if err != nil || n > 0 {
		return err
	}
	const email = "admin@steward.local"
	res, err := httpapi.Bootstrap(ctx, svc, "Default", email, "", 0)
	if err != nil {
		return fmt.Errorf("first run: %w", err)
	}
	shown := isTerminal(terminal)
	log.Warn("first run: Steward created a tenant and an admin", "tenant_id", res.TenantID, "email", res.Email,
		"credentials_on_terminal", shown,
		"get_credentials", "steward users reset-password --email "+email+" && steward keys create --email "+email+" --name admin")
	if shown {
		fmt.Fprintln(terminal, "\n  First run: Steward created an admin for you.")
		printCredentials(terminal, res)
	}
	return nil
}

// loadTLS reads the certificate and key for HTTPS. Neither means plain
// HTTP; only one of them is a mistake worth stopping for.
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "":
		return nil, fmt.Errorf("--tls-key needs --tls-cert too (env STEWARD_TLS_CERT)")
	case keyFile == "":
		return nil, fmt.Errorf("--tls-cert needs --tls-key too (env STEWARD_TLS_KEY)")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
