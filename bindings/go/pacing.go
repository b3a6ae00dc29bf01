// Package pacing is the Go binding of libpacing, an embeddable
// attention-pacing engine: push your users' interaction events, read their
// fatigue and cognitive-load scores, and ask a decision point whether to show
// a prompt now, delay it or skip it. A bandit policy proposes, a safety layer
// (frequency caps, minimum gaps, quiet hours, consent...) disposes, and
// rewards teach the policy.
//
// The binding uses cgo and links the C library: by default the one built in
// this source tree (run `make` at the repository root first); build with
// `-tags pacing_pkgconfig` for an installed one. See docs/bindings.md.
//
// Conventions:
//   - The library never reads a clock. Times (Event.TimeMs, Request.NowMs,
//     the nowMs arguments) are the caller's clock in milliseconds, [0, 2^53].
//     Spans in options and specs are time.Duration.
//   - Every failure is an *Error carrying the library's status and its
//     message; compare with errors.Is(err, pacing.ErrInvalid) and friends.
//   - A Context may be used from many goroutines at once (the library locks
//     per user stripe). Configuration calls (AddPoint, AddRule, SetWeight,
//     SetExposureDecay) and SnapshotLoad take the Context exclusively, so
//     they are safe at any time but wait for calls in flight. A Context
//     created with WithSingleThread is serialized by the binding.
//   - Close frees the C context; it is idempotent and also runs from a
//     finalizer. Calls after Close return ErrClosed.
package pacing

/*
#include <stdlib.h>
#include <pacing.h>
*/
import "C"

import (
	"errors"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Version returns the version of the loaded C library, e.g. "1.0.0".
func Version() string { return C.GoString(C.pacing_version_string()) }

// HeaderVersion is the version of include/pacing.h this package was built
// against.
const HeaderVersion = C.PACING_VERSION_STRING

// ---- errors ----------------------------------------------------------------

// Error is a failed libpacing call: the status and the library's message
// (pacing_errmsg), or the binding's own message when it rejected the input
// before calling C. Configuration errors also carry the place.
type Error struct {
	Status Status
	Msg    string // e.g. "push dwell: value -1 not in [0, 8.64e+07]"
	File   string // configuration errors: the path, or "<string>"
	Line   int    // configuration errors: 1-based; 0 if not tied to a place
	Column int
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = e.Status.String()
	}
	if e.File != "" && e.Line > 0 {
		return "pacing: " + e.File + ":" + itoa(int64(e.Line)) + ":" + itoa(int64(e.Column)) + ": " + msg
	}
	return "pacing: " + msg
}

// Is makes errors.Is(err, ErrNotFound) true for any *Error with that status.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status
}

// Sentinel errors, one per status, for errors.Is.
var (
	ErrInvalid  = &Error{Status: StatusInvalid}
	ErrNull     = &Error{Status: StatusNull}
	ErrSize     = &Error{Status: StatusSize}
	ErrType     = &Error{Status: StatusType}
	ErrNaN      = &Error{Status: StatusNaN}
	ErrRange    = &Error{Status: StatusRange}
	ErrTooOld   = &Error{Status: StatusTooOld}
	ErrNoMem    = &Error{Status: StatusNoMem}
	ErrFull     = &Error{Status: StatusFull}
	ErrNotFound = &Error{Status: StatusNotFound}
	ErrExists   = &Error{Status: StatusExists}
	ErrConfig   = &Error{Status: StatusConfig}
	ErrCorrupt  = &Error{Status: StatusCorrupt}
	ErrIO       = &Error{Status: StatusIO}
	ErrTime     = &Error{Status: StatusTime}
	ErrVetoed   = &Error{Status: StatusVetoed}
	ErrVersion  = &Error{Status: StatusVersion}
)

// ErrClosed is returned by every call on a closed (or nil) Context.
var ErrClosed = errors.New("pacing: context is closed")

// invalid is an error the binding raises itself, before calling C.
func invalid(msg string) error { return &Error{Status: StatusInvalid, Msg: msg} }

// lastError builds the error of a failed call. It must run on the OS thread
// that made the call, because pacing_errmsg is per thread: callers hold
// runtime.LockOSThread (see Context.enter).
func lastError(ctx *C.pacing_ctx, rc C.int) error {
	return &Error{Status: Status(rc), Msg: C.GoString(C.pacing_errmsg(ctx))}
}

// ---- options ---------------------------------------------------------------

type config struct {
	opts   C.pacing_options
	serial bool
}

// Option sets one field of the context's options. Zero means the library's
// default (docs/config-reference.md).
type Option func(*config)

// ms converts a span to milliseconds: negative spans become -1 ("off" or
// "never" where the library allows it), positive ones at least 1 (0 would
// mean "the default").
func ms(d time.Duration) C.int64_t {
	switch {
	case d < 0:
		return -1
	case d > 0 && d < time.Millisecond:
		return 1
	}
	return C.int64_t(d.Milliseconds())
}

func msf(d time.Duration) C.double { return C.double(float64(d) / float64(time.Millisecond)) }

