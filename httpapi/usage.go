package httpapi

import (
	"sync"
	"time"
)

// usageGranularity is how far a key's last-used or a user's last-seen time
// must have moved before it is written again. Writing it on every flush
// made every busy API key a database write each few seconds, and on SQLite
// each write to the WAL makes every read connection drop and refill its
// page cache.
const usageGranularity = time.Minute

// usageRecorder remembers when keys and users were last seen, in memory,
// until Server.Run writes them in one batch. A time is recorded only when
// it is at least usageGranularity after what is stored (as the credential
// showed it) and after what this recorder last handed out for writing.
type usageRecorder struct {
	mu    sync.Mutex
	keys  map[int64]time.Time
	users map[int64]time.Time
	// written remembers, per id, the last time handed out for writing, so
	// a credential cached with an older stored time is not written again.
	keysWritten, usersWritten map[int64]time.Time
}

func newUsageRecorder() *usageRecorder {
	return &usageRecorder{keys: map[int64]time.Time{}, users: map[int64]time.Time{},
		keysWritten: map[int64]time.Time{}, usersWritten: map[int64]time.Time{}}
}

// record notes a use of key keyID (0 for none) by user userID at at;
// keyLast and userLast are the stored times the credential carried.
func (u *usageRecorder) record(keyID, userID int64, at time.Time, keyLast, userLast *time.Time) {
	keyDue, userDue := keyID != 0 && !recent(at, keyLast), !recent(at, userLast)
	if !keyDue && !userDue {
		return // the common case: no lock taken
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if keyDue {
		u.note(u.keys, u.keysWritten, keyID, at)
	}
	if userDue {
		u.note(u.users, u.usersWritten, userID, at)
	}
}

// recent reports whether last is within usageGranularity before at.
func recent(at time.Time, last *time.Time) bool {
	return last != nil && at.Sub(*last) < usageGranularity
}

// note records at for id unless a time within usageGranularity was handed
// out for writing already. u.mu is held.
func (u *usageRecorder) note(pending, written map[int64]time.Time, id int64, at time.Time) {
	if w, ok := written[id]; ok && at.Sub(w) < usageGranularity {
		return
	}
	pending[id] = at
}

// take returns what was recorded and starts afresh.
func (u *usageRecorder) take() (keys, users map[int64]time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	keys, users = u.keys, u.users
	u.keys, u.users = map[int64]time.Time{}, map[int64]time.Time{}
	remember(u.keysWritten, keys)
	remember(u.usersWritten, users)
	return keys, users
}

// remember adds the handed-out times to written, which is emptied when it
// grows past 100,000 ids (an id then may be written once more, no harm).
func remember(written, taken map[int64]time.Time) {
	if len(written)+len(taken) > 100_000 {
		clear(written)
	}
	for id, t := range taken {
		written[id] = t
	}
}
