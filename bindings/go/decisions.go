package pacing

/*
#include <stdlib.h>
#include <string.h>
#include <pacing.h>

static int pg_decide(pacing_ctx *c, pacing_request rq, _GoString_ user,
                     const double *context, pacing_decision *out)
{
	if (!(rq.flags & PACING_REQ_PSEUDONYM)) {
		rq.user = _GoStringPtr(user);
		rq.user_len = _GoStringLen(user);
	}
	rq.context = context;
	return pacing_decide(c, &rq, out);
}

static int pg_point_find(const pacing_ctx *c, _GoString_ name, uint32_t *id)
{
	// names are short: copy to a NUL-terminated buffer on the C stack
	char buf[64];
	size_t n = _GoStringLen(name);
	if (n >= sizeof buf)
		n = sizeof buf - 1; // too long to be a point name: not found
	memcpy(buf, _GoStringPtr(name), n);
	buf[n] = 0;
	return pacing_point_find(c, buf, id);
}
*/
import "C"

import (
	"sort"
	"time"
	"unsafe"
)

// cmem collects C allocations for one call and frees them together.
// Specs are built in C memory because they hold pointers (to names, to
// arrays of names), which Go memory handed to C may not.
type cmem []unsafe.Pointer

func (m *cmem) alloc(n int) unsafe.Pointer {
	if n == 0 {
		n = 1
	}
	p := C.calloc(C.size_t(n), 1)
	*m = append(*m, p)
	return p
}

func (m *cmem) str(s string) *C.char {
	p := C.CString(s)
	*m = append(*m, unsafe.Pointer(p))
	return p
}

// optStr is str, with "" as NULL.
func (m *cmem) optStr(s string) *C.char {
	if s == "" {
		return nil
	}
	return m.str(s)
}

func (m *cmem) free() {
	for _, p := range *m {
		C.free(p)
	}
	*m = nil
}

// params converts named parameters, in name order, to a pacing_param array.
func (m *cmem) params(ps map[string]float64) (*C.pacing_param, C.uint32_t) {
	if len(ps) == 0 {
		return nil, 0
	}
	names := make([]string, 0, len(ps))
	for k := range ps {
		names = append(names, k)
	}
	sort.Strings(names)
	arr := (*C.pacing_param)(m.alloc(len(names) * C.sizeof_pacing_param))
	s := unsafe.Slice(arr, len(names))
	for i, k := range names {
		s[i].name = m.str(k)
		s[i].value = C.double(ps[k])
	}
	return arr, C.uint32_t(len(names))
}

// doubles4 copies an optional array of exactly 4 parameters.
func (m *cmem) doubles4(what string, v []float64) (*C.double, error) {
	if len(v) == 0 {
		return nil, nil
	}
	if len(v) != 4 {
		return nil, invalid(what + ": give 4 parameters or none (the module's defaults)")
	}
	arr := (*C.double)(m.alloc(4 * C.sizeof_double))
	for i, x := range v {
		unsafe.Slice(arr, 4)[i] = C.double(x)
	}
	return arr, nil
}

func noNUL(what string, ss ...string) error {
	for _, s := range ss {
		if hasNUL(s) {
			return invalid(what + ": a name contains a NUL byte")
		}
	}
	return nil
}

// ---- decision points ---------------------------------------------------------

// RewardRule is an implicit reward: events after a decision, judged by a
// reward module ("conversion", "micro_conversion", "dismiss", "rage_click",
// "dwell"), add Weight times the module's value to the decision's reward.
type RewardRule struct {
	Module string
	Weight float64
}