// WithSingleThread removes the library's locking (PACING_OPT_SINGLE_THREAD)
// for a context used by one goroutine at a time, as a game loop does. The
// binding then serializes calls itself, so misuse blocks instead of crashing.
func WithSingleThread() Option {
	return func(c *config) { c.opts.flags |= C.PACING_OPT_SINGLE_THREAD; c.serial = true }
}

// WithSecret sets the key of user pseudonyms (keyed SipHash). Without it a
// random key is drawn, so pseudonyms and snapshots are tied to one context.
func WithSecret(key [16]byte) Option {
	return func(c *config) {
		c.opts.flags |= C.PACING_OPT_SECRET
		for i, b := range key {
			c.opts.secret[i] = C.uint8_t(b)
		}
	}
}

// WithRequireConsent drops events that lack EventWithConsent.
func WithRequireConsent() Option {
	return func(c *config) { c.opts.flags |= C.PACING_OPT_REQUIRE_CONSENT }
}

// WithSeed sets the decision generator's seed (the default seed is 0).
func WithSeed(seed uint64) Option { return func(c *config) { c.opts.seed = C.uint64_t(seed) } }

// WithRandomSeed seeds decisions from the OS instead of a fixed seed.
func WithRandomSeed() Option {
	return func(c *config) { c.opts.flags |= C.PACING_OPT_RANDOM_SEED }
}

// WithStripes sets the number of lock stripes (a power of two <= 1024).
func WithStripes(n uint32) Option { return func(c *config) { c.opts.stripes = C.uint32_t(n) } }

// WithCapacity bounds the users held at once (default 100000).
func WithCapacity(n uint64) Option { return func(c *config) { c.opts.capacity = C.uint64_t(n) } }

// WithUserTTL expires idle users (default 30 days; negative: never).
func WithUserTTL(d time.Duration) Option { return func(c *config) { c.opts.user_ttl_ms = ms(d) } }

// WithReorderWindow sets how late an event may arrive (default 1 minute).
func WithReorderWindow(d time.Duration) Option {
	return func(c *config) { c.opts.reorder_window_ms = ms(d) }
}

// WithDebounce sets the identical-event debounce (default 50 ms; negative: off).
func WithDebounce(d time.Duration) Option { return func(c *config) { c.opts.debounce_ms = ms(d) } }

// WithRageClicks derives a rage click from `clicks` clicks on one target
// within `window` (defaults 3 and 1 s).
func WithRageClicks(window time.Duration, clicks uint32) Option {
	return func(c *config) {
		c.opts.rage_window_ms = ms(window)
		c.opts.rage_clicks = C.uint32_t(clicks)
	}
}

// WithDeadClick sets after how long an unanswered click is dead (default 1 s).
func WithDeadClick(d time.Duration) Option { return func(c *config) { c.opts.dead_click_ms = ms(d) } }

// WithFeatureHalfLife sets the half-life of short-term features (default 2 min).
func WithFeatureHalfLife(d time.Duration) Option {
	return func(c *config) { c.opts.feature_half_life_ms = msf(d) }
}

// WithBaselineHalfLife sets the half-life of the per-user baseline (default 7 days).
func WithBaselineHalfLife(d time.Duration) Option {
	return func(c *config) { c.opts.baseline_half_life_ms = msf(d) }
}

// WithMaxPoints bounds the number of decision points (default 64).
func WithMaxPoints(n uint32) Option { return func(c *config) { c.opts.max_points = C.uint32_t(n) } }

// WithPendingCapacity bounds the decisions awaiting reward (default 16384).
func WithPendingCapacity(n uint32) Option {
	return func(c *config) { c.opts.pending_capacity = C.uint32_t(n) }
}

// WithHazard sets the drop-off risk horizon and the hazard model's time step
// (defaults 1 minute and 10 s).
func WithHazard(horizon, bin time.Duration) Option {
	return func(c *config) {
		c.opts.hazard_horizon_ms = ms(horizon)
		c.opts.hazard_bin_ms = ms(bin)
	}
}

// WithLogCapacity sets the number of decision-log entries kept (default 4096).
func WithLogCapacity(n uint32) Option {
	return func(c *config) { c.opts.log_capacity = C.uint32_t(n) }
}

func buildConfig(opts []Option) *config {
	cfg := &config{}
	C.pacing_options_init(&cfg.opts)
	for _, o := range opts {
		if o != nil {
			o(cfg)
		}
	}
	return cfg
}

// ---- context ---------------------------------------------------------------

// Context is a libpacing engine (pacing_ctx). Create it with New or
// NewFromYAML and Close it when done.
type Context struct {
	// mu guards ptr: calls hold it shared (exclusive for configuration,
	// SnapshotLoad and single-thread contexts), Close holds it exclusive,
	// so Close never frees the context under a running call.
	mu     sync.RWMutex
	ptr    *C.pacing_ctx
	serial bool
	once   sync.Once
}

