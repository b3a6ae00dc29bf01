package pacing

// Typed constants. Every value is taken from include/pacing.h by cgo at
// build time, so the Go names cannot drift from the C header.

/*
#include <pacing.h>
*/
import "C"

import (
	"strconv"
	"strings"
)

// Status is a libpacing status code (pacing_status). StatusOK is 0, errors
// are negative. Codes are never renumbered.
type Status int

const (
	StatusOK       Status = C.PACING_OK
	StatusDropped  Status = C.PACING_DROPPED // the event was deliberately not applied
	StatusInvalid  Status = C.PACING_E_INVAL
	StatusNull     Status = C.PACING_E_NULL
	StatusSize     Status = C.PACING_E_SIZE
	StatusType     Status = C.PACING_E_TYPE
	StatusNaN      Status = C.PACING_E_NAN
	StatusRange    Status = C.PACING_E_RANGE
	StatusTooOld   Status = C.PACING_E_TOO_OLD
	StatusNoMem    Status = C.PACING_E_NOMEM
	StatusFull     Status = C.PACING_E_FULL
	StatusNotFound Status = C.PACING_E_NOTFOUND
	StatusExists   Status = C.PACING_E_EXISTS
	StatusConfig   Status = C.PACING_E_CONFIG
	StatusCorrupt  Status = C.PACING_E_CORRUPT
	StatusIO       Status = C.PACING_E_IO
	StatusTime     Status = C.PACING_E_TIME
	StatusVetoed   Status = C.PACING_E_VETOED
	StatusVersion  Status = C.PACING_E_VERSION
)

// String returns the library's description of the status (pacing_strerror).
func (s Status) String() string { return C.GoString(C.pacing_strerror(C.int(s))) }

// EventType is the type of an interaction event (pacing_event_type). The
// meaning and range of Event.Value depend on it; see include/pacing.h.
type EventType uint32

const (
	EventSessionStart    EventType = C.PACING_EV_SESSION_START
	EventSessionEnd      EventType = C.PACING_EV_SESSION_END
	EventDwell           EventType = C.PACING_EV_DWELL         // ms on a piece of content
	EventScrollDepth     EventType = C.PACING_EV_SCROLL_DEPTH  // fraction of the page, [0, 1]
	EventHover           EventType = C.PACING_EV_HOVER         // ms
	EventReadingSpeed    EventType = C.PACING_EV_READING_SPEED // words per minute
	EventInputLatency    EventType = C.PACING_EV_INPUT_LATENCY // reaction time, ms
	EventClick           EventType = C.PACING_EV_CLICK         // ms until the UI responded
	EventRageClick       EventType = C.PACING_EV_RAGE_CLICK
	EventDeadClick       EventType = C.PACING_EV_DEAD_CLICK
	EventCursorBacktrack EventType = C.PACING_EV_CURSOR_BACKTRACK
	EventUndo            EventType = C.PACING_EV_UNDO
	EventError           EventType = C.PACING_EV_ERROR
	EventFormStart       EventType = C.PACING_EV_FORM_START
	EventFormSubmit      EventType = C.PACING_EV_FORM_SUBMIT
	EventFormAbandon     EventType = C.PACING_EV_FORM_ABANDON
	EventTabHidden       EventType = C.PACING_EV_TAB_HIDDEN
	EventTabVisible      EventType = C.PACING_EV_TAB_VISIBLE
	EventMediaPause      EventType = C.PACING_EV_MEDIA_PAUSE
	EventMediaResume     EventType = C.PACING_EV_MEDIA_RESUME
	EventExposure        EventType = C.PACING_EV_EXPOSURE // a prompt was shown
	EventDismiss         EventType = C.PACING_EV_DISMISS  // a prompt was dismissed
	EventMicroConversion EventType = C.PACING_EV_MICRO_CONVERSION
	EventConversion      EventType = C.PACING_EV_CONVERSION // value of the conversion
	EventConsent         EventType = C.PACING_EV_CONSENT    // 1 given, 0 withdrawn
	EventOptOut          EventType = C.PACING_EV_OPT_OUT
	EventCustom          EventType = C.PACING_EV_CUSTOM
)

