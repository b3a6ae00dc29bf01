/* pacing sim: a synthetic population of users with fatigue dynamics, run
 * against a configuration and against a fixed-interval baseline.
 *
 * The model (also in tools/pacing.1, section SIMULATION MODEL). Time runs
 * in whole seconds from 2024-01-01 12:00:00 UTC; events inside a second get
 * millisecond offsets. Every random number is a hash of (seed, user,
 * second, purpose), so the policy run and the baseline run draw the same
 * numbers for the same user at the same moment for the same purpose
 * (common random numbers): they differ only where their decisions made
 * the users' histories differ.
 *
 * Users. User i has, drawn once:
 *   interest   theta = 0.3 u^2        (mean 0.1; the chance that a fresh,
 *                                      undisturbed user takes the prompt)
 *   annoyance  sigma = 0.5 + u        (how much prompts tire this user)
 *   reaction   lat0 = 300 + 400 u ms  (the user's normal input latency)
 *   reading    read0 = 180 + 150 u    (words per minute)
 * (u uniform in [0, 1), a fresh draw each time.)
 *
 * Latent fatigue F >= 0, which the library never sees: it halves every
 * FATIGUE_HALF_LIFE_S (300 s); every prompt shown adds EXPOSURE_FATIGUE
 * (0.04) * sigma, every dismissal another DISMISS_FATIGUE (0.12) * sigma,
 * every error ERROR_FATIGUE (0.03).
 *
 * Activity, per second:
 *   idle user: starts a session with probability 1/600 (session_start).
 *   active user: ends the session with probability (1/300)(1 + F)
 *     (session_end; tired users leave sooner); else
 *     hides the tab with probability 1/200 for 3..30 s (tab_hidden /
 *     tab_visible; nothing else happens meanwhile);
 *     has an error with probability 1/300 (error; then a rage_click with
 *     probability 0.4);
 *     outside a form: starts the payment form with probability 1/150
 *     (form_start; it lasts 20..120 s and ends with form_submit, with
 *     probability 0.8 - 0.3 min(F, 1), or form_abandon), or else views a
 *     page with probability 1/10: dwell (ms since the previous page),
 *     scroll_depth (0.2 + 0.7u - 0.2F, clamped to [0, 1]), reading_speed
 *     (half the time; read0 (1 - 0.3 min(F, 1)) (0.9 + 0.2u)),
 *     input_latency (lat0 (1 + 0.6 min(F, 1.5)) (0.85 + 0.3u)) and a click
 *     (UI response 80..380 ms);
 *     inside the form: a form step with probability 1/8: input_latency
 *     and a click.
 *   Every page view and every form step is an opportunity: the host asks
 *   the decision point right after the step's events.
 * So the library sees the fatigue only through what a real host would
 * send: slower reactions and reading, dismissals, exposures.
 *
 * A prompt shown (any action that is not one of the point's quiet_actions)
 * at an interruption cost c (1 inside a form, else e^(-s/20) s after the
 * latest error, 0 without one) gets:
 *   conversion with p_c = theta * appeal(a) * e^(-2F) * (1 - 0.75c):
 *     micro_conversion 1..3 s later and conversion (value 1) 5..25 s later;
 *   dismissal with p_d = (1 - p_c) min(0.95, 0.15 + 0.5F + 0.5c):
 *     dismiss 1..4 s later;
 *   otherwise nothing (ignored).
 * appeal(a) = 0.6 + 0.4u per showing action, drawn from the seed alone
 * (the same for every user; a policy can learn which variant is best).
 *
 * The baseline asks nothing of the library: at an opportunity it shows the
 * prompt if no prompt was shown to that user in the last --interval
 * seconds (default 60), cycling through the showing actions. No policy, no
 * rules.
 *
 * What the policy can exploit: prompts are worth more to rested users at
 * calm moments; the configuration's rules (sensitive_state, fatigue and
 * load ceilings, gaps, caps) and its learning (which action pays, how
 * often showing pays at all) are what it has. Nothing in the model knows
 * the configuration.
 *
 * SPDX-License-Identifier: MIT */
#include "tools.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const SIM_USAGE =
    "pacing sim CONFIG [--users N] [--seconds T] [--seed S] [--point NAME]\n"
    "       [--interval SECONDS] [--events-out FILE] [--decisions-out FILE]\n"
    "       [--snapshot-out FILE]";

