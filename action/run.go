package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/egress"
	"github.com/steward-dev/steward/queue"
)

// MaxResponseBytes bounds how much of an HTTP response an HTTP Request
// action reads into its event.
const MaxResponseBytes = 1 << 20

// DefaultHTTPTimeout bounds an HTTP Request action's request unless its
// options set timeout (seconds, at most MaxHTTPTimeout).
const (
	DefaultHTTPTimeout = 30 * time.Second
	MaxHTTPTimeout     = 120 * time.Second
)

// Default loop and fan-out limits (see Limits).
const (
	DefaultMaxEventDepth = 50
	DefaultMaxExplode    = 10_000
)

// Limits bound how far a chain of events may go and how wide it may fan
// out. Zero fields take the defaults.
type Limits struct {
	// MaxEventDepth is the deepest an event may be (a chain starts at 0
	// with a webhook or a run by hand; each action adds one). A job whose
	// events would be deeper fails permanently without running, which ends
	// any loop.
	MaxEventDepth int
	// MaxExplode is the most events one explode may emit; an array longer
	// than that fails the job permanently.
	MaxExplode int
}

// Runner runs the job of an action: it loads the action and the incoming
// event, does what the action's type does, and emits the resulting events
// (which enqueues jobs for the action's receivers).
type Runner struct {
	Actions steward.ActionService
	Events  steward.EventService
	Outbox  steward.OutboxService // for Email actions; nil refuses them
	// EgressRules holds tenants' action egress control rules; nil: no
	// tenant is restricted beyond the instance's policy.
	EgressRules steward.EgressRuleService
	// Egress is the instance's egress policy every HTTP Request action's
	// connections go through; nil: the default policy, which opens nothing.
	Egress *egress.Policy
	Limits Limits
	Log    *slog.Logger

	defaultEgress sync.Once
}

// Failure is a job error with a Tines-style class (HTTPRequest::ServerError).
// A permanent failure can never succeed by running again: the job goes to
// the dead set at once instead of being retried.
type Failure struct {
	Class string
	Err   error
	Final bool
}

// Error implements error.
func (f *Failure) Error() string { return f.Err.Error() }

// Unwrap returns the cause.
func (f *Failure) Unwrap() error { return f.Err }

// ErrorClass names the failure for the job's error_class.
func (f *Failure) ErrorClass() string { return f.Class }

// Permanent reports whether retrying cannot help (the queue engine's
// queue.Permanent interface).
func (f *Failure) Permanent() bool { return f.Final }

func fail(class, format string, args ...any) error {
	return &Failure{Class: class, Err: fmt.Errorf(format, args...)}
}

// failPermanent is fail for failures that running again cannot fix: the
// same action on the same event fails the same way.
func failPermanent(class, format string, args ...any) error {
	return &Failure{Class: class, Err: fmt.Errorf(format, args...), Final: true}
}

func (r *Runner) maxEventDepth() int {
	if r.Limits.MaxEventDepth > 0 {
		return r.Limits.MaxEventDepth
	}
	return DefaultMaxEventDepth
}

func (r *Runner) maxExplode() int {
	if r.Limits.MaxExplode > 0 {
		return r.Limits.MaxExplode
	}
	return DefaultMaxExplode
}

// policy returns the egress policy, making the default one on first use.
func (r *Runner) policy() *egress.Policy {
	r.defaultEgress.Do(func() {
		if r.Egress == nil {
			r.Egress, _ = egress.New(egress.Config{})
		}
	})
	return r.Egress
}