// String returns the stable snake_case name ("rage_click"), or
// "event_type(N)" for an unknown type.
func (t EventType) String() string {
	if p := C.pacing_event_type_name(C.int(t)); p != nil {
		return C.GoString(p)
	}
	return "event_type(" + itoa(int64(t)) + ")"
}

// EventFlag modifies an event (PACING_EVF_*). The pseudonym flag is set by
// the binding when Event.Pseudonym is used.
type EventFlag uint32

const (
	EventBot         EventFlag = C.PACING_EVF_BOT         // a bot: dropped and counted
	EventWithConsent EventFlag = C.PACING_EVF_CONSENT     // the user consents to personalisation
	EventNoConsent   EventFlag = C.PACING_EVF_NO_CONSENT  // the user does not: dropped and counted
	EventNoResponse  EventFlag = C.PACING_EVF_NO_RESPONSE // EventClick: the UI never responded
	eventPseudonym   EventFlag = C.PACING_EVF_PSEUDONYM
)

// Channel is where an event or a request comes from (pacing_channel).
// Values from ChannelCustomFirst to ChannelMax are free for the caller.
type Channel uint32

const (
	ChannelUnspecified Channel = C.PACING_CH_UNSPECIFIED
	ChannelWeb         Channel = C.PACING_CH_WEB
	ChannelApp         Channel = C.PACING_CH_APP
	ChannelEmail       Channel = C.PACING_CH_EMAIL
	ChannelPush        Channel = C.PACING_CH_PUSH
	ChannelKiosk       Channel = C.PACING_CH_KIOSK
	ChannelGame        Channel = C.PACING_CH_GAME
	ChannelCustomFirst Channel = C.PACING_CH_CUSTOM_FIRST
	ChannelMax         Channel = C.PACING_CH_MAX
)

// ScoreKind names a score that decomposes into inputs (pacing_score_kind).
type ScoreKind int

const (
	ScoreFatigue       ScoreKind = C.PACING_SCORE_FATIGUE
	ScoreCognitiveLoad ScoreKind = C.PACING_SCORE_COGNITIVE_LOAD
	ScoreAttention     ScoreKind = C.PACING_SCORE_ATTENTION
	ScoreEngagement    ScoreKind = C.PACING_SCORE_ENGAGEMENT
)

// Input is one signal of a score (pacing_input). InputNone (-1) marks an
// empty slot of TopInput.
type Input int

const (
	InputNone             Input = -1
	InputSlowerReactions  Input = C.PACING_IN_SLOWER_REACTIONS
	InputDismissals       Input = C.PACING_IN_DISMISSALS
	InputRecentExposures  Input = C.PACING_IN_RECENT_EXPOSURES
	InputUndoRate         Input = C.PACING_IN_UNDO_RATE
	InputErrorRate        Input = C.PACING_IN_ERROR_RATE
	InputIncompleteForms  Input = C.PACING_IN_INCOMPLETE_FORMS
	InputReadingSlowdown  Input = C.PACING_IN_READING_SLOWDOWN
	InputPauses           Input = C.PACING_IN_PAUSES
	InputFocusSwitches    Input = C.PACING_IN_FOCUS_SWITCHES
	InputMisclicks        Input = C.PACING_IN_MISCLICKS
	InputScrollDepth      Input = C.PACING_IN_SCROLL_DEPTH
	InputDwellRatio       Input = C.PACING_IN_DWELL_RATIO
	InputVisibility       Input = C.PACING_IN_VISIBILITY
	InputClickRate        Input = C.PACING_IN_CLICK_RATE
	InputHover            Input = C.PACING_IN_HOVER
	InputMicroConversions Input = C.PACING_IN_MICRO_CONVERSIONS
	InputDwell            Input = C.PACING_IN_DWELL
	inputCount                  = C.PACING_INPUT_COUNT
)

// String returns the stable snake_case name ("dismissals"), "none" for
// InputNone, or "input(N)".
func (in Input) String() string {
	if in == InputNone {
		return "none"
	}
	if p := C.pacing_input_name(C.int(in)); p != nil {
		return C.GoString(p)
	}
	return "input(" + itoa(int64(in)) + ")"
}

// RequestFlag modifies a decision request (PACING_REQ_*). The pseudonym
// flag is set by the binding when Request.Pseudonym is used.
type RequestFlag uint32

