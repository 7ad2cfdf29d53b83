// Command ferretdb serves the MongoDB wire protocol over Postgres for ingest-graph's local stack
// (stack/ferretdb.ts starts it). It is FerretDB v1's embeddable package, github.com/FerretDB/FerretDB/ferretdb,
// at the version go.mod pins: FerretDB's own command, built from the module proxy's copy, panics at start
// for want of the version file its release build generates. The embedded FerretDB never creates its
// telemetry reporter (it locks the state to disabled) and opens no debug or metrics listener.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	postgresURL := flag.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb", "PostgreSQL URL; clients log in with their own credentials")
	telemetry := flag.String("telemetry", "disable", "only 'disable': this build never reports telemetry")
	// At info every connection is logged, at warn every failed command (drivers send endSessions, which v1 lacks).
	logLevel := flag.String("log-level", "error", "debug, info, warn or error")
	flag.Parse()
	if *telemetry != "disable" {
		fmt.Fprintf(os.Stderr, "--telemetry=%s: this build of FerretDB only runs with telemetry disabled\n", *telemetry)
		os.Exit(2)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "--log-level=%s: %s\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
	server, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *postgresURL,
	})
	if err != nil {
		logger.Error("FerretDB cannot start", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// New has bound the address: say so whatever the log level, for the stack to know it is ours that listens.
	fmt.Printf("FerretDB listening on %s, telemetry disabled\n", *listen)
	if err := server.Run(ctx); err != nil {
		logger.Error("FerretDB stopped", "error", err)
		os.Exit(1)
	}
}