// Run is a queue.Handler. A job whose action or event has been deleted,
// or whose action is disabled, completes without doing anything.
func (r *Runner) Run(ctx context.Context, job *steward.Job) error {
	find := r.Actions.FindActionByID
	if snap, ok := r.Actions.(steward.ActionSnapshots); ok {
		find = snap.ActionSnapshot // read for every job: served from memory
	}
	a, err := find(ctx, job.TenantID, job.ActionID)
	if steward.ErrorCode(err) == steward.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	queue.ReportActionType(ctx, a.Type) // labels the job's outcome metric
	if a.Disabled {
		return nil
	}
	var in any = map[string]any{}
	depth := 0
	if job.EventID != 0 {
		e := job.Event // read with the job, when the queue could
		if e == nil || e.ID != job.EventID {
			if e, err = r.Events.FindEventByID(ctx, job.TenantID, job.EventID); steward.ErrorCode(err) == steward.ENOTFOUND {
				return nil
			} else if err != nil {
				return err
			}
		}
		if err := json.Unmarshal(e.Payload, &in); err != nil {
			return failPermanent("Event::InvalidPayload", "event %d is not valid JSON: %v", e.ID, err)
		}
		depth = e.Depth + 1
		if max := r.maxEventDepth(); depth > max {
			return failPermanent("Event::ChainTooDeep", "event %d has already passed through %d actions, the most allowed (STEWARD_MAX_EVENT_DEPTH=%d); "+
				"action %q did not run and the chain stops here (do the story's links form a loop?)", e.ID, e.Depth, max, a.Name)
		}
	}
	out, err := r.Execute(ctx, a, in)
	if err != nil {
		return err
	}
	payloads := make([]json.RawMessage, 0, len(out))
	for _, v := range out {
		b, err := json.Marshal(v)
		if err != nil {
			return failPermanent("Event::InvalidPayload", "the action produced a value that is not JSON: %v", err)
		}
		payloads = append(payloads, b)
	}
	// The events are the job's last write: a store that can completes the
	// job with them (steward.JobCompletion), so nothing may fail after.
	if je, ok := r.Events.(steward.JobEventEmitter); ok {
		_, err = je.EmitJobEvents(ctx, a, depth, payloads)
	} else {
		_, err = r.Events.EmitEventsAt(ctx, a, depth, payloads)
	}
	return err
}

// Execute does what action a does with the incoming event and returns the
// events it emits (none when a Trigger's rules do not match).
func (r *Runner) Execute(ctx context.Context, a *steward.Action, event any) ([]any, error) {
	switch a.Type {
	case steward.ActionWebhook, steward.ActionSendToStory:
		// A webhook's events come from its URL; run by hand or fed by a
		// source, it passes the event on. Send to Story forwards the event
		// to its receivers.
		return []any{event}, nil
	case steward.ActionHTTPRequest:
		v, err := r.httpRequest(ctx, a, event)
		if err != nil {
			return nil, err
		}
		return []any{v}, nil
	case steward.ActionEventTransformation:
		return transform(a.Options, event, r.maxExplode())
	case steward.ActionTrigger:
		ok, err := triggerMatches(a.Options, event)
		if err != nil || !ok {
			return nil, err
		}
		return []any{event}, nil
	case steward.ActionEmail:
		v, err := r.email(ctx, a, event)
		if err != nil {
			return nil, err
		}
		return []any{v}, nil
	}
	return nil, failPermanent("Action::UnknownType", "unknown action type %q", a.Type)
}

// renderString renders option key of opts as a string ("" when absent).
func renderString(opts map[string]any, key string, event any) (string, error) {
	s, _ := opts[key].(string)
	if s == "" {
		return "", nil
	}
	t, err := ParseTemplate(s)
	if err != nil {
		return "", failPermanent("Template::Invalid", "options.%s: %v", key, err)
	}
	out, err := t.Render(event)
	if err != nil {
		return "", failPermanent("Template::Invalid", "options.%s: %v", key, err)
	}
	return out, nil
}