// PointSpec describes a decision point: where the host asks "show, delay or
// skip?" (or which variant). Names are [a-z0-9_], 1..31 characters.
type PointSpec struct {
	Name    string
	Actions []string // 2..64 unique names
	// Policy: "thompson", "gaussian_thompson", "ucb1", "kl_ucb",
	// "epsilon_greedy", "softmax", "linucb", "linear_thompson".
	Policy string
	Params map[string]float64 // the policy's parameters; others keep defaults
	// ContextDim is the number of caller features of contextual policies
	// (0..32; 0 for the others).
	ContextDim int
	// ScoresContext appends fatigue, cognitive load and drop-off risk to the
	// context of a contextual policy.
	ScoresContext bool
	// RecoveryDecay names a decay module: an action's value for a user is
	// scaled by 1 - w(time since that user got it). "" for none.
	RecoveryDecay  string
	RecoveryParams []float64 // nil for the module's defaults, else 4 values
	// Attribution is the reward window after a decision (default 1 hour).
	Attribution time.Duration
	// With UseDefaultReward, a decision that got no reward within the window
	// learns DefaultReward.
	UseDefaultReward bool
	DefaultReward    float64
	Rewards          []RewardRule // implicit reward rules, 0..8
	// QuietActions show nothing (delay, skip): safety never vetoes them and
	// choosing one records no exposure.
	QuietActions []string
	// SafeAction is the quiet action returned when safety vetoes every other
	// action; "" for none (then such a decision fails with ErrVetoed).
	SafeAction string
}

func actionIndex(actions []string, name string) int {
	for i, a := range actions {
		if a == name {
			return i
		}
	}
	return -1
}

// AddPoint creates a decision point and returns its id (0, 1, 2, ... in order
// of creation). A configuration call: it takes the context exclusively.
func (c *Context) AddPoint(spec PointSpec) (uint32, error) {
	if err := noNUL("AddPoint", append([]string{spec.Name, spec.Policy, spec.RecoveryDecay}, spec.Actions...)...); err != nil {
		return 0, err
	}
	if spec.ContextDim < 0 || spec.ContextDim > 1<<16 {
		return 0, invalid("AddPoint " + spec.Name + ": ContextDim out of range")
	}
	if len(spec.Actions) > 1<<16 || len(spec.Rewards) > 1<<16 {
		return 0, invalid("AddPoint " + spec.Name + ": too many actions or rewards")
	}
	var quiet uint64
	for _, q := range spec.QuietActions {
		i := actionIndex(spec.Actions, q)
		if i < 0 || i >= 64 {
			return 0, invalid("AddPoint " + spec.Name + ": quiet action '" + q + "' is not an action")
		}
		quiet |= 1 << uint(i)
	}
	safe := -1
	if spec.SafeAction != "" {
		if safe = actionIndex(spec.Actions, spec.SafeAction); safe < 0 {
			return 0, invalid("AddPoint " + spec.Name + ": safe action '" + spec.SafeAction + "' is not an action")
		}
	}

	var m cmem
	defer m.free()
	s := (*C.pacing_point_spec)(m.alloc(C.sizeof_pacing_point_spec))
	s.size = C.sizeof_pacing_point_spec
	s.name = m.str(spec.Name)
	if n := len(spec.Actions); n > 0 {
		arr := (**C.char)(m.alloc(n * int(unsafe.Sizeof((*C.char)(nil)))))
		for i, a := range spec.Actions {
			unsafe.Slice(arr, n)[i] = m.str(a)
		}
		s.actions = arr
	}
	s.n_actions = C.uint32_t(len(spec.Actions))
	if spec.ScoresContext {
		s.flags |= C.PACING_PT_SCORES_CONTEXT
	}
	if spec.UseDefaultReward {
		s.flags |= C.PACING_PT_DEFAULT_REWARD
	}
	s.policy = m.optStr(spec.Policy)
	s.params, s.n_params = m.params(spec.Params)
	s.context_dim = C.uint32_t(spec.ContextDim)
	s.recovery_decay = m.optStr(spec.RecoveryDecay)
	rp, err := m.doubles4("AddPoint "+spec.Name+": RecoveryParams", spec.RecoveryParams)
	if err != nil {
		return 0, err
	}
	s.recovery_params = rp
	s.attribution_ms = ms(spec.Attribution)
	s.default_reward = C.double(spec.DefaultReward)
	if n := len(spec.Rewards); n > 0 {
		arr := (*C.pacing_reward_rule)(m.alloc(n * C.sizeof_pacing_reward_rule))
		for i, r := range spec.Rewards {
			if err := noNUL("AddPoint", r.Module); err != nil {
				return 0, err
			}
			e := &unsafe.Slice(arr, n)[i]
			e.module = m.str(r.Module)
			e.weight = C.double(r.Weight)
		}
		s.rewards = arr
	}
	s.n_rewards = C.uint32_t(len(spec.Rewards))
	s.quiet_actions = C.uint64_t(quiet)
	s.safe_action = C.int32_t(safe)

	p, err := c.enter(true)
	if err != nil {
		return 0, err
	}
	defer c.leave(true)
	var id C.uint32_t
	if rc := C.pacing_point_add(p, s, &id); rc < 0 {
		return 0, lastError(p, rc)
	}
	return uint32(id), nil
}