/* ---- model parameters ---- */
#define SESSION_START_P (1.0 / 600)
#define SESSION_END_P (1.0 / 300)
#define TAB_HIDE_P (1.0 / 200)
#define ERROR_P (1.0 / 300)
#define RAGE_AFTER_ERROR_P 0.4
#define FORM_START_P (1.0 / 150)
#define VIEW_P (1.0 / 10)
#define FORM_STEP_P (1.0 / 8)
#define FATIGUE_HALF_LIFE_S 300.0
#define EXPOSURE_FATIGUE 0.04
#define DISMISS_FATIGUE 0.12
#define ERROR_FATIGUE 0.03
#define ERROR_IRRITATION_S 20.0
#define INITIAL_ACTIVE_P 0.3

/* purposes of random draws */
enum {
    R_THETA = 1, R_SIGMA, R_LAT0, R_READ0, R_INIT, R_APPEAL,
    R_START, R_START_MS, R_END, R_END_MS, R_TAB, R_TAB_MS, R_TAB_LEN,
    R_ERROR, R_ERROR_MS, R_RAGE, R_FORM, R_FORM_MS, R_FORM_LEN, R_FORM_OK,
    R_VIEW, R_VIEW_MS, R_SCROLL, R_READ_ON, R_READ, R_LAT, R_CLICK,
    R_RESP, R_RESP_T1, R_RESP_T2, R_TARGET
};

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* uniform in [0, 1) for (seed, user, second, purpose) */
static double U(uint64_t seed, uint64_t user, uint64_t sec, uint64_t purpose)
{
    uint64_t h = mix(mix(mix(mix(seed) ^ user) ^ sec) ^ purpose);
    return (double)(h >> 11) * 0x1p-53;
}

typedef struct sim_user {
    double theta, sigma, lat0, read0;
    double F;
    int active, in_form, hidden;
    int64_t form_end, hidden_until, last_view, last_error, last_shown;
    uint32_t rr, views;
    char id[24];
    size_t id_len;
} sim_user;

/* a row of one second, or a scheduled response */
typedef struct srow {
    tl_row r;
    uint32_t user;
    uint32_t seq;
} srow;

typedef struct rowvec {
    srow *v;
    size_t n, cap;
} rowvec;

typedef struct arm {
    const char *name;
    uint64_t sessions, opportunities, exposures, interrupting, conversions,
        dismissals, ignored;
    double fatigue_at_exposure;
    uint64_t actions[64];
} arm;

typedef struct sim {
    uint64_t seed;
    uint32_t n_users;
    uint32_t seconds;
    int64_t interval_ms;
    tl_config *cfg;
    uint32_t point;
    uint64_t quiet;
    uint32_t n_actions;
    uint32_t showing[64];
    uint32_t n_showing;
    double appeal[64];
    sim_user *users;
    rowvec now;
    rowvec sched[64]; /* responses, by second mod 64 (delays < 30 s) */
    uint32_t seq;
    int oom;
    /* progress */
    int progress;
    uint64_t work_done, work_total;
    int last_pct;
} sim;

