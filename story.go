package steward

import (
	"context"
	"encoding/json"
	"time"
)

// Story is a tenant's automation: a set of actions linked into a flow.
type Story struct {
	ID          int64
	TenantID    int64
	GUID        string
	Name        string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// DefaultStoryName names the story every tenant starts with.
const DefaultStoryName = "Default story"

// Action is one step of a story (Tines calls it an agent). Events emitted
// by an action are delivered to each of its receivers as a job.
type Action struct {
	ID            int64
	TenantID      int64
	StoryID       int64
	GUID          string
	Type          ActionType
	Name          string
	Options       map[string]any
	KeepEventsFor int64 // seconds; 0 keeps events until removed
	Disabled      bool
	SourceIDs     []int64
	ReceiverIDs   []int64
	// TemplateID is the private template the action was created from; 0
	// when it was built from scratch or the template has been deleted.
	TemplateID  int64
	LastEventAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Event is a JSON payload an action emitted.
type Event struct {
	ID       int64
	TenantID int64
	ActionID int64
	StoryID  int64
	Payload  json.RawMessage
	// Depth is how many actions the event's chain has passed through: 0
	// for an event from a webhook or a run by hand, one more than the
	// incoming event's for an action's output.
	Depth     int
	CreatedAt time.Time
}

// StoryUpdate holds the fields an update changes; nil means unchanged.
type StoryUpdate struct {
	Name        *string
	Description *string
}

// StoryService stores stories. Every method is scoped to one tenant.
type StoryService interface {
	// CreateStory inserts s and sets its ID, GUID and timestamps. EINVALID
	// when the name is empty.
	CreateStory(ctx context.Context, s *Story) error
	// FindStoryByID returns ENOTFOUND if the tenant has no such story.
	FindStoryByID(ctx context.Context, tenantID, id int64) (*Story, error)
	// FindStories returns one page of the tenant's stories by id, and the total.
	FindStories(ctx context.Context, tenantID int64, page PageRequest) ([]*Story, int, error)
	// UpdateStory applies upd. ENOTFOUND, EINVALID for an empty name.
	UpdateStory(ctx context.Context, tenantID, id int64, upd StoryUpdate) (*Story, error)
	// DeleteStory removes the story, its actions, their events and jobs. ENOTFOUND.
	DeleteStory(ctx context.Context, tenantID, id int64) error
}

// ActionFilter selects actions of one tenant.
type ActionFilter struct {
	TenantID int64
	StoryID  int64 // 0: every story
	PageRequest
}

// ActionUpdate holds the fields an update changes; nil means unchanged.
// Options must already be validated for the action's type.
type ActionUpdate struct {
	Name          *string
	Options       map[string]any
	KeepEventsFor *int64
	Disabled      *bool
	SourceIDs     *[]int64
	ReceiverIDs   *[]int64
}

// ActionService stores actions and their links. Every method but
// FindActionByGUID is scoped to one tenant.
type ActionService interface {
	// CreateAction inserts a and its links and sets ID, GUID and timestamps.
	// EINVALID when the story, a linked action or the template is not in
	// the tenant (field story_id, source_ids, receiver_ids or template_id).
	CreateAction(ctx context.Context, a *Action) error
	// FindActionByID returns the action with its links. ENOTFOUND.
	FindActionByID(ctx context.Context, tenantID, id int64) (*Action, error)
	// FindActionByGUID finds an action in any tenant by its public GUID
	// (webhook URLs carry it). ENOTFOUND.
	FindActionByGUID(ctx context.Context, guid string) (*Action, error)
	// FindActions returns one page of matching actions by id, and the total.
	FindActions(ctx context.Context, f ActionFilter) ([]*Action, int, error)
	// UpdateAction applies upd and returns the action. ENOTFOUND, EINVALID
	// for links to actions not in the tenant.
	UpdateAction(ctx context.Context, tenantID, id int64, upd ActionUpdate) (*Action, error)
	// DeleteAction removes the action, its events and its jobs. ENOTFOUND.
	DeleteAction(ctx context.Context, tenantID, id int64) error
}

// ActionSnapshots is implemented by action stores that can serve an action
// as it was at most a second ago, without its links. The event path reads
// one action per webhook and per job; answering from memory saves the
// database a query (two, with the links) for each.
type ActionSnapshots interface {
	// ActionSnapshot is FindActionByID without SourceIDs and ReceiverIDs,
	// possibly up to a second old when another server changed it.
	// The result is shared: callers must not modify it.
	ActionSnapshot(ctx context.Context, tenantID, id int64) (*Action, error)
	// ActionSnapshotByGUID is FindActionByGUID the same way.
	ActionSnapshotByGUID(ctx context.Context, guid string) (*Action, error)
}

// EventFilter selects events of one tenant.
type EventFilter struct {
	TenantID int64
	ActionID int64 // 0: every action
	SinceID  int64 // only events with a larger id
	PageRequest
}

// JobEventEmitter is implemented by event stores that can store a running
// job's events without waiting for them to be durable. The job's
// completion is recorded with its events or after them, so a crash that
// loses the events loses the completion too and the job runs again:
// at-least-once delivery holds, and each run's events cost no wait for a
// disk flush.
type JobEventEmitter interface {
	// EmitJobEvents is EmitEventsAt for the events of a job being run,
	// written as the job's last write: when ctx carries the engine's
	// JobCompletion, the store may complete the job in the same statement
	// (and marks the completion so). Nothing the job does after it may
	// fail the job.
	EmitJobEvents(ctx context.Context, a *Action, depth int, payloads []json.RawMessage) ([]*Event, error)
}

// EventService stores events.
type EventService interface {
	// EmitEvents stores payloads as events of action a and, in the same
	// transaction, enqueues one AgentReceiveJob per receiver of a per event.
	EmitEvents(ctx context.Context, a *Action, payloads []json.RawMessage) ([]*Event, error)
	// EmitEventsAt is EmitEvents for events at depth in their chain
	// (EmitEvents starts a chain at depth 0).
	EmitEventsAt(ctx context.Context, a *Action, depth int, payloads []json.RawMessage) ([]*Event, error)
	// FindEventByID returns ENOTFOUND if the tenant has no such event.
	FindEventByID(ctx context.Context, tenantID, id int64) (*Event, error)
	// FindEvents returns one page of matching events, newest first, and the
	// total; with SinceID, oldest first (a client catching up reads forward).
	FindEvents(ctx context.Context, f EventFilter) ([]*Event, int, error)
	// DeleteActionEvents removes an action's events and returns how many.
	DeleteActionEvents(ctx context.Context, tenantID, actionID int64) (int64, error)
}