func checkVersion() error {
	if C.pacing_version_number()/10000 != C.PACING_VERSION_MAJOR {
		return &Error{Status: StatusVersion, Msg: "libpacing " + Version() +
			" is loaded, but this package was built for " + HeaderVersion}
	}
	return nil
}

func wrap(p *C.pacing_ctx, serial bool) *Context {
	c := &Context{ptr: p, serial: serial}
	runtime.SetFinalizer(c, (*Context).Close)
	return c
}

// New creates a context with the given options.
func New(opts ...Option) (*Context, error) {
	if err := checkVersion(); err != nil {
		return nil, err
	}
	cfg := buildConfig(opts)
	var p *C.pacing_ctx
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if rc := C.pacing_ctx_new(&cfg.opts, &p); rc != C.PACING_OK {
		return nil, lastError(nil, rc)
	}
	return wrap(p, cfg.serial), nil
}

// NewFromYAML creates a context from a YAML deployment file (options, score
// weights, decision points, safety rules: docs/config-reference.md). The
// options given here are the base that the file overrides. A rejected file
// gives an *Error with status StatusConfig and File, Line and Column set.
//
// A file that says `single_thread: true` makes a context that must be used
// by one goroutine at a time: pass WithSingleThread() too, and the binding
// serializes calls for you.
func NewFromYAML(path string, opts ...Option) (*Context, error) {
	if err := checkVersion(); err != nil {
		return nil, err
	}
	if hasNUL(path) {
		return nil, invalid("NewFromYAML: path contains a NUL byte")
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return newYAML(opts, func(base *C.pacing_options, out **C.pacing_ctx, e *C.pacing_config_error) C.int {
		return C.pacing_ctx_new_from_yaml(cpath, base, out, e)
	})
}

// NewFromYAMLString is NewFromYAML for a configuration held in memory
// (errors name the file "<string>").
func NewFromYAMLString(yaml string, opts ...Option) (*Context, error) {
	if err := checkVersion(); err != nil {
		return nil, err
	}
	// C memory: the library gets a pointer and a length, no NUL needed.
	cyaml := C.CBytes([]byte(yaml))
	defer C.free(cyaml)
	return newYAML(opts, func(base *C.pacing_options, out **C.pacing_ctx, e *C.pacing_config_error) C.int {
		return C.pacing_ctx_new_from_yaml_string((*C.char)(cyaml), C.size_t(len(yaml)), base, out, e)
	})
}

func newYAML(opts []Option, call func(*C.pacing_options, **C.pacing_ctx, *C.pacing_config_error) C.int) (*Context, error) {
	cfg := buildConfig(opts)
	// All in C memory: the options, the result pointer and the error.
	base := (*C.pacing_options)(C.malloc(C.sizeof_pacing_options))
	out := (**C.pacing_ctx)(C.malloc(C.size_t(unsafe.Sizeof(uintptr(0)))))
	cerr := (*C.pacing_config_error)(C.calloc(1, C.sizeof_pacing_config_error))
	defer C.free(unsafe.Pointer(base))
	defer C.free(unsafe.Pointer(out))
	defer C.free(unsafe.Pointer(cerr))
	*base = cfg.opts
	*out = nil
	cerr.size = C.sizeof_pacing_config_error

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rc := call(base, out, cerr)
	if rc != C.PACING_OK {
		e := &Error{Status: Status(rc), Msg: C.GoString(&cerr.message[0])}
		if e.Msg == "" {
			e.Msg = C.GoString(C.pacing_errmsg(nil))
		}
		if rc == C.PACING_E_CONFIG || cerr.line > 0 {
			e.File = C.GoString(&cerr.file[0])
			e.Line = int(cerr.line)
			e.Column = int(cerr.column)
		}
		return nil, e
	}
	return wrap(*out, cfg.serial), nil
}

// Close frees the context. It is safe to call more than once and from any
// goroutine; it waits for calls in flight. Later calls return ErrClosed.
func (c *Context) Close() error {
	if c == nil {
		return nil
	}
	c.once.Do(func() {
		c.mu.Lock()
		C.pacing_ctx_free(c.ptr)
		c.ptr = nil
		c.mu.Unlock()
		runtime.SetFinalizer(c, nil)
	})
	return nil
}

// enter takes the context for one call (exclusively for configuration
// calls) and pins the goroutine to its OS thread, so that a failure's
// message, which the library keeps per thread, is read on the thread that
// failed. Every successful enter is paired with leave.
func (c *Context) enter(exclusive bool) (*C.pacing_ctx, error) {
	if c == nil {
		return nil, ErrClosed
	}
	exclusive = exclusive || c.serial
	if exclusive {
		c.mu.Lock()
	} else {
		c.mu.RLock()
	}
	if c.ptr == nil {
		if exclusive {
			c.mu.Unlock()
		} else {
			c.mu.RUnlock()
		}
		return nil, ErrClosed
	}
	runtime.LockOSThread()
	return c.ptr, nil
}

func (c *Context) leave(exclusive bool) {
	runtime.UnlockOSThread()
	if exclusive || c.serial {
		c.mu.Unlock()
	} else {
		c.mu.RUnlock()
	}
}

func hasNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}