const (
	RequestConsent   RequestFlag = C.PACING_REQ_CONSENT
	RequestNoConsent RequestFlag = C.PACING_REQ_NO_CONSENT // use and keep no user state
	RequestOptedOut  RequestFlag = C.PACING_REQ_OPTED_OUT  // as NoConsent, and "opt_out" vetoes showing
	requestPseudonym RequestFlag = C.PACING_REQ_PSEUDONYM
)

// Reason is the set of PACING_DR_* flags of a decision.
type Reason uint32

const (
	ReasonExplored    Reason = C.PACING_DR_EXPLORED     // not the action the policy rates best
	ReasonExploited   Reason = C.PACING_DR_EXPLOITED    // the action the policy rates best
	ReasonIneligible  Reason = C.PACING_DR_INELIGIBLE   // some actions were asleep
	ReasonRecovering  Reason = C.PACING_DR_RECOVERING   // some actions were scaled down by recovery
	ReasonNoUser      Reason = C.PACING_DR_NO_USER      // no user state: scores of 0
	ReasonPendingFull Reason = C.PACING_DR_PENDING_FULL // the oldest pending decision was settled early
	ReasonVetoed      Reason = C.PACING_DR_VETOED       // safety vetoed or delayed some actions
	ReasonSafe        Reason = C.PACING_DR_SAFE         // the point's safe action was returned
	ReasonMoreVetoes  Reason = C.PACING_DR_MORE_VETOES  // more verdicts than Decision.Vetoes holds
)

var reasonNames = []struct {
	r    Reason
	name string
}{
	{ReasonExplored, "explored"}, {ReasonExploited, "exploited"},
	{ReasonIneligible, "ineligible"}, {ReasonRecovering, "recovering"},
	{ReasonNoUser, "no_user"}, {ReasonPendingFull, "pending_full"},
	{ReasonVetoed, "vetoed"}, {ReasonSafe, "safe"},
	{ReasonMoreVetoes, "more_vetoes"},
}

// Has reports whether every flag of f is set in r.
func (r Reason) Has(f Reason) bool { return r&f == f }

// String lists the flags, e.g. "exploited|vetoed"; "" for none.
func (r Reason) String() string {
	var parts []string
	for _, n := range reasonNames {
		if r&n.r != 0 {
			parts = append(parts, n.name)
			r &^= n.r
		}
	}
	if r != 0 {
		parts = append(parts, "0x"+hex(uint64(r)))
	}
	return strings.Join(parts, "|")
}

// Verdict is a safety rule's answer about one action.
type Verdict uint32

const (
	VerdictAllow Verdict = C.PACING_ALLOW
	VerdictVeto  Verdict = C.PACING_VETO  // must not be shown now
	VerdictDelay Verdict = C.PACING_DELAY // not before RetryAfterMs
)

func (v Verdict) String() string {
	switch v {
	case VerdictAllow:
		return "allow"
	case VerdictVeto:
		return "veto"
	case VerdictDelay:
		return "delay"
	}
	return "verdict(" + itoa(int64(v)) + ")"
}

// Outcome says how a logged decision ended (PACING_OUT_*).
type Outcome uint32

const (
	OutcomeRewarded Outcome = C.PACING_OUT_REWARDED // explicit Reward
	OutcomeImplicit Outcome = C.PACING_OUT_IMPLICIT // a reward rule's reward
	OutcomeDefault  Outcome = C.PACING_OUT_DEFAULT  // the default reward at the window's end
	OutcomeExpired  Outcome = C.PACING_OUT_EXPIRED  // the window ended, nothing was learned
	OutcomeSafe     Outcome = C.PACING_OUT_SAFE     // a safe decision (nothing to learn)
)

func (o Outcome) String() string {
	switch o {
	case OutcomeRewarded:
		return "rewarded"
	case OutcomeImplicit:
		return "implicit"
	case OutcomeDefault:
		return "default"
	case OutcomeExpired:
		return "expired"
	case OutcomeSafe:
		return "safe"
	}
	return "outcome(" + itoa(int64(o)) + ")"
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func hex(u uint64) string { return strconv.FormatUint(u, 16) }
