package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// newLogger builds the one logger every command writes through, from
// STEWARD_LOG_LEVEL (debug, info, warn, error; default info) and
// STEWARD_LOG_FORMAT (json, text; default json).
func newLogger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	switch v := strings.ToLower(envOr("STEWARD_LOG_LEVEL", "info")); v {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("STEWARD_LOG_LEVEL=%q: use debug, info, warn or error", v)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch v := strings.ToLower(envOr("STEWARD_LOG_FORMAT", "json")); v {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("STEWARD_LOG_FORMAT=%q: use json or text", v)
	}
}

// isTerminal reports whether w is a character device (a person is
// watching), so the first-run banner may be shown there too.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
