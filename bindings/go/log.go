package pacing

/*
#include <stdlib.h>
#include <string.h>
#include <pacing.h>

// The decision log is read through a C callback that copies entries into a
// buffer in C memory and stops the read when the buffer is full; Go then
// drains the buffer and reads again. (The entry on which the callback says
// "stop" has been passed and is removed from the log, so it is kept here.)
typedef struct {
	pacing_log_entry *buf;
	size_t cap, n;
} pg_logbuf;

static int pg_log_cb(void *opaque, const pacing_log_entry *e)
{
	pg_logbuf *b = opaque;
	b->buf[b->n++] = *e;
	return b->n >= b->cap;
}

static int pg_log_read(pacing_ctx *c, pg_logbuf *b, uint64_t *dropped)
{
	b->n = 0;
	return pacing_log_read(c, pg_log_cb, b, dropped);
}

// Snapshots to and from memory: a growing buffer in C memory.
typedef struct {
	unsigned char *data;
	size_t len, cap, pos;
} pg_bytes;

static int pg_bytes_write(void *opaque, const void *buf, size_t len)
{
	pg_bytes *b = opaque;
	if (len > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 65536;
		while (len > cap - b->len) {
			if (cap > ((size_t)-1) / 2)
				return 1;
			cap *= 2;
		}
		unsigned char *d = realloc(b->data, cap);
		if (!d)
			return 1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	return 0;
}

static long pg_bytes_read(void *opaque, void *buf, size_t len)
{
	pg_bytes *b = opaque;
	size_t n = b->len - b->pos;
	if (n > len)
		n = len;
	if (n > 0x40000000)
		n = 0x40000000;
	if (n)
		memcpy(buf, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

static int pg_snapshot_write(pacing_ctx *c, pg_bytes *b)
{
	return pacing_snapshot_write(c, pg_bytes_write, b);
}

static int pg_snapshot_read(pacing_ctx *c, pg_bytes *b)
{
	return pacing_snapshot_read(c, pg_bytes_read, b);
}
*/
import "C"

import (
	"unsafe"
)

// LogEntry is one settled decision and its outcome, as audits and
// off-policy evaluation read it. Users appear by pseudonym only.
type LogEntry struct {
	ID             uint64 // the decision id (0 for safe decisions)
	TimeMs         int64
	Pseudonym      uint64 // 0: decided without user state
	Point          uint32
	ProposedAction uint32 // the policy's pick; ^uint32(0) if safety left none
	FinalAction    uint32
	Reasons        Reason
	Propensity     float64
	Outcome        Outcome
	SettledEarly   bool    // pushed out of a full pending buffer
	Reward         float64 // the reward learned; 0 if none
	RewardTimeMs   int64   // when it was learned, -1 if never
	PolicyVersion  uint64  // rewards the point had learned before this decision
}

const logChunk = 256

// Log drains the decision log: it returns the entries appended since the
// last read, oldest first, and removes them. Entries are appended when a
// decision is settled (rewarded, expired, settled early) or, for a safe
// decision, when it is made. dropped counts the entries lost because the
// log was full since the previous read.
func (c *Context) Log() (entries []LogEntry, dropped uint64, err error) {
	b := (*C.pg_logbuf)(C.calloc(1, C.sizeof_pg_logbuf))
	defer C.free(unsafe.Pointer(b))
	b.buf = (*C.pacing_log_entry)(C.calloc(logChunk, C.sizeof_pacing_log_entry))
	defer C.free(unsafe.Pointer(b.buf))
	b.cap = logChunk

	p, err := c.enter(false)
	if err != nil {
		return nil, 0, err
	}
	defer c.leave(false)
	d := (*C.uint64_t)(C.calloc(1, 8))
	defer C.free(unsafe.Pointer(d))
	for {
		if rc := C.pg_log_read(p, b, d); rc < 0 {
			return entries, dropped, lastError(p, rc)
		}
		dropped += uint64(*d)
		for _, e := range unsafe.Slice(b.buf, int(b.n)) {
			entries = append(entries, LogEntry{
				ID: uint64(e.id), TimeMs: int64(e.time_ms), Pseudonym: uint64(e.pseudonym),
				Point: uint32(e.point), ProposedAction: uint32(e.proposed_action),
				FinalAction: uint32(e.final_action), Reasons: Reason(e.reasons),
				Propensity: float64(e.propensity), Outcome: Outcome(e.outcome),
				SettledEarly: e.settled_early != 0, Reward: float64(e.reward),
				RewardTimeMs: int64(e.reward_time_ms), PolicyVersion: uint64(e.policy_version),
			})
		}
		if b.n < b.cap {
			return entries, dropped, nil
		}
	}
}

// SnapshotSave writes the whole learned state to path, atomically (a
// temporary file renamed over path; on failure path is untouched).
func (c *Context) SnapshotSave(path string) error {
	if hasNUL(path) {
		return invalid("SnapshotSave: path contains a NUL byte")
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	p, err := c.enter(false)
	if err != nil {
		return err
	}
	defer c.leave(false)
	if rc := C.pacing_snapshot_save(p, cpath); rc < 0 {
		return lastError(p, rc)
	}
	return nil
}

// SnapshotLoad replaces the context's learned state with the snapshot at
// path. Damaged data gives ErrCorrupt, another format version ErrVersion,
// a snapshot of a different configuration or secret ErrConfig; in every
// such case the context is unchanged. It takes the context exclusively.
func (c *Context) SnapshotLoad(path string) error {
	if hasNUL(path) {
		return invalid("SnapshotLoad: path contains a NUL byte")
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	p, err := c.enter(true)
	if err != nil {
		return err
	}
	defer c.leave(true)
	if rc := C.pacing_snapshot_load(p, cpath); rc < 0 {
		return lastError(p, rc)
	}
	return nil
}

// SnapshotBytes returns a snapshot of the learned state in memory (the same
// format as SnapshotSave writes).
func (c *Context) SnapshotBytes() ([]byte, error) {
	b := (*C.pg_bytes)(C.calloc(1, C.sizeof_pg_bytes))
	defer C.free(unsafe.Pointer(b))
	defer func() { C.free(unsafe.Pointer(b.data)) }()
	p, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer c.leave(false)
	if rc := C.pg_snapshot_write(p, b); rc < 0 {
		return nil, lastError(p, rc)
	}
	return C.GoBytes(unsafe.Pointer(b.data), C.int(b.len)), nil
}

// SnapshotLoadBytes is SnapshotLoad from memory.
func (c *Context) SnapshotLoadBytes(data []byte) error {
	b := (*C.pg_bytes)(C.calloc(1, C.sizeof_pg_bytes))
	defer C.free(unsafe.Pointer(b))
	if len(data) > 0 {
		b.data = (*C.uchar)(C.CBytes(data))
		defer C.free(unsafe.Pointer(b.data))
	}
	b.len = C.size_t(len(data))
	p, err := c.enter(true)
	if err != nil {
		return err
	}
	defer c.leave(true)
	if rc := C.pg_snapshot_read(p, b); rc < 0 {
		return lastError(p, rc)
	}
	return nil
}
