package pacing

/*
#include <stdlib.h>
#include <string.h>
#include <pacing.h>

// Shims that take the user id as a Go string (_GoString_: a Go pointer and
// a length, valid during the call) and fill the C struct on the C stack, so
// no Go memory ever holds a Go pointer that C sees (cgo pointer rules).

static int pg_push(pacing_ctx *c, pacing_event ev, _GoString_ user)
{
	if (!(ev.flags & PACING_EVF_PSEUDONYM)) {
		ev.user = _GoStringPtr(user);
		ev.user_len = _GoStringLen(user);
	}
	return pacing_push(c, &ev);
}

static int pg_pseudonym(const pacing_ctx *c, _GoString_ user, uint64_t *out)
{
	return pacing_pseudonym(c, _GoStringPtr(user), _GoStringLen(user), out);
}

static int pg_forget(pacing_ctx *c, _GoString_ user)
{
	return pacing_forget(c, _GoStringPtr(user), _GoStringLen(user));
}

static int pg_scores(pacing_ctx *c, _GoString_ user, int64_t now, pacing_scores *out)
{
	return pacing_scores_get(c, _GoStringPtr(user), _GoStringLen(user), now, out);
}

static int pg_contributions(pacing_ctx *c, _GoString_ user, int64_t now, int kind,
                            pacing_contribution *out, size_t cap, size_t *n)
{
	return pacing_contributions(c, _GoStringPtr(user), _GoStringLen(user), now,
	                            kind, out, cap, n);
}
*/
import "C"

import (
	"unsafe"
)

// Event is one interaction event of one user. Identify the user by User
// (any bytes, hashed into a pseudonym; never stored) or, instead, by a
// Pseudonym from Context.Pseudonym.
type Event struct {
	Type      EventType
	User      string
	Pseudonym uint64 // used instead of User when non-zero
	TimeMs    int64  // the caller's clock, ms
	Value     float64
	Target    uint64 // the caller's id of the UI element, 0 = none
	Channel   Channel
	Flags     EventFlag
}

func (ev *Event) toC() (C.pacing_event, error) {
	var e C.pacing_event
	e.size = C.sizeof_pacing_event
	e._type = C.uint32_t(ev.Type)
	flags := ev.Flags
	if ev.Pseudonym != 0 {
		if ev.User != "" {
			return e, invalid("event: set User or Pseudonym, not both")
		}
		flags |= eventPseudonym
		e.pseudonym = C.uint64_t(ev.Pseudonym)
	}
	e.flags = C.uint32_t(flags)
	e.time_ms = C.int64_t(ev.TimeMs)
	e.value = C.double(ev.Value)
	e.target = C.uint64_t(ev.Target)
	e.channel = C.uint32_t(ev.Channel)
	return e, nil
}

// Push applies one event. It returns applied=false with a nil error when the
// library deliberately dropped the event (a bot, a debounced duplicate, no
// consent): that is counted in Stats, not an error.
func (c *Context) Push(ev Event) (applied bool, err error) {
	e, err := ev.toC()
	if err != nil {
		return false, err
	}
	p, err := c.enter(false)
	if err != nil {
		return false, err
	}
	defer c.leave(false)
	rc := C.pg_push(p, e, ev.User)
	if rc < 0 {
		return false, lastError(p, rc)
	}
	return rc == C.PACING_OK, nil
}

// PushBatch applies events in order. Every event is checked first: if one
// fails, nothing is applied and the error names its index (returned as
// done). Otherwise done is len(events).
func (c *Context) PushBatch(events []Event) (done int, err error) {
	if len(events) == 0 {
		return 0, nil
	}
	// The events and their user ids go to C memory: an array of structs
	// holding pointers may not live in Go memory.
	total := 0
	for i := range events {
		total += len(events[i].User)
	}
	arr := (*C.pacing_event)(C.calloc(C.size_t(len(events)), C.sizeof_pacing_event))
	ids := (*C.char)(C.malloc(C.size_t(total + 1)))
	defer C.free(unsafe.Pointer(arr))
	defer C.free(unsafe.Pointer(ids))
	cev := unsafe.Slice(arr, len(events))
	idb := unsafe.Slice((*byte)(unsafe.Pointer(ids)), total+1)
	off := 0
	for i := range events {
		e, err := events[i].toC()
		if err != nil {
			return i, err
		}
		if e.flags&C.PACING_EVF_PSEUDONYM == 0 && len(events[i].User) > 0 {
			n := copy(idb[off:], events[i].User)
			e.user = unsafe.Pointer(&idb[off])
			e.user_len = C.size_t(n)
			off += n
		}
		cev[i] = e
	}
	p, err := c.enter(false)
	if err != nil {
		return 0, err
	}
	defer c.leave(false)
	var n C.size_t
	if rc := C.pacing_push_batch(p, arr, C.size_t(len(events)), &n); rc < 0 {
		return int(n), lastError(p, rc)
	}
	return int(n), nil
}