// PointID looks a decision point up by name (ErrNotFound if there is none).
func (c *Context) PointID(name string) (uint32, error) {
	if err := noNUL("PointID", name); err != nil {
		return 0, err
	}
	p, err := c.enter(false)
	if err != nil {
		return 0, err
	}
	defer c.leave(false)
	var id C.uint32_t
	if rc := C.pg_point_find(p, name, &id); rc < 0 {
		return 0, lastError(p, rc)
	}
	return uint32(id), nil
}

// PointCount returns the number of decision points; their ids are
// 0 .. PointCount()-1.
func (c *Context) PointCount() uint32 {
	p, err := c.enter(false)
	if err != nil {
		return 0
	}
	defer c.leave(false)
	return uint32(C.pacing_point_count(p))
}

// PointName returns the name of a point, or "" for an unknown id.
func (c *Context) PointName(point uint32) string {
	p, err := c.enter(false)
	if err != nil {
		return ""
	}
	defer c.leave(false)
	return C.GoString(C.pacing_point_name(p, C.uint32_t(point)))
}

// Actions returns the action names of a point (index = action id), or nil
// for an unknown id.
func (c *Context) Actions(point uint32) []string {
	p, err := c.enter(false)
	if err != nil {
		return nil
	}
	defer c.leave(false)
	n := uint32(C.pacing_point_actions(p, C.uint32_t(point)))
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for a := range out {
		out[a] = C.GoString(C.pacing_action_name(p, C.uint32_t(point), C.uint32_t(a)))
	}
	return out
}

// ActionName returns the name of an action of a point, or "" if there is
// no such point or action.
func (c *Context) ActionName(point, action uint32) string {
	p, err := c.enter(false)
	if err != nil {
		return ""
	}
	defer c.leave(false)
	return C.GoString(C.pacing_action_name(p, C.uint32_t(point), C.uint32_t(action)))
}

// RuleSpec is a safety rule: an instance of a rule module ("frequency_cap",
// "min_gap", "quiet_hours", "fatigue_ceiling", "load_ceiling",
// "dropoff_ceiling", "session_budget", "sensitive_state", "consent",
// "opt_out") with parameters (docs/safety.md), for one point or all ("").
type RuleSpec struct {
	Module string
	Point  string
	Params map[string]float64
}

// AddRule adds a safety rule and returns its id (0, 1, ... in order). Rules
// run in that order, after the policy, and the policy cannot override them.
// A configuration call: it takes the context exclusively.
func (c *Context) AddRule(spec RuleSpec) (uint32, error) {
	if err := noNUL("AddRule", spec.Module, spec.Point); err != nil {
		return 0, err
	}
	var m cmem
	defer m.free()
	s := (*C.pacing_rule_spec)(m.alloc(C.sizeof_pacing_rule_spec))
	s.size = C.sizeof_pacing_rule_spec
	s.module = m.str(spec.Module)
	s.point = m.optStr(spec.Point)
	s.params, s.n_params = m.params(spec.Params)
	for k := range spec.Params {
		if err := noNUL("AddRule", k); err != nil {
			return 0, err
		}
	}
	p, err := c.enter(true)
	if err != nil {
		return 0, err
	}
	defer c.leave(true)
	var id C.uint32_t
	if rc := C.pacing_rule_add(p, s, &id); rc < 0 {
		return 0, lastError(p, rc)
	}
	return uint32(id), nil
}

// SetExposureDecay chooses the decay of the recent-exposures fatigue input:
// a module name and 4 parameters (nil: the module's defaults).
// A configuration call: it takes the context exclusively.
func (c *Context) SetExposureDecay(module string, params []float64) error {
	if err := noNUL("SetExposureDecay", module); err != nil {
		return err
	}
	var m cmem
	defer m.free()
	name := m.str(module)
	pp, err := m.doubles4("SetExposureDecay", params)
	if err != nil {
		return err
	}
	p, err := c.enter(true)
	if err != nil {
		return err
	}
	defer c.leave(true)
	if rc := C.pacing_exposure_decay_set(p, name, pp); rc < 0 {
		return lastError(p, rc)
	}
	return nil
}

