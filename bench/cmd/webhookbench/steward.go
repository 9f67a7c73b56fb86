package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stewardTarget is the real `steward serve` binary on one database, with a
// Webhook action whose receiver is an HTTP Request action calling the sink.
type stewardTarget struct {
	name    string
	cmd     *exec.Cmd
	addr    string
	key     string
	webhook string
	logFile *os.File
}

// buildSteward compiles ../cmd/steward into dir.
func buildSteward(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "steward")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/steward-dev/steward/cmd/steward")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build steward: %w", err)
	}
	return bin, nil
}

// stewardEnv is the environment of every steward process: loopback must be
// an allowed egress destination, since the sink listens there.
func stewardEnv(dbURL string, workers int) []string {
	return append(os.Environ(),
		"STEWARD_DATABASE_URL="+dbURL,
		"STEWARD_WORKERS="+strconv.Itoa(workers),
		"STEWARD_EGRESS_ALLOW=127.0.0.0/8",
	)
}

func startSteward(ctx context.Context, bin, name, dbURL, dir string, workers int, sinkURL string) (*stewardTarget, error) {
	var out bytes.Buffer
	boot := exec.CommandContext(ctx, bin, "bootstrap", "--email", "bench@steward.local", "--json")
	boot.Env, boot.Stdout, boot.Stderr = stewardEnv(dbURL, workers), &out, os.Stderr
	if err := boot.Run(); err != nil {
		return nil, fmt.Errorf("%s: bootstrap: %w", name, err)
	}
	var res struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("%s: bootstrap output: %w", name, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Env, cmd.Stdout, cmd.Stderr = stewardEnv(dbURL, workers), logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%s: serve: %w", name, err)
	}
	t := &stewardTarget{name: name, cmd: cmd, addr: addr, key: res.APIKey, logFile: logf}
	if err := t.waitReady(ctx); err != nil {
		t.Close()
		return nil, err
	}
	if err := t.setup(ctx, sinkURL); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func (t *stewardTarget) waitReady(ctx context.Context) error {
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); {
		resp, err := http.Get("http://" + t.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: not ready within 30 s (see %s)", t.name, t.logFile.Name())
}

// api calls Steward's API with the bootstrap key.
func (t *stewardTarget) api(ctx context.Context, method, path string, body, into any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+t.addr+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if into != nil {
		return json.Unmarshal(raw, into)
	}
	return nil
}

// setup creates the HTTP Request action (GET {sink}/sink/{{.phase}}/{{.t}})
// and the Webhook action that feeds it.
func (t *stewardTarget) setup(ctx context.Context, sinkURL string) error {
	var req, hook struct {
		ID         int64  `json:"id"`
		WebhookURL string `json:"webhook_url"`
	}
	err := t.api(ctx, http.MethodPost, "/api/v1/agents", map[string]any{
		"type": "Agents::HTTPRequestAgent", "name": "Call the sink",
		"options": map[string]any{"url": sinkURL + "/sink/{{.phase}}/{{.t}}", "method": "get"},
	}, &req)
	if err != nil {
		return fmt.Errorf("%s: create HTTP Request action: %w", t.name, err)
	}
	err = t.api(ctx, http.MethodPost, "/api/v1/agents", map[string]any{
		"type": "Agents::WebhookAgent", "name": "Events in", "receiver_ids": []int64{req.ID},
	}, &hook)
	if err != nil {
		return fmt.Errorf("%s: create Webhook action: %w", t.name, err)
	}
	if !strings.HasPrefix(hook.WebhookURL, "http://") {
		return fmt.Errorf("%s: webhook action has no URL: %q", t.name, hook.WebhookURL)
	}
	t.webhook = hook.WebhookURL
	return nil
}

func (t *stewardTarget) Name() string       { return t.name }
func (t *stewardTarget) WebhookURL() string { return t.webhook }

// RSS returns the server's resident memory now and its peak, in MB.
func (t *stewardTarget) RSS() (now, peak float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			now = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return now, peak
}

func (t *stewardTarget) Close() error {
	t.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- t.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.cmd.Process.Kill()
		<-done
	}
	return t.logFile.Close()
}
