package httpapi

import (
	"testing"
	"time"
)

func TestUsageRecorderWritesOncePerGranularity(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	stale := t0.Add(-2 * usageGranularity)
	fresh := t0.Add(-usageGranularity / 2)
	tests := []struct {
		name              string
		keyLast, userLast *time.Time
		wantKey, wantUser bool
	}{
		{"never used", nil, nil, true, true},
		{"both stale", &stale, &stale, true, true},
		{"key fresh, user stale", &fresh, &stale, false, true},
		{"both fresh", &fresh, &fresh, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUsageRecorder()
			u.record(7, 9, t0, tt.keyLast, tt.userLast)
			keys, users := u.take()
			if _, ok := keys[7]; ok != tt.wantKey {
				t.Errorf("key recorded = %v, want %v", ok, tt.wantKey)
			}
			if _, ok := users[9]; ok != tt.wantUser {
				t.Errorf("user recorded = %v, want %v", ok, tt.wantUser)
			}
		})
	}
	t.Run("a stale cached credential is not written twice within the granularity", func(t *testing.T) {
		u := newUsageRecorder()
		u.record(7, 9, t0, &stale, &stale)
		if keys, users := u.take(); len(keys) != 1 || len(users) != 1 {
			t.Fatalf("first take: %v %v", keys, users)
		}
		u.record(7, 9, t0.Add(time.Second), &stale, &stale) // the cache still shows the old time
		if keys, users := u.take(); len(keys) != 0 || len(users) != 0 {
			t.Errorf("second take within the granularity: %v %v, want nothing", keys, users)
		}
		u.record(7, 9, t0.Add(usageGranularity), &stale, &stale)
		if keys, users := u.take(); !keys[7].Equal(t0.Add(usageGranularity)) || len(users) != 1 {
			t.Errorf("take after the granularity: %v %v, want both", keys, users)
		}
	})
}