// DecayEval evaluates a decay module's weight w(age) with 4 parameters
// (nil: the module's defaults).
func (c *Context) DecayEval(module string, params []float64, age time.Duration) (float64, error) {
	if err := noNUL("DecayEval", module); err != nil {
		return 0, err
	}
	var m cmem
	defer m.free()
	name := m.str(module)
	pp, err := m.doubles4("DecayEval", params)
	if err != nil {
		return 0, err
	}
	p, err := c.enter(false)
	if err != nil {
		return 0, err
	}
	defer c.leave(false)
	var w C.double
	if rc := C.pacing_decay_eval(p, name, pp, msf(age), &w); rc < 0 {
		return 0, lastError(p, rc)
	}
	return float64(w), nil
}

// ---- decisions -----------------------------------------------------------------

// Request is one question to a decision point. Identify the user by User or,
// instead, by Pseudonym.
type Request struct {
	Point        uint32 // from AddPoint or PointID
	User         string
	Pseudonym    uint64    // used instead of User when non-zero
	NowMs        int64     // the caller's clock, ms
	Ineligible   uint64    // bit a set: action a is asleep for this call
	Context      []float64 // ContextDim values for contextual policies
	Channel      Channel
	UTCOffsetMin int32 // the user's local time minus UTC (quiet hours)
	Flags        RequestFlag
}

// Veto is one safety verdict against one action.
type Veto struct {
	Rule         uint32 // the id from AddRule
	Action       uint32
	Verdict      Verdict // VerdictVeto or VerdictDelay
	Reason       uint32  // the rule's own code (docs/safety.md)
	RetryAfterMs int64   // VerdictDelay: earliest time worth asking again
	Detail       [2]float64
}

// TopInput is one of the two inputs that contribute most to a score.
type TopInput struct {
	Input Input   // InputNone if none
	Share float64 // contribution / score, [0, 1]
}

// Decision is the answer of a decision point.
type Decision struct {
	ID           uint64 // for Reward; 0 for a safe decision (nothing to learn)
	Point        uint32
	PointName    string
	Action       uint32 // index into the point's actions
	ActionName   string
	Reasons      Reason
	Propensity   float64 // P(this action | state), (0, 1]
	TimeMs       int64
	RetryAfterMs int64 // with ReasonSafe: when asking again is worth it (0: unknown)
	// The scores the decision used.
	Fatigue, CognitiveLoad, DropOffRisk, Attention, Engagement float64
	Vetoes                                                     []Veto // at most 4; ReasonMoreVetoes says more were given
	FatigueTop                                                 [2]TopInput
	LoadTop                                                    [2]TopInput
}

func topFromC(t *C.pacing_top_inputs) (out [2]TopInput) {
	for i := range out {
		out[i] = TopInput{Input(t.input[i]), float64(t.share[i])}
	}
	return
}

func topToC(t [2]TopInput) (out C.pacing_top_inputs) {
	for i := range t {
		out.input[i] = C.int32_t(t[i].Input)
		out.share[i] = C.double(t[i].Share)
	}
	return
}

func (d *Decision) toC() C.pacing_decision {
	var o C.pacing_decision
	o.size = C.sizeof_pacing_decision
	o.id = C.uint64_t(d.ID)
	o.point = C.uint32_t(d.Point)
	o.action = C.uint32_t(d.Action)
	o.reasons = C.uint32_t(d.Reasons)
	o.propensity = C.double(d.Propensity)
	o.time_ms = C.int64_t(d.TimeMs)
	o.fatigue = C.double(d.Fatigue)
	o.cognitive_load = C.double(d.CognitiveLoad)
	o.drop_off_risk = C.double(d.DropOffRisk)
	o.attention = C.double(d.Attention)
	o.engagement = C.double(d.Engagement)
	o.retry_after_ms = C.int64_t(d.RetryAfterMs)
	for i, v := range d.Vetoes {
		if i >= len(o.vetoes) {
			o.reasons |= C.PACING_DR_MORE_VETOES
			break
		}
		o.vetoes[i] = C.pacing_veto{rule: C.uint32_t(v.Rule), action: C.uint32_t(v.Action),
			verdict: C.uint32_t(v.Verdict), reason: C.uint32_t(v.Reason),
			retry_after_ms: C.int64_t(v.RetryAfterMs),
			detail:         [2]C.double{C.double(v.Detail[0]), C.double(v.Detail[1])}}
		o.n_vetoes++
	}
	o.fatigue_top = topToC(d.FatigueTop)
	o.load_top = topToC(d.LoadTop)
	return o
}