func (r *Runner) httpRequest(ctx context.Context, a *steward.Action, event any) (any, error) {
	opts := a.Options
	timeout := DefaultHTTPTimeout
	if t, ok := opts["timeout"].(float64); ok && t > 0 {
		timeout = min(time.Duration(t*float64(time.Second)), MaxHTTPTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := buildRequest(ctx, opts, event)
	if err != nil {
		return nil, err
	}
	rules, err := r.tenantRules(ctx, a.TenantID, steward.EgressHTTPRequest)
	if err != nil {
		return nil, err
	}
	client := r.policy().Client(rules, MaxHTTPTimeout)
	target := req.Method + " " + req.URL.Redacted()
	resp, err := client.Do(req)
	if err != nil {
		var refused *egress.RefusedError
		switch {
		case errors.As(err, &refused):
			return nil, failPermanent("HTTPRequest::EgressRefused", "%s: %v", target, refused)
		case errors.Is(err, egress.ErrTooManyRedirects):
			return nil, fail("HTTPRequest::TooManyRedirects", "%s: %v", target, egress.ErrTooManyRedirects)
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, fail("HTTPRequest::Timeout", "%s timed out after %v", target, timeout)
		}
		return nil, fail("HTTPRequest::ConnectionFailed", "%s: %v", target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return nil, fail("HTTPRequest::ConnectionFailed", "%s: reading the response: %v", target, err)
	}
	if resp.StatusCode >= 500 {
		return nil, fail("HTTPRequest::ServerError", "%s answered %d: %s", target, resp.StatusCode, steward.Truncate(string(raw), 500))
	}
	headers := map[string]any{}
	for k, v := range resp.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	var parsed any = string(raw)
	var j any
	if json.Unmarshal(raw, &j) == nil {
		parsed = j
	}
	return map[string]any{"status": resp.StatusCode, "headers": headers, "body": parsed}, nil
}

// tenantRules loads the tenant's egress control rules for actionType (nil:
// the tenant is not restricted).
func (r *Runner) tenantRules(ctx context.Context, tenantID int64, actionType string) (*egress.Rules, error) {
	if r.EgressRules == nil {
		return nil, nil
	}
	all, err := r.EgressRules.AllEgressRules(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load egress control rules: %w", err)
	}
	return egress.TenantRules(all, actionType), nil
}

// buildRequest renders an HTTP Request action's url, method, content_type,
// payload and headers against the event.
func buildRequest(ctx context.Context, opts map[string]any, event any) (*http.Request, error) {
	target, err := renderString(opts, "url", event)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSpace(target))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, failPermanent("HTTPRequest::InvalidURL", "options.url rendered to %q, which is not an absolute http or https URL", target)
	}
	method, err := renderString(opts, "method", event)
	if err != nil {
		return nil, err
	}
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		method = http.MethodGet
	}
	contentType, err := renderString(opts, "content_type", event)
	if err != nil {
		return nil, err
	}
	var payload any
	if p, ok := opts["payload"]; ok && p != nil {
		if payload, err = RenderValue(p, event); err != nil {
			return nil, failPermanent("Template::Invalid", "options.payload: %v", err)
		}
	}
	body, ctype, err := encodePayload(method, u, contentType, payload)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, failPermanent("HTTPRequest::InvalidRequest", "%v", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("User-Agent", "Steward")
	if h, ok := opts["headers"].(map[string]any); ok {
		for k := range h {
			v, err := renderString(h, k, event)
			if err != nil {
				return nil, err
			}
			req.Header.Set(k, v)
		}
	}
	return req, nil
}

// encodePayload turns the rendered payload into a request body: JSON by
// default or for "json"; a form for "form"; a string as is otherwise. A
// GET or DELETE sends an object payload as query parameters instead.
func encodePayload(method string, u *url.URL, contentType string, payload any) (io.Reader, string, error) {
	if payload == nil {
		return nil, "", nil
	}
	if obj, ok := payload.(map[string]any); ok && (method == http.MethodGet || method == http.MethodDelete || method == http.MethodHead) {
		q := u.Query()
		for k, v := range obj {
			q.Set(k, scalarString(v))
		}
		u.RawQuery = q.Encode()
		return nil, "", nil
	}
	ct := strings.ToLower(strings.TrimSpace(contentType))
	switch {
	case ct == "" || ct == "json" || strings.Contains(ct, "json"):
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, "", failPermanent("HTTPRequest::InvalidRequest", "options.payload cannot be sent as JSON: %v", err)
		}
		if ct == "" || ct == "json" {
			ct = "application/json"
		}
		return strings.NewReader(string(b)), ct, nil
	case ct == "form" || ct == "application/x-www-form-urlencoded":
		obj, ok := payload.(map[string]any)
		if !ok {
			return nil, "", failPermanent("HTTPRequest::InvalidRequest", "options.payload must be an object to send as a form")
		}
		form := url.Values{}
		for k, v := range obj {
			form.Set(k, scalarString(v))
		}
		return strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", nil
	}
	return strings.NewReader(scalarString(payload)), contentType, nil
}

// scalarString renders a value for a form or query: strings as is, the
// rest as JSON.
func scalarString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// transform runs an Event Transformation.
func transform(opts map[string]any, event any, maxExplode int) ([]any, error) {
	mode, _ := opts["mode"].(string)
	switch mode {
	case "message_only":
		rest := map[string]any{}
		for k, v := range opts {
			if k != "mode" {
				rest[k] = v
			}
		}
		out, err := RenderValue(rest, event)
		if err != nil {
			return nil, failPermanent("Template::Invalid", "%v", err)
		}
		return []any{out}, nil
	case "extract":
		out := map[string]any{}
		ms, _ := opts["matchers"].([]any)
		for i, m := range ms {
			mm, _ := m.(map[string]any)
			text, err := renderString(mm, "path", event)
			if err != nil {
				return nil, err
			}
			re, err := regexp.Compile(fmt.Sprint(mm["regexp"]))
			if err != nil {
				return nil, failPermanent("EventTransformation::InvalidRegexp", "options.matchers[%d].regexp: %v", i, err)
			}
			found := re.FindAllString(text, -1)
			if found == nil {
				found = []string{}
			}
			out[fmt.Sprint(mm["to"])] = found
		}
		if msg, ok := opts["message"]; ok {
			v, err := RenderValue(msg, event)
			if err != nil {
				return nil, failPermanent("Template::Invalid", "options.message: %v", err)
			}
			out["message"] = v
		}
		return []any{out}, nil
	case "explode":
		v, err := RenderValue(opts["path"], event)
		if err != nil {
			return nil, failPermanent("Template::Invalid", "options.path: %v", err)
		}
		items, ok := v.([]any)
		if !ok {
			return nil, failPermanent("EventTransformation::NotAnArray", "options.path %v does not point to an array in the event", opts["path"])
		}
		if len(items) > maxExplode {
			return nil, failPermanent("EventTransformation::TooManyItems", "options.path %v points to an array of %d items; an explode emits at most %d events (STEWARD_MAX_EXPLODE)",
				opts["path"], len(items), maxExplode)
		}
		to, _ := opts["to"].(string)
		if to == "" {
			to = "individual_item"
		}
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = map[string]any{to: it}
		}
		return out, nil
	}
	return nil, failPermanent("EventTransformation::UnknownMode", "options.mode %q is not one of %s", mode, strings.Join(TransformationModes, ", "))
}