static int push_row(rowvec *rv, const srow *r)
{
    if (rv->n == rv->cap) {
        size_t cap = rv->cap ? rv->cap * 2 : 256;
        srow *nv = realloc(rv->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        rv->v = nv;
        rv->cap = cap;
    }
    rv->v[rv->n++] = *r;
    return 0;
}

/* The value as the events file will carry it, so that a replay pushes
 * exactly the same number. */
static double exact(double v)
{
    char buf[40];
    tl_fmt_double(buf, sizeof buf, v);
    return strtod(buf, NULL);
}

static void add(sim *S, rowvec *rv, uint32_t ui, int64_t t, uint32_t type,
                double value, uint64_t target)
{
    srow r;
    memset(&r, 0, sizeof r);
    r.r.t = t;
    r.r.user = S->users[ui].id;
    r.r.user_len = S->users[ui].id_len;
    r.r.type = type;
    r.r.value = exact(value);
    r.r.target = target;
    r.r.channel = PACING_CH_WEB;
    r.r.flags = PACING_EVF_CONSENT;
    r.user = ui;
    r.seq = S->seq++;
    if (push_row(rv, &r) != 0)
        S->oom = 1;
}

static void add_decide(sim *S, uint32_t ui, int64_t t)
{
    srow r;
    memset(&r, 0, sizeof r);
    r.r.t = t;
    r.r.user = S->users[ui].id;
    r.r.user_len = S->users[ui].id_len;
    r.r.decide = 1;
    r.r.point = S->point;
    r.r.channel = PACING_CH_WEB;
    r.r.flags = PACING_REQ_CONSENT;
    r.user = ui;
    r.seq = S->seq++;
    if (push_row(&S->now, &r) != 0)
        S->oom = 1;
}

static int cmp_row(const void *a, const void *b)
{
    const srow *x = a, *y = b;
    if (x->r.t != y->r.t)
        return x->r.t < y->r.t ? -1 : 1;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static void init_users(sim *S)
{
    for (uint32_t i = 0; i < S->n_users; i++) {
        sim_user *u = &S->users[i];
        memset(u, 0, sizeof *u);
        u->theta = 0.3 * pow(U(S->seed, i, 0, R_THETA), 2);
        u->sigma = 0.5 + U(S->seed, i, 0, R_SIGMA);
        u->lat0 = 300 + 400 * U(S->seed, i, 0, R_LAT0);
        u->read0 = 180 + 150 * U(S->seed, i, 0, R_READ0);
        u->last_error = -1;
        u->last_shown = -1;
        u->id_len = (size_t)snprintf(u->id, sizeof u->id, "sim%06u", i);
        u->rr = i; /* baseline: users start at different variants */
    }
}

static double clamp01(double x)
{
    return x < 0 ? 0 : (x > 1 ? 1 : x);
}

/* One second of user ui's own activity (not the responses). */
static void activity(sim *S, uint32_t ui, uint64_t s, int64_t t0, arm *A)
{
    sim_user *u = &S->users[ui];
    uint64_t sd = S->seed;
    u->F *= exp2(-1.0 / FATIGUE_HALF_LIFE_S);
    if (s == 0 && U(sd, ui, 0, R_INIT) < INITIAL_ACTIVE_P) {
        u->active = 1;
        A->sessions++;
        add(S, &S->now, ui, t0, PACING_EV_SESSION_START, 0, 0);
        u->last_view = t0;
        return;
    }
    if (!u->active) {
        if (U(sd, ui, s, R_START) < SESSION_START_P) {
            int64_t t = t0 + (int64_t)(900 * U(sd, ui, s, R_START_MS));
            u->active = 1;
            A->sessions++;
            add(S, &S->now, ui, t, PACING_EV_SESSION_START, 0, 0);
            u->last_view = t;
        }
        return;
    }
    int64_t tm = t0 + (int64_t)(900 * U(sd, ui, s, R_END_MS));
    if (U(sd, ui, s, R_END) < SESSION_END_P * (1 + u->F)) {
        if (u->in_form)
            add(S, &S->now, ui, tm, PACING_EV_FORM_ABANDON, 0, 0);
        add(S, &S->now, ui, tm + 1, PACING_EV_SESSION_END, 0, 0);
        u->active = u->in_form = u->hidden = 0;
        return;
    }
    if (u->hidden) {
        if (t0 >= u->hidden_until) {
            add(S, &S->now, ui, t0 + (int64_t)(900 * U(sd, ui, s, R_TAB_MS)),
                PACING_EV_TAB_VISIBLE, 0, 0);
            u->hidden = 0;
        }
        return;
    }
    if (U(sd, ui, s, R_TAB) < TAB_HIDE_P) {
        add(S, &S->now, ui, t0 + (int64_t)(900 * U(sd, ui, s, R_TAB_MS)),
            PACING_EV_TAB_HIDDEN, 0, 0);
        u->hidden = 1;
        u->hidden_until = t0 + 3000 + (int64_t)(27000 * U(sd, ui, s, R_TAB_LEN));
        return;
    }
    if (U(sd, ui, s, R_ERROR) < ERROR_P) {
        int64_t t = t0 + (int64_t)(500 * U(sd, ui, s, R_ERROR_MS));
        add(S, &S->now, ui, t, PACING_EV_ERROR, 0, 0);
        u->last_error = t;
        u->F += ERROR_FATIGUE;
        if (U(sd, ui, s, R_RAGE) < RAGE_AFTER_ERROR_P)
            add(S, &S->now, ui, t + 400, PACING_EV_RAGE_CLICK, 0, 0);
    }
    double fl = u->F < 1.5 ? u->F : 1.5;
    double latency = u->lat0 * (1 + 0.6 * fl) * (0.85 + 0.3 * U(sd, ui, s, R_LAT));
    double click = 80 + 300 * U(sd, ui, s, R_CLICK);
    if (u->in_form) {
        if (t0 >= u->form_end) {
            int ok = U(sd, ui, s, R_FORM_OK) < 0.8 - 0.3 * (u->F < 1 ? u->F : 1);
            add(S, &S->now, ui, t0 + (int64_t)(900 * U(sd, ui, s, R_FORM_MS)),
                ok ? PACING_EV_FORM_SUBMIT : PACING_EV_FORM_ABANDON, 0, 0);
            u->in_form = 0;
        } else if (U(sd, ui, s, R_VIEW) < FORM_STEP_P) {
            int64_t t = t0 + (int64_t)(900 * U(sd, ui, s, R_VIEW_MS));
            add(S, &S->now, ui, t, PACING_EV_INPUT_LATENCY, round(latency), 0);
            add(S, &S->now, ui, t + 1, PACING_EV_CLICK, round(click), 900);
            add_decide(S, ui, t + 2);
            A->opportunities++;
        }
        return;
    }
    if (U(sd, ui, s, R_FORM) < FORM_START_P) {
        add(S, &S->now, ui, t0 + (int64_t)(900 * U(sd, ui, s, R_FORM_MS)),
            PACING_EV_FORM_START, 0, 0);
        u->in_form = 1;
        u->form_end = t0 + 20000 + (int64_t)(100000 * U(sd, ui, s, R_FORM_LEN));
        return;
    }
    if (U(sd, ui, s, R_VIEW) < VIEW_P) {
        int64_t t = t0 + (int64_t)(900 * U(sd, ui, s, R_VIEW_MS));
        double dwell = (double)(t - u->last_view);
        if (dwell < 0)
            dwell = 0;
        if (dwell > 86400000.0)
            dwell = 86400000.0;
        u->last_view = t;
        u->views++;
        double scroll = clamp01(0.2 + 0.7 * U(sd, ui, s, R_SCROLL) - 0.2 * u->F);
        double fr = u->F < 1 ? u->F : 1;
        add(S, &S->now, ui, t, PACING_EV_DWELL, dwell, 0);
        add(S, &S->now, ui, t, PACING_EV_SCROLL_DEPTH, round(scroll * 1000) / 1000, 0);
        if (U(sd, ui, s, R_READ_ON) < 0.5)
            add(S, &S->now, ui, t, PACING_EV_READING_SPEED,
                round(u->read0 * (1 - 0.3 * fr) * (0.9 + 0.2 * U(sd, ui, s, R_READ))), 0);
        add(S, &S->now, ui, t + 1, PACING_EV_INPUT_LATENCY, round(latency), 0);
        uint64_t target = 1 + (uint64_t)(50 * U(sd, ui, s, R_TARGET));
        add(S, &S->now, ui, t + 1, PACING_EV_CLICK, round(click), target);
        add_decide(S, ui, t + 3);
        A->opportunities++;
    }
}

/* A prompt with action a was shown to ui at time t (second s). */
static void respond(sim *S, uint32_t ui, uint64_t s, int64_t t, uint32_t a, arm *A)
{
    sim_user *u = &S->users[ui];
    uint64_t sd = S->seed;
    double c = 0;
    if (u->in_form)
        c = 1;
    else if (u->last_error >= 0)
        c = exp(-(double)(t - u->last_error) / (1000 * ERROR_IRRITATION_S));
    double pc = u->theta * S->appeal[a] * exp(-2 * u->F) * (1 - 0.75 * c);
    double pd = (1 - pc) * fmin(0.95, 0.15 + 0.5 * u->F + 0.5 * c);
    A->exposures++;
    A->actions[a]++;
    A->fatigue_at_exposure += u->F;
    if (c > 0.5)
        A->interrupting++;
    u->last_shown = t;
    u->F += EXPOSURE_FATIGUE * u->sigma;
    double x = U(sd, ui, s, R_RESP);
    int64_t t1 = t + 1000 + (int64_t)(2000 * U(sd, ui, s, R_RESP_T1));
    if (x < pc) {
        int64_t t2 = t + 5000 + (int64_t)(20000 * U(sd, ui, s, R_RESP_T2));
        add(S, &S->sched[(t1 / 1000) % 64], ui, t1, PACING_EV_MICRO_CONVERSION, 0, 0);
        add(S, &S->sched[(t2 / 1000) % 64], ui, t2, PACING_EV_CONVERSION, 1, 0);
    } else if (x < pc + pd) {
        int64_t td = t + 1000 + (int64_t)(3000 * U(sd, ui, s, R_RESP_T1));
        add(S, &S->sched[(td / 1000) % 64], ui, td, PACING_EV_DISMISS, 0, 0);
        u->F += DISMISS_FATIGUE * u->sigma;
    } else {
        A->ignored++;
    }
}

static void progress(sim *S, const char *phase)
{
    if (!S->progress)
        return;
    int pct = (int)(100 * S->work_done / (S->work_total ? S->work_total : 1));
    if (pct == S->last_pct)
        return;
    S->last_pct = pct;
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[40] = 0;
    fprintf(stderr, "\rpacing sim: [%s] %3d%% %-8s", bar, pct, phase);
    fflush(stderr);
}

/* Run one arm: with e (the configuration) or without (the baseline). */
static int run_arm(sim *S, tl_engine *e, arm *A)
{
    init_users(S);
    S->seq = 0;
    for (int i = 0; i < 64; i++)
        S->sched[i].n = 0;
    for (uint64_t s = 0; s < S->seconds; s++) {
        int64_t t0 = TL_T0_MS + (int64_t)s * 1000;
        rowvec *due = &S->sched[(t0 / 1000) % 64];
        S->now.n = 0;
        for (size_t k = 0; k < due->n; k++)
            if (push_row(&S->now, &due->v[k]) != 0)
                S->oom = 1;
        due->n = 0;
        for (uint32_t ui = 0; ui < S->n_users; ui++)
            activity(S, ui, s, t0, A);
        if (S->oom)
            return -1;
        qsort(S->now.v, S->now.n, sizeof *S->now.v, cmp_row);
        for (size_t k = 0; k < S->now.n; k++) {
            srow *r = &S->now.v[k];
            if (!r->r.decide) {
                if (r->r.type == PACING_EV_CONVERSION)
                    A->conversions++;
                else if (r->r.type == PACING_EV_DISMISS)
                    A->dismissals++;
                if (e) {
                    int rc = tl_engine_apply(e, &r->r, NULL);
                    if (rc == PACING_E_NOMEM)
                        return -1;
                }
                continue;
            }
            int show = 0;
            uint32_t a = 0;
            if (e) {
                pacing_decision d = PACING_DECISION_INIT;
                int rc = tl_engine_apply(e, &r->r, &d);
                if (rc == PACING_OK) {
                    a = d.action;
                    show = !(S->quiet & (1ULL << a));
                } else if (rc != PACING_E_VETOED) {
                    fprintf(stderr, "%spacing sim: decide failed: %s: %s\n",
                            S->progress ? "\n" : "", pacing_strerror(rc),
                            pacing_errmsg(S->cfg->ctx));
                    return -2;
                }
            } else {
                sim_user *u = &S->users[r->user];
                if (u->last_shown < 0 || r->r.t - u->last_shown >= S->interval_ms) {
                    show = 1;
                    a = S->showing[u->rr++ % S->n_showing];
                }
            }
            if (show) /* decide rows of second s are at times within it */
                respond(S, r->user, s, r->r.t, a, A);
            if (S->oom)
                return -1;
        }
        S->work_done++;
        progress(S, A->name);
    }
    return 0;
}

void sim_help(FILE *out)
{
    fprintf(out, "usage: %s\n", SIM_USAGE);
    fputs("\n"
          "Run a synthetic population of users with fatigue dynamics against\n"
          "the configuration, then against a fixed-interval baseline (a prompt\n"
          "every --interval seconds, no policy, no rules) with the same seed,\n"
          "and compare conversions per dismissal. The model is described in\n"
          "pacing(1) (SIMULATION MODEL) and at the top of tools/sim.c.\n"
          "\n"
          "options:\n"
          "  --users N           users in the population (default 1000, max 1000000)\n"
          "  --seconds T         simulated seconds (default 1800, max 2678400)\n"
          "  --seed S            seeds the population, the configuration's\n"
          "                      decisions (replacing options.seed and\n"
          "                      options.random_seed) and, unless the file sets\n"
          "                      options.secret, the pseudonym secret (default 1)\n"
          "  --point NAME        the decision point the host asks (default: the\n"
          "                      first point of the file)\n"
          "  --interval SECONDS  the baseline's interval (default 60)\n"
          "  --events-out FILE   write the policy run's events and decide requests\n"
          "                      (the events CSV of pacing replay)\n"
          "  --decisions-out FILE  write its decisions (the decisions CSV, with\n"
          "                      the reward the configuration learned)\n"
          "  --snapshot-out FILE save the learned state at the end\n"
          "\n"
          "Prints key=value lines: the run's parameters, then for `policy` and\n"
          "`baseline`: sessions, opportunities, exposures, interrupting (shown\n"
          "inside a form or just after an error), conversions, dismissals,\n"
          "ignored, conversion_rate, conversions_per_dismissal,\n"
          "mean_fatigue_at_exposure, actions; for the policy also decisions,\n"
          "safe decisions and, per rule, the decisions it vetoed and delayed\n"
          "(policy.rule.ID.MODULE.vetoed/delayed); finally `better=policy`,\n"
          "`baseline` or `tie` by conversions per dismissal.\n"
          "A progress bar is drawn on standard error when it is a terminal.\n"
          "\n"
          "Exit status: 0 success, 1 invalid configuration or failed output,\n"
          "2 usage error.\n",
          out);
}

static void print_cpd(const char *prefix, const arm *A)
{
    printf("%s.conversion_rate=%.4f\n", prefix,
           A->exposures ? (double)A->conversions / (double)A->exposures : 0.0);
    if (A->dismissals)
        printf("%s.conversions_per_dismissal=%.4f\n", prefix,
               (double)A->conversions / (double)A->dismissals);
    else
        printf("%s.conversions_per_dismissal=%s\n", prefix,
               A->conversions ? "inf" : "nan");
    printf("%s.mean_fatigue_at_exposure=%.4f\n", prefix,
           A->exposures ? A->fatigue_at_exposure / (double)A->exposures : 0.0);
}

static void print_arm(const char *prefix, const arm *A)
{
    printf("%s.sessions=%" PRIu64 "\n", prefix, A->sessions);
    printf("%s.opportunities=%" PRIu64 "\n", prefix, A->opportunities);
    printf("%s.exposures=%" PRIu64 "\n", prefix, A->exposures);
    printf("%s.interrupting=%" PRIu64 "\n", prefix, A->interrupting);
    printf("%s.conversions=%" PRIu64 "\n", prefix, A->conversions);
    printf("%s.dismissals=%" PRIu64 "\n", prefix, A->dismissals);
    printf("%s.ignored=%" PRIu64 "\n", prefix, A->ignored);
    print_cpd(prefix, A);
}

static int write_file(const char *what, const char *path, const tl_engine *e)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "pacing sim: cannot write %s %s\n", what, path);
        return -1;
    }
    int bad = tl_engine_write_decisions(e, f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "pacing sim: cannot write %s %s\n", what, path);
        return -1;
    }
    return 0;
}