// Pseudonym returns the 64-bit pseudonym of a user id under this context's
// secret (never 0). Use it in Event.Pseudonym and Request.Pseudonym to hash
// an id once.
func (c *Context) Pseudonym(user string) (uint64, error) {
	p, err := c.enter(false)
	if err != nil {
		return 0, err
	}
	defer c.leave(false)
	var out C.uint64_t
	if rc := C.pg_pseudonym(p, user, &out); rc < 0 {
		return 0, lastError(p, rc)
	}
	return uint64(out), nil
}

// Forget removes a user's state everywhere (ErrNotFound if it held none).
func (c *Context) Forget(user string) error {
	p, err := c.enter(false)
	if err != nil {
		return err
	}
	defer c.leave(false)
	if rc := C.pg_forget(p, user); rc < 0 {
		return lastError(p, rc)
	}
	return nil
}

// ForgetPseudonym is Forget by pseudonym.
func (c *Context) ForgetPseudonym(pseudonym uint64) error {
	p, err := c.enter(false)
	if err != nil {
		return err
	}
	defer c.leave(false)
	if rc := C.pacing_forget_pseudonym(p, C.uint64_t(pseudonym)); rc < 0 {
		return lastError(p, rc)
	}
	return nil
}

// Expire drops every user idle for longer than the TTL at nowMs and returns
// how many.
func (c *Context) Expire(nowMs int64) (uint64, error) {
	p, err := c.enter(false)
	if err != nil {
		return 0, err
	}
	defer c.leave(false)
	var n C.uint64_t
	if rc := C.pacing_expire(p, C.int64_t(nowMs), &n); rc < 0 {
		return 0, lastError(p, rc)
	}
	return uint64(n), nil
}

// Scores of one user at one time (docs/scores.md).
type Scores struct {
	Fatigue       float64 // [0, 1]
	CognitiveLoad float64 // [0, 1]
	Attention     float64 // attention retention, [0, 1]
	Engagement    float64 // [0, 1]
	MicroVelocity float64 // micro-conversions per minute
	DropOffRisk   float64 // P(session ends within the hazard horizon)
	LastSeenMs    int64   // time of the user's latest event
	SessionAgeMs  int64   // time since the session began, -1 if none
	Exposures1m   uint32  // exposures in the last minute
	Exposures1h   uint32
	Exposures1d   uint32
}

func scoresFromC(s *C.pacing_scores) Scores {
	return Scores{
		Fatigue: float64(s.fatigue), CognitiveLoad: float64(s.cognitive_load),
		Attention: float64(s.attention), Engagement: float64(s.engagement),
		MicroVelocity: float64(s.micro_velocity), DropOffRisk: float64(s.drop_off_risk),
		LastSeenMs: int64(s.last_seen_ms), SessionAgeMs: int64(s.session_age_ms),
		Exposures1m: uint32(s.exposures_1m), Exposures1h: uint32(s.exposures_1h),
		Exposures1d: uint32(s.exposures_1d),
	}
}

// Scores reads a user's scores at nowMs without changing any state.
// ErrNotFound if the context holds no state for the user.
func (c *Context) Scores(user string, nowMs int64) (Scores, error) {
	p, err := c.enter(false)
	if err != nil {
		return Scores{}, err
	}
	defer c.leave(false)
	var s C.pacing_scores
	s.size = C.sizeof_pacing_scores
	if rc := C.pg_scores(p, user, C.int64_t(nowMs), &s); rc < 0 {
		return Scores{}, lastError(p, rc)
	}
	return scoresFromC(&s), nil
}

// ScoresByPseudonym is Scores by pseudonym.
func (c *Context) ScoresByPseudonym(pseudonym uint64, nowMs int64) (Scores, error) {
	p, err := c.enter(false)
	if err != nil {
		return Scores{}, err
	}
	defer c.leave(false)
	var s C.pacing_scores
	s.size = C.sizeof_pacing_scores
	if rc := C.pacing_scores_get_pseudonym(p, C.uint64_t(pseudonym), C.int64_t(nowMs), &s); rc < 0 {
		return Scores{}, lastError(p, rc)
	}
	return scoresFromC(&s), nil
}