// triggerMatches reports whether every rule matches the event.
func triggerMatches(opts map[string]any, event any) (bool, error) {
	rules, _ := opts["rules"].([]any)
	for i, r := range rules {
		rm, _ := r.(map[string]any)
		got, err := renderString(rm, "path", event)
		if err != nil {
			return false, err
		}
		typ, _ := rm["type"].(string)
		want := scalarString(rm["value"])
		var ok bool
		switch typ {
		case "field==value":
			ok = got == want
		case "field!=value":
			ok = got != want
		case "regex", "!regex":
			re, err := regexp.Compile(want)
			if err != nil {
				return false, failPermanent("Trigger::InvalidRegexp", "options.rules[%d].value: %v", i, err)
			}
			ok = re.MatchString(got) == (typ == "regex")
		case "field>value", "field<value", "field>=value", "field<=value":
			g, err1 := strconv.ParseFloat(strings.TrimSpace(got), 64)
			w, err2 := strconv.ParseFloat(strings.TrimSpace(want), 64)
			if err1 != nil || err2 != nil {
				ok = false // not numbers: no match, as Tines does
				break
			}
			ok = map[string]bool{"field>value": g > w, "field<value": g < w, "field>=value": g >= w, "field<=value": g <= w}[typ]
		default:
			return false, failPermanent("Trigger::InvalidRule", "options.rules[%d].type %q is not known", i, typ)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// email queues one message per recipient in the mail outbox.
func (r *Runner) email(ctx context.Context, a *steward.Action, event any) (any, error) {
	if r.Outbox == nil {
		return nil, fail("Email::Unavailable", "outgoing mail is not configured")
	}
	rv, err := RenderValue(a.Options["recipients"], event)
	if err != nil {
		return nil, failPermanent("Template::Invalid", "options.recipients: %v", err)
	}
	var to []string
	switch v := rv.(type) {
	case string:
		to = append(to, v)
	case []any:
		for _, x := range v {
			to = append(to, scalarString(x))
		}
	}
	if len(to) == 0 {
		return nil, failPermanent("Email::NoRecipients", "options.recipients is empty")
	}
	subject, err := renderString(a.Options, "subject", event)
	if err != nil {
		return nil, err
	}
	body, err := renderString(a.Options, "body", event)
	if err != nil {
		return nil, err
	}
	rules, err := r.tenantRules(ctx, a.TenantID, steward.EgressSendEmail)
	if err != nil {
		return nil, err
	}
	addrs := make([]string, len(to))
	for i, addr := range to {
		addr, err := steward.NormalizeEmail(addr)
		if err != nil {
			return nil, failPermanent("Email::InvalidRecipient", "%s", steward.ErrorMessage(err))
		}
		domain := addr[strings.LastIndexByte(addr, '@')+1:]
		if !rules.AllowsHost(domain) {
			return nil, failPermanent("Email::EgressRefused", "recipient %s refused: domain %s matches none of the tenant's %d action egress control rules for %s",
				addr, domain, rules.Len(), steward.EgressSendEmail)
		}
		addrs[i] = addr
	}
	for _, addr := range addrs {
		if err := r.Outbox.EnqueueMail(ctx, &steward.MailMessage{TenantID: a.TenantID, To: addr, Subject: subject, Body: body}); err != nil {
			return nil, err
		}
	}
	return map[string]any{"recipients": to, "subject": subject, "status": "queued"}, nil
}