int cmd_sim(int argc, char **argv)
{
    const char *config = NULL, *point = NULL, *events_out = NULL,
               *decisions_out = NULL, *snapshot_out = NULL;
    uint64_t users = 1000, seconds = 1800, seed = 1;
    double interval = 60;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (tl_is_help(a)) {
            sim_help(stdout);
            return 0;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--users") || !strcmp(a, "--seconds") || !strcmp(a, "--seed") ||
            !strcmp(a, "--point") || !strcmp(a, "--interval") ||
            !strcmp(a, "--events-out") || !strcmp(a, "--decisions-out") ||
            !strcmp(a, "--snapshot-out")) {
            if (!v)
                return tl_usage_error("sim", SIM_USAGE, "%s needs a value", a);
            i++;
            if (!strcmp(a, "--users")) {
                if (tl_parse_u64(v, &users) || users < 1 || users > 1000000)
                    return tl_usage_error("sim", SIM_USAGE,
                                          "--users: '%s' is not in 1..1000000", v);
            } else if (!strcmp(a, "--seconds")) {
                if (tl_parse_u64(v, &seconds) || seconds < 1 || seconds > 2678400)
                    return tl_usage_error("sim", SIM_USAGE,
                                          "--seconds: '%s' is not in 1..2678400", v);
            } else if (!strcmp(a, "--seed")) {
                if (tl_parse_u64(v, &seed))
                    return tl_usage_error("sim", SIM_USAGE,
                                          "--seed: '%s' is not an unsigned 64-bit "
                                          "integer", v);
            } else if (!strcmp(a, "--interval")) {
                if (tl_parse_double(v, &interval) || interval < 0.001 ||
                    interval > 86400 * 366)
                    return tl_usage_error("sim", SIM_USAGE,
                                          "--interval: '%s' is not a number of "
                                          "seconds in [0.001, 31622400]", v);
            } else if (!strcmp(a, "--point")) {
                point = v;
            } else if (!strcmp(a, "--events-out")) {
                events_out = v;
            } else if (!strcmp(a, "--decisions-out")) {
                decisions_out = v;
            } else {
                snapshot_out = v;
            }
            continue;
        }
        if (a[0] == '-' && a[1])
            return tl_usage_error("sim", SIM_USAGE, "unknown option '%s'", a);
        if (config)
            return tl_usage_error("sim", SIM_USAGE, "unexpected argument '%s'", a);
        config = a;
    }
    if (!config)
        return tl_usage_error("sim", SIM_USAGE, "no configuration given");

    struct timespec t_start;
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    pacing_options base;
    tl_seed_options(seed, &base);
    tl_config cfg;
    if (tl_config_load("sim", config, &base, TL_LOAD_OVERRIDE_SEED | TL_LOAD_BIG_LOG, &cfg) != 0)
        return EXIT_BAD;
    if (cfg.n_points == 0) {
        fprintf(stderr, "pacing sim: %s has no decision points\n", config);
        tl_config_free(&cfg);
        return EXIT_BAD;
    }
    int pi = point ? tl_point_index(&cfg, point) : 0;
    if (pi < 0) {
        fprintf(stderr, "pacing sim: --point: no point '%s' in %s (points:", point,
                config);
        for (uint32_t i = 0; i < cfg.n_points; i++)
            fprintf(stderr, " %s", cfg.points[i].name);
        fprintf(stderr, ")\nusage: %s\n", SIM_USAGE);
        tl_config_free(&cfg);
        return EXIT_USAGE;
    }

    sim S;
    memset(&S, 0, sizeof S);
    S.seed = seed;
    S.n_users = (uint32_t)users;
    S.seconds = (uint32_t)seconds;
    S.interval_ms = (int64_t)llround(interval * 1000);
    S.cfg = &cfg;
    S.point = (uint32_t)pi;
    const tl_point *P = &cfg.points[pi];
    S.quiet = P->quiet;
    S.n_actions = P->n_actions;
    for (uint32_t a = 0; a < P->n_actions; a++) {
        S.appeal[a] = 0.6 + 0.4 * U(seed, 0, 0, R_APPEAL + 64 * (uint64_t)a);
        if (!(P->quiet & (1ULL << a)))
            S.showing[S.n_showing++] = a;
    }
    if (S.n_showing == 0) {
        fprintf(stderr, "pacing sim: point %s has only quiet actions: nothing to "
                "show\n", P->name);
        tl_config_free(&cfg);
        return EXIT_BAD;
    }
    S.users = calloc(S.n_users, sizeof *S.users);
    S.progress = isatty(2) && !getenv("PACING_NO_PROGRESS");
    S.work_total = 2 * seconds;
    S.last_pct = -1;
    int status = 0;
    FILE *ev = NULL;
    tl_engine e;
    memset(&e, 0, sizeof e);
    if (!S.users) {
        fprintf(stderr, "pacing sim: out of memory\n");
        status = EXIT_BAD;
        goto out;
    }
    if (events_out) {
        ev = fopen(events_out, "w");
        if (!ev) {
            fprintf(stderr, "pacing sim: cannot write %s\n", events_out);
            status = EXIT_BAD;
            goto out;
        }
        tl_write_events_header(ev);
    }
    if (tl_engine_init(&e, &cfg, ev) != PACING_OK) {
        fprintf(stderr, "pacing sim: out of memory\n");
        status = EXIT_BAD;
        goto out;
    }
    arm pol, bas;
    memset(&pol, 0, sizeof pol);
    memset(&bas, 0, sizeof bas);
    pol.name = "policy";
    bas.name = "baseline";
    int rc = run_arm(&S, &e, &pol);
    if (rc == 0) {
        tl_engine_finish(&e);
        rc = run_arm(&S, NULL, &bas);
    }
    if (S.progress)
        fputs("\r\033[K", stderr);
    if (rc != 0) {
        if (rc == -1)
            fprintf(stderr, "pacing sim: out of memory\n");
        status = EXIT_BAD;
        goto out;
    }
    if (ev) {
        if (fclose(ev) != 0) {
            ev = NULL;
            fprintf(stderr, "pacing sim: cannot write %s\n", events_out);
            status = EXIT_BAD;
            goto out;
        }
        ev = NULL;
    }
    if (decisions_out && write_file("decisions", decisions_out, &e) != 0) {
        status = EXIT_BAD;
        goto out;
    }
    if (snapshot_out && pacing_snapshot_save(cfg.ctx, snapshot_out) != PACING_OK) {
        fprintf(stderr, "pacing sim: cannot save the snapshot: %s\n",
                pacing_errmsg(cfg.ctx));
        status = EXIT_BAD;
        goto out;
    }

    printf("config=%s\n", config);
    printf("point=%s\n", P->name);
    printf("users=%" PRIu64 "\n", users);
    printf("seconds=%" PRIu64 "\n", seconds);
    printf("seed=%" PRIu64 "\n", seed);
    printf("baseline_interval_s=%g\n", interval);
    for (uint32_t a = 0; a < S.n_showing; a++)
        printf("appeal.%s=%.4f\n", P->actions[S.showing[a]], S.appeal[S.showing[a]]);
    print_arm("policy", &pol);
    printf("policy.decisions=%" PRIu64 "\n", e.decisions);
    printf("policy.safe=%" PRIu64 "\n", e.safe);
    printf("policy.all_vetoed=%" PRIu64 "\n", e.all_vetoed);
    for (uint32_t a = 0; a < P->n_actions; a++)
        printf("policy.action.%s=%" PRIu64 "\n", P->actions[a],
               e.action_count[(size_t)S.point * 64 + a]);
    for (uint32_t r = 0; r < cfg.n_rules; r++) {
        printf("policy.rule.%u.%s.vetoed=%" PRIu64 "\n", r, cfg.rules[r].module,
               e.vetoes[r]);
        printf("policy.rule.%u.%s.delayed=%" PRIu64 "\n", r, cfg.rules[r].module,
               e.delays[r]);
    }
    if (e.more_vetoes)
        printf("policy.vetoes_truncated=%" PRIu64 "\n", e.more_vetoes);
    print_arm("baseline", &bas);
    for (uint32_t a = 0; a < S.n_showing; a++)
        printf("baseline.action.%s=%" PRIu64 "\n", P->actions[S.showing[a]],
               bas.actions[S.showing[a]]);
    /* compare conversions/dismissals without dividing by zero */
    double lhs = (double)pol.conversions * (double)bas.dismissals;
    double rhs = (double)bas.conversions * (double)pol.dismissals;
    const char *better = lhs > rhs ? "policy" : lhs < rhs ? "baseline" : "tie";
    if (pol.dismissals == 0 && bas.dismissals == 0)
        better = pol.conversions > bas.conversions   ? "policy"
                 : pol.conversions < bas.conversions ? "baseline"
                                                     : "tie";
    printf("better=%s\n", better);
    fflush(stdout);
    if (S.progress) {
        struct timespec t_end;
        clock_gettime(CLOCK_MONOTONIC, &t_end);
        fprintf(stderr, "pacing sim: %.2f s\n",
                (double)(t_end.tv_sec - t_start.tv_sec) +
                    (double)(t_end.tv_nsec - t_start.tv_nsec) / 1e9);
    }
out:
    if (ev)
        fclose(ev);
    tl_engine_free(&e);
    for (int i = 0; i < 64; i++)
        free(S.sched[i].v);
    free(S.now.v);
    free(S.users);
    tl_config_free(&cfg);
    return status;
}