// Contribution is one input's part in a score: the score is the sum of the
// contributions of its inputs.
type Contribution struct {
	Input        Input
	Raw          float64 // the input in its own unit
	Normalized   float64 // mapped to [0, 1]
	Weight       float64 // the score's weight for this input
	Contribution float64 // weight * normalized / (sum of weights)
}

// Contributions splits one of a user's scores into its inputs, largest
// contribution first.
func (c *Context) Contributions(user string, nowMs int64, kind ScoreKind) ([]Contribution, error) {
	return c.contributions(user, 0, false, nowMs, kind)
}

// ContributionsByPseudonym is Contributions by pseudonym.
func (c *Context) ContributionsByPseudonym(pseudonym uint64, nowMs int64, kind ScoreKind) ([]Contribution, error) {
	return c.contributions("", pseudonym, true, nowMs, kind)
}

func (c *Context) contributions(user string, pseudonym uint64, byPseudonym bool, nowMs int64, kind ScoreKind) ([]Contribution, error) {
	p, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer c.leave(false)
	var arr [inputCount]C.pacing_contribution
	for i := range arr {
		arr[i].size = C.sizeof_pacing_contribution
	}
	var n C.size_t
	var rc C.int
	if byPseudonym {
		rc = C.pacing_contributions_pseudonym(p, C.uint64_t(pseudonym), C.int64_t(nowMs),
			C.int(kind), &arr[0], C.size_t(len(arr)), &n)
	} else {
		rc = C.pg_contributions(p, user, C.int64_t(nowMs), C.int(kind), &arr[0], C.size_t(len(arr)), &n)
	}
	if rc < 0 {
		return nil, lastError(p, rc)
	}
	if int(n) > len(arr) {
		n = C.size_t(len(arr))
	}
	out := make([]Contribution, int(n))
	for i := range out {
		a := &arr[i]
		out[i] = Contribution{Input: Input(a.input), Raw: float64(a.raw),
			Normalized: float64(a.normalized), Weight: float64(a.weight),
			Contribution: float64(a.contribution)}
	}
	return out, nil
}

// SetWeight sets the relative weight of an input within a score.
// A configuration call: it takes the context exclusively.
func (c *Context) SetWeight(kind ScoreKind, input Input, weight float64) error {
	p, err := c.enter(true)
	if err != nil {
		return err
	}
	defer c.leave(true)
	if rc := C.pacing_weight_set(p, C.int(kind), C.int(input), C.double(weight)); rc < 0 {
		return lastError(p, rc)
	}
	return nil
}

// Weight reads the weight of an input within a score.
func (c *Context) Weight(kind ScoreKind, input Input) (float64, error) {
	p, err := c.enter(false)
	if err != nil {
		return 0, err
	}
	defer c.leave(false)
	var w C.double
	if rc := C.pacing_weight_get(p, C.int(kind), C.int(input), &w); rc < 0 {
		return 0, lastError(p, rc)
	}
	return float64(w), nil
}

// Stats are the context's counters (pacing_stats).
type Stats struct {
	Users, Capacity                             uint64
	EventsApplied                               uint64
	EventsDroppedBot, EventsDroppedDebounce     uint64
	EventsDroppedConsent, EventsRejected        uint64
	DerivedRageClicks, DerivedDeadClicks        uint64
	UsersCreated, UsersEvictedLRU, UsersExpired uint64
	UsersForgotten                              uint64
	BytesAllocated                              uint64
}

// Stats reads the context's counters.
func (c *Context) Stats() (Stats, error) {
	p, err := c.enter(false)
	if err != nil {
		return Stats{}, err
	}
	defer c.leave(false)
	var s C.pacing_stats
	s.size = C.sizeof_pacing_stats
	if rc := C.pacing_stats_get(p, &s); rc < 0 {
		return Stats{}, lastError(p, rc)
	}
	return Stats{
		Users: uint64(s.users), Capacity: uint64(s.capacity),
		EventsApplied:    uint64(s.events_applied),
		EventsDroppedBot: uint64(s.events_dropped_bot), EventsDroppedDebounce: uint64(s.events_dropped_debounce),
		EventsDroppedConsent: uint64(s.events_dropped_consent), EventsRejected: uint64(s.events_rejected),
		DerivedRageClicks: uint64(s.derived_rage_clicks), DerivedDeadClicks: uint64(s.derived_dead_clicks),
		UsersCreated: uint64(s.users_created), UsersEvictedLRU: uint64(s.users_evicted_lru),
		UsersExpired: uint64(s.users_expired), UsersForgotten: uint64(s.users_forgotten),
		BytesAllocated: uint64(s.bytes_allocated),
	}, nil
}
