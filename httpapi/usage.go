package httpapi

import (
	"sync"
	"time"
)

// usageRecorder remembers when keys and users were last seen, in memory,
// until Server.Run writes them in one batch.
type usageRecorder struct {
	mu    sync.Mutex
	keys  map[int64]time.Time
	users map[int64]time.Time
}

func newUsageRecorder() *usageRecorder {
	return &usageRecorder{keys: map[int64]time.Time{}, users: map[int64]time.Time{}}
}

func (u *usageRecorder) record(keyID, userID int64, at time.Time) {
	u.mu.Lock()
	if keyID != 0 {
		u.keys[keyID] = at
	}
	u.users[userID] = at
	u.mu.Unlock()
}

// take returns what was recorded and starts afresh.
func (u *usageRecorder) take() (keys, users map[int64]time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	keys, users = u.keys, u.users
	u.keys, u.users = map[int64]time.Time{}, map[int64]time.Time{}
	return keys, users
}