// Decide asks a decision point: the policy proposes an action, the safety
// rules dispose. A decision that shows nothing because safety vetoed every
// showing action carries ReasonSafe (if the point has a safe action; else
// the call fails with ErrVetoed).
func (c *Context) Decide(req Request) (Decision, error) {
	var r C.pacing_request
	r.size = C.sizeof_pacing_request
	r.point = C.uint32_t(req.Point)
	flags := req.Flags
	user := req.User
	if req.Pseudonym != 0 {
		if req.User != "" {
			return Decision{}, invalid("request: set User or Pseudonym, not both")
		}
		flags |= requestPseudonym
		r.pseudonym = C.uint64_t(req.Pseudonym)
	}
	r.flags = C.uint32_t(flags)
	r.now_ms = C.int64_t(req.NowMs)
	r.ineligible = C.uint64_t(req.Ineligible)
	if uint64(len(req.Context)) > 1<<31 {
		return Decision{}, invalid("request: context too long")
	}
	r.context_len = C.uint32_t(len(req.Context))
	r.channel = C.uint32_t(req.Channel)
	r.utc_offset_min = C.int32_t(req.UTCOffsetMin)
	var cx *C.double
	if len(req.Context) > 0 {
		cx = (*C.double)(unsafe.Pointer(&req.Context[0]))
	}

	p, err := c.enter(false)
	if err != nil {
		return Decision{}, err
	}
	defer c.leave(false)
	var o C.pacing_decision
	o.size = C.sizeof_pacing_decision
	if rc := C.pg_decide(p, r, user, cx, &o); rc < 0 {
		return Decision{}, lastError(p, rc)
	}
	d := Decision{
		ID: uint64(o.id), Point: uint32(o.point), Action: uint32(o.action),
		Reasons: Reason(o.reasons), Propensity: float64(o.propensity),
		TimeMs: int64(o.time_ms), RetryAfterMs: int64(o.retry_after_ms),
		Fatigue: float64(o.fatigue), CognitiveLoad: float64(o.cognitive_load),
		DropOffRisk: float64(o.drop_off_risk), Attention: float64(o.attention),
		Engagement: float64(o.engagement),
		FatigueTop: topFromC(&o.fatigue_top), LoadTop: topFromC(&o.load_top),
	}
	d.PointName = C.GoString(C.pacing_point_name(p, o.point))
	d.ActionName = C.GoString(C.pacing_action_name(p, o.point, o.action))
	n := int(o.n_vetoes)
	if n > len(o.vetoes) {
		n = len(o.vetoes)
	}
	if n > 0 {
		d.Vetoes = make([]Veto, n)
		for i := range d.Vetoes {
			v := &o.vetoes[i]
			d.Vetoes[i] = Veto{Rule: uint32(v.rule), Action: uint32(v.action),
				Verdict: Verdict(v.verdict), Reason: uint32(v.reason),
				RetryAfterMs: int64(v.retry_after_ms),
				Detail:       [2]float64{float64(v.detail[0]), float64(v.detail[1])}}
		}
	}
	return d, nil
}

// Explain returns a short human sentence explaining a decision ("why am I
// seeing this now?"), e.g. "delayed checkout_cta: min_gap needs 20 s, last
// shown 12.3 s ago; fatigue 0.71 (dismissals 48%, slower reactions 30%)".
func (c *Context) Explain(d Decision) (string, error) {
	cd := d.toC()
	p, err := c.enter(false)
	if err != nil {
		return "", err
	}
	defer c.leave(false)
	buf := make([]byte, 256)
	for {
		n := C.pacing_explain(p, &cd, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
		if n < 0 {
			return "", lastError(p, n)
		}
		if int(n) < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, int(n)+1)
	}
}

// Reward rewards a pending decision explicitly; the policy learns one
// observation and the decision is settled. ErrNotFound for an unknown or
// already settled decision (nothing changes then); ErrRange for a value
// outside the policy's reward range.
func (c *Context) Reward(decisionID uint64, value float64, nowMs int64) error {
	p, err := c.enter(false)
	if err != nil {
		return err
	}
	defer c.leave(false)
	if rc := C.pacing_reward(p, C.uint64_t(decisionID), C.double(value), C.int64_t(nowMs)); rc < 0 {
		return lastError(p, rc)
	}
	return nil
}

// Settle settles every pending decision whose attribution window ended at or
// before nowMs and returns how many.
func (c *Context) Settle(nowMs int64) (uint64, error) {
	p, err := c.enter(false)
	if err != nil {
		return 0, err
	}
	defer c.leave(false)
	var n C.uint64_t
	if rc := C.pacing_settle(p, C.int64_t(nowMs), &n); rc < 0 {
		return 0, lastError(p, rc)
	}
	return uint64(n), nil
}

// ArmStats is what a dashboard reads about one action of a point.
type ArmStats struct {
	Decisions    uint64  // times chosen
	Rewards      uint64  // rewards learned (explicit and implicit)
	Pulls        float64 // the policy's (discounted) observation count
	RewardSum    float64
	Mean         float64
	ParamA       float64 // posterior or confidence parameters,
	ParamB       float64 // named by ParamAName and ParamBName
	ParamAName   string
	ParamBName   string
	LastUpdateMs int64 // time of the last reward, -1 if none
}

// ArmStats reads one action's statistics.
func (c *Context) ArmStats(point, action uint32) (ArmStats, error) {
	p, err := c.enter(false)
	if err != nil {
		return ArmStats{}, err
	}
	defer c.leave(false)
	var s C.pacing_arm_stats
	s.size = C.sizeof_pacing_arm_stats
	if rc := C.pacing_arm_stats_get(p, C.uint32_t(point), C.uint32_t(action), &s); rc < 0 {
		return ArmStats{}, lastError(p, rc)
	}
	return ArmStats{
		Decisions: uint64(s.decisions), Rewards: uint64(s.rewards),
		Pulls: float64(s.pulls), RewardSum: float64(s.reward_sum), Mean: float64(s.mean),
		ParamA: float64(s.param_a), ParamB: float64(s.param_b),
		ParamAName: C.GoString(s.param_a_name), ParamBName: C.GoString(s.param_b_name),
		LastUpdateMs: int64(s.last_update_ms),
	}, nil
}

// DecisionStats are the decision layer's counters.
type DecisionStats struct {
	Decisions         uint64
	RewardsExplicit   uint64
	RewardsImplicit   uint64 // settled with a rule's reward
	RewardsDefault    uint64 // settled with the default reward
	ExpiredUnrewarded uint64 // window ended, nothing learned
	SettledEarly      uint64 // pushed out of a full pending buffer
	Pending           uint64 // awaiting reward now
	RewardRejected    uint64 // unknown, settled or bad rewards
}

// DecisionStats reads the decision layer's counters.
func (c *Context) DecisionStats() (DecisionStats, error) {
	p, err := c.enter(false)
	if err != nil {
		return DecisionStats{}, err
	}
	defer c.leave(false)
	var s C.pacing_decision_stats
	s.size = C.sizeof_pacing_decision_stats
	if rc := C.pacing_decision_stats_get(p, &s); rc < 0 {
		return DecisionStats{}, lastError(p, rc)
	}
	return DecisionStats{
		Decisions: uint64(s.decisions), RewardsExplicit: uint64(s.rewards_explicit),
		RewardsImplicit: uint64(s.rewards_implicit), RewardsDefault: uint64(s.rewards_default),
		ExpiredUnrewarded: uint64(s.expired_unrewarded), SettledEarly: uint64(s.settled_early),
		Pending: uint64(s.pending), RewardRejected: uint64(s.reward_rejected),
	}, nil
}

// HazardBaseline returns the drop-off model's baseline hazard for sessions
// of the given age, and the number of sessions observed at risk there.
func (c *Context) HazardBaseline(ageMs int64) (hazard, atRisk float64, err error) {
	p, err := c.enter(false)
	if err != nil {
		return 0, 0, err
	}
	defer c.leave(false)
	var h, r C.double
	if rc := C.pacing_hazard_baseline(p, C.int64_t(ageMs), &h, &r); rc < 0 {
		return 0, 0, lastError(p, rc)
	}
	return float64(h), float64(r), nil
}
