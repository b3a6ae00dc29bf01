/* Unit tests of lib/feature.c, called directly through internal.h:
 * decayed counts and rates, weighted means and baselines, exactness of
 * late (out-of-order) additions, and the windowed exposure counters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define HL_SHORT 120000.0                  /* ms, the default */
#define HL_LONG (7.0 * 24 * 3600 * 1000)   /* ms, the default */
#define MINUTE 60000LL
#define HOUR 3600000LL
#define DAY 86400000LL

static pc_halflives hl(double short_ms, double long_ms)
{
    pc_halflives h;
    h.short_lambda = PACING_LN2 / short_ms;
    h.long_lambda = PACING_LN2 / long_ms;
    return h;
}

static int rel_close(double a, double b, double rel)
{
    if (a == b)
        return 1;
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b));
}

/* The accumulators are stored as floats: each update rounds once, with a
 * relative error of at most FLT_EPSILON / 2 of the stored value, and the
 * errors of earlier updates decay with the value they belong to. A sum of
 * n positive updates is therefore within n * FLT_EPSILON / 2 of the exact
 * sum; STORE_REL(n) is twice that (the reads round once more). */
#define STORE_REL(n) ((double)(n) * FLT_EPSILON)

#define assert_rel(a, b, rel)                                                  \
    do {                                                                       \
        double a_ = (a), b_ = (b);                                             \
        if (!rel_close(a_, b_, (rel)))                                         \
            fail_msg("%s = %.17g, expected %.17g (rel %g)", #a, a_, b_,        \
                     (double)(rel));                                           \
    } while (0)

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s ? s : 1; }
static uint64_t rng_u64(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
static double rng_unit(void) { return (double)(rng_u64() >> 11) * 0x1p-53; }
static uint32_t rng_below(uint32_t n) { return (uint32_t)(rng_u64() % n); }

/* ------------------------------------------------------------------ */
/* Decayed counts and rates                                            */
/* ------------------------------------------------------------------ */

static void test_count_halves(void **state)
{
    (void)state;
    pc_halflives h = hl(HL_SHORT, HL_LONG);
    pc_features f;
    pc_features_init(&f, 1000);
    pc_features_add_rate(&f, &h, 1000, SIG_DISMISS, 1.0);
    assert_rel(pc_features_count(&f, &h, SIG_DISMISS, 1000), 1.0, 1e-15);
    assert_rel(pc_features_count(&f, &h, SIG_DISMISS, 1000 + 120000), 0.5, 1e-12);
    assert_rel(pc_features_count(&f, &h, SIG_DISMISS, 1000 + 240000), 0.25, 1e-12);
    assert_rel(pc_features_count(&f, &h, SIG_DISMISS, 1000 + 1200000),
               1.0 / 1024, 1e-12);
    /* reads do not change state */
    assert_rel(pc_features_count(&f, &h, SIG_DISMISS, 1000), 1.0, 1e-15);
    /* other signals untouched */
    assert_true(pc_features_count(&f, &h, SIG_ERROR, 5000) == 0.0);

    /* amounts add; aging happens when a later event arrives */
    pc_features_add_rate(&f, &h, 1000 + 120000, SIG_DISMISS, 2.0);
    assert_rel(pc_features_count(&f, &h, SIG_DISMISS, 1000 + 120000), 2.5, 1e-12);
    assert_rel(pc_features_count(&f, &h, SIG_DISMISS, 1000 + 240000), 1.25, 1e-12);

    /* another half-life */
    pc_halflives h2 = hl(10000, HL_LONG);
    pc_features g;
    pc_features_init(&g, 0);
    pc_features_add_rate(&g, &h2, 0, SIG_UNDO, 8.0);
    assert_rel(pc_features_count(&g, &h2, SIG_UNDO, 30000), 1.0, 1e-12);
}

static void test_rate_converges(void **state)
{
    (void)state;
    pc_halflives h = hl(HL_SHORT, HL_LONG);
    pc_features f;
    pc_features_init(&f, 0);
    /* one event every 10 s (6 per minute) for 30 half-lives */
    int64_t t = 0;
    for (; t <= 30 * 120000; t += 10000)
        pc_features_add_rate(&f, &h, t, SIG_ERROR, 1.0);
    int64_t last = t - 10000;
    double r_at = pc_features_rate_per_min(&f, &h, SIG_ERROR, last);
    double r_before_next = pc_features_rate_per_min(&f, &h, SIG_ERROR, last + 9999);
    double r_mid = pc_features_rate_per_min(&f, &h, SIG_ERROR, last + 5000);
    printf("rate/min of 1 per 10 s: %.4f just after, %.4f mid, %.4f before next\n",
           r_at, r_mid, r_before_next);
    assert_true(fabs(r_at - 6.0) <= 0.05 * 6.0);
    assert_true(fabs(r_before_next - 6.0) <= 0.05 * 6.0);
    assert_true(fabs(r_mid - 6.0) <= 0.02 * 6.0);
    /* the rate and the count agree: rate = count * lambda * 60000 */
    assert_rel(r_at, pc_features_count(&f, &h, SIG_ERROR, last) * h.short_lambda * 60000.0,
               1e-12);

    /* a different rate: one every 2 s = 30 per minute */
    pc_features g;
    pc_features_init(&g, 0);
    for (t = 0; t <= 30 * 120000; t += 2000)
        pc_features_add_rate(&g, &h, t, SIG_CLICK, 1.0);
    double r = pc_features_rate_per_min(&g, &h, SIG_CLICK, t - 1000);
    assert_true(fabs(r - 30.0) <= 0.05 * 30.0);

    /* and when it stops, the rate halves each half-life */
    double r0 = pc_features_rate_per_min(&g, &h, SIG_CLICK, t);
    assert_rel(pc_features_rate_per_min(&g, &h, SIG_CLICK, t + 120000), r0 / 2, 1e-12);
}

/* ------------------------------------------------------------------ */
/* Means and baselines                                                 */
/* ------------------------------------------------------------------ */

static void test_means_and_baselines(void **state)
{
    (void)state;
    pc_halflives h = hl(HL_SHORT, 3600000.0); /* a short baseline for the test */
    pc_features f;
    pc_features_init(&f, 0);
    double v, w;
    assert_int_equal(pc_features_mean(&f, &h, MEAN_LATENCY, 0, &v, &w), 0);
    assert_int_equal(pc_features_base(&f, &h, BASE_LATENCY, 0, &v, &w), 0);

    enum { N = 200 };
    int64_t ts[N];
    double vs[N];
    rng_seed(77);
    int64_t t = 0;
    for (int i = 0; i < N; i++) {
        t += 1 + rng_below(30000);
        ts[i] = t;
        vs[i] = 200 + 800 * rng_unit();
        pc_features_add_mean(&f, &h, ts[i], MEAN_LATENCY, BASE_LATENCY, vs[i]);
    }
    /* a mean without a baseline */
    pc_features_add_mean(&f, &h, t, MEAN_SCROLL, -1, 0.25);

    int64_t now_list[] = {t, t + 1, t + 60000, t + 3600000};
    for (size_t k = 0; k < sizeof now_list / sizeof now_list[0]; k++) {
        int64_t now = now_list[k];
        double ss = 0, sw = 0, ls = 0, lw = 0;
        for (int i = 0; i < N; i++) {
            double a = exp(-h.short_lambda * (double)(now - ts[i]));
            double b = exp(-h.long_lambda * (double)(now - ts[i]));
            ss += a * vs[i];
            sw += a;
            ls += b * vs[i];
            lw += b;
        }
        assert_int_equal(pc_features_mean(&f, &h, MEAN_LATENCY, now, &v, &w), 1);
        assert_rel(v, ss / sw, STORE_REL(N + 1));
        assert_rel(w, sw, STORE_REL(N + 1));
        assert_int_equal(pc_features_base(&f, &h, BASE_LATENCY, now, &v, &w), 1);
        assert_rel(v, ls / lw, STORE_REL(N + 1));
        assert_rel(w, lw, STORE_REL(N + 1));
    }
    /* the two differ: the short mean follows recent values */
    double vm, vb;
    assert_int_equal(pc_features_mean(&f, &h, MEAN_LATENCY, t, &vm, &w), 1);
    assert_int_equal(pc_features_base(&f, &h, BASE_LATENCY, t, &vb, &w), 1);
    assert_true(vm != vb);

    assert_int_equal(pc_features_mean(&f, &h, MEAN_SCROLL, t, &v, &w), 1);
    assert_rel(v, 0.25, 1e-15);
    assert_rel(w, 1.0, 1e-15);
    /* other means and baselines are untouched */
    assert_int_equal(pc_features_mean(&f, &h, MEAN_READING, t, &v, &w), 0);
    assert_int_equal(pc_features_base(&f, &h, BASE_READING, t, &v, &w), 0);
    assert_int_equal(pc_features_base(&f, &h, BASE_DWELL, t, &v, &w), 0);

    /* a level shift: the mean moves to the new level quickly, the baseline
     * slowly */
    pc_features g;
    pc_features_init(&g, 0);
    pc_halflives hd = hl(HL_SHORT, HL_LONG);
    for (t = 0; t < 600000; t += 10000)
        pc_features_add_mean(&g, &hd, t, MEAN_READING, BASE_READING, 250);
    for (; t < 1200000; t += 10000)
        pc_features_add_mean(&g, &hd, t, MEAN_READING, BASE_READING, 125);
    assert_int_equal(pc_features_mean(&g, &hd, MEAN_READING, t, &vm, &w), 1);
    assert_int_equal(pc_features_base(&g, &hd, BASE_READING, t, &vb, &w), 1);
    assert_true(vm < 135 && vm > 125);
    assert_true(vb > 180 && vb < 195); /* ~ the plain average, 187.5 */
    assert_rel(w, 120.0, 2e-3);
}

/* ------------------------------------------------------------------ */
/* Out-of-order exactness                                              */
/* ------------------------------------------------------------------ */

typedef struct op {
    int kind; /* 0 rate, 1 mean, 2 exposure */
    int which, base;
    int64_t t;
    double v;
    double key;
    int idx;
} op;

static int by_key(const void *a, const void *b)
{
    const op *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx - y->idx;
}

static void apply_op(pc_features *f, const pc_halflives *h, const op *o)
{
    switch (o->kind) {
    case 0: pc_features_add_rate(f, h, o->t, o->which, o->v); break;
    case 1: pc_features_add_mean(f, h, o->t, o->which, o->base, o->v); break;
    default: pc_features_add_exposure(f, h, o->t); break;
    }
}

static void assert_features_agree(const pc_features *a, const pc_features *b,
                                  const pc_halflives *h, int64_t now,
                                  int n_updates)
{
    for (int s = 0; s < N_SIG; s++)
        assert_rel(pc_features_count(a, h, s, now), pc_features_count(b, h, s, now),
                   STORE_REL(2 * n_updates));
    for (int m = 0; m < N_MEAN; m++) {
        double va = 0, wa = 0, vb = 0, wb = 0;
        int ra = pc_features_mean(a, h, m, now, &va, &wa);
        int rb = pc_features_mean(b, h, m, now, &vb, &wb);
        assert_int_equal(ra, rb);
        assert_rel(va, vb, STORE_REL(2 * n_updates));
        assert_rel(wa, wb, STORE_REL(2 * n_updates));
    }
    for (int m = 0; m < N_BASE; m++) {
        double va = 0, wa = 0, vb = 0, wb = 0;
        int ra = pc_features_base(a, h, m, now, &va, &wa);
        int rb = pc_features_base(b, h, m, now, &vb, &wb);
        assert_int_equal(ra, rb);
        assert_rel(va, vb, STORE_REL(2 * n_updates));
        assert_rel(wa, wb, STORE_REL(2 * n_updates));
    }
    for (int w = 0; w < N_WIN; w++)
        assert_int_equal(pc_features_window_count(a, w, now),
                         pc_features_window_count(b, w, now));
}

static void test_late_adds_exact(void **state)
{
    (void)state;
    pc_halflives h = hl(HL_SHORT, HL_LONG);
    enum { N = 3000 };
    static op ops[N];
    rng_seed(0xFEA7);
    int64_t t = 5000000;
    for (int i = 0; i < N; i++) {
        op *o = &ops[i];
        t += rng_below(4000);
        o->t = t;
        o->idx = i;
        int r = (int)rng_below(10);
        if (r < 4) {
            o->kind = 0;
            o->which = (int)rng_below(N_SIG);
            o->v = 1.0 + rng_below(3);
        } else if (r < 8) {
            o->kind = 1;
            o->which = (int)rng_below(N_MEAN);
            o->base = o->which < N_BASE ? o->which : -1;
            o->v = 1000 * rng_unit();
        } else {
            o->kind = 2;
        }
    }
    const int64_t t_min = ops[0].t, t_max = t;
    pc_features in, late;
    pc_features_init(&in, t_min);
    for (int i = 0; i < N; i++)
        apply_op(&in, &h, &ops[i]);
    /* shuffled within a 60 s window */
    for (int i = 0; i < N; i++)
        ops[i].key = (double)ops[i].t + 60000.0 * rng_unit();
    qsort(ops, N, sizeof ops[0], by_key);
    pc_features_init(&late, ops[0].t);
    int n_late = 0;
    int64_t latest = 0;
    for (int i = 0; i < N; i++) {
        if (ops[i].t < latest)
            n_late++;
        if (ops[i].t > latest)
            latest = ops[i].t;
        apply_op(&late, &h, &ops[i]);
    }
    assert_true(n_late > N / 4);
    assert_int_equal(in.t_ref, late.t_ref);
    assert_int_equal(in.t_ref, t_max);
    int64_t at[] = {t_max - 60000, t_max - 1, t_max, t_max + 1000,
                    t_max + 600000, t_max + 2 * HOUR};
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++)
        assert_features_agree(&in, &late, &h, at[k], N);
    /* the exposure ring is the same too */
    assert_int_equal(in.n_expo, late.n_expo);
    assert_memory_equal(in.expo, late.expo, sizeof(int64_t) * in.n_expo);

    /* the simplest case, explicitly: events at 0, 1000, 2000 added in
     * reverse give the same sums as in order */
    pc_features a, b;
    pc_features_init(&a, 0);
    pc_features_init(&b, 2000);
    for (int64_t s = 0; s <= 2000; s += 1000) {
        pc_features_add_rate(&a, &h, s, SIG_DISMISS, 1.0);
        pc_features_add_mean(&a, &h, s, MEAN_LATENCY, BASE_LATENCY, 100.0 + (double)s);
    }
    for (int64_t s = 2000; s >= 0; s -= 1000) {
        pc_features_add_rate(&b, &h, s, SIG_DISMISS, 1.0);
        pc_features_add_mean(&b, &h, s, MEAN_LATENCY, BASE_LATENCY, 100.0 + (double)s);
    }
    assert_features_agree(&a, &b, &h, 2000, 3);
    assert_features_agree(&a, &b, &h, 100000, 3);
    double expect = 1.0 + exp(-h.short_lambda * 1000) + exp(-h.short_lambda * 2000);
    assert_rel(pc_features_count(&b, &h, SIG_DISMISS, 2000), expect, STORE_REL(3));
}

/* ------------------------------------------------------------------ */
/* Windowed exposure counters                                          */
/* ------------------------------------------------------------------ */

static const int64_t spans[N_WIN] = {MINUTE, HOUR, DAY};

static uint32_t brute(const int64_t *ts, int n, int64_t lo_excl, int64_t hi_incl)
{
    uint32_t c = 0;
    for (int i = 0; i < n; i++)
        if (ts[i] > lo_excl && ts[i] <= hi_incl)
            c++;
    return c;
}

static void test_window_boundaries(void **state)
{
    (void)state;
    pc_halflives h = hl(HL_SHORT, HL_LONG);
    const int64_t now = 10 * DAY + 12345;
    for (int w = 0; w < N_WIN; w++) {
        /* one exposure exactly one span before now: not in the window */
        pc_features f;
        pc_features_init(&f, now - spans[w]);
        pc_features_add_exposure(&f, &h, now - spans[w]);
        assert_int_equal(pc_features_window_count(&f, w, now), 0);
        assert_int_equal(pc_features_window_count(&f, w, now - 1), 1);
        /* one ms later: in */
        pc_features_add_exposure(&f, &h, now - spans[w] + 1);
        assert_int_equal(pc_features_window_count(&f, w, now), 1);
        /* an exposure at now is in, one after now is not */
        pc_features_add_exposure(&f, &h, now);
        assert_int_equal(pc_features_window_count(&f, w, now), 2);
        pc_features_add_exposure(&f, &h, now + 1);
        assert_int_equal(pc_features_window_count(&f, w, now), 2);
        /* at now + 1, now - span + 1 is exactly one span old: out */
        assert_int_equal(pc_features_window_count(&f, w, now + 1), 2);
        assert_int_equal(pc_features_window_count(&f, w, now + spans[w] - 1), 2);
        assert_int_equal(pc_features_window_count(&f, w, now + spans[w]), 1);
        assert_int_equal(pc_features_window_count(&f, w, now + spans[w] + 1), 0);
    }

    /* the brief's example: 60000 ms before now is out, 59999 ms is in */
    pc_features f;
    pc_features_init(&f, 0);
    pc_features_add_exposure(&f, &h, 1000000 - 60000);
    pc_features_add_exposure(&f, &h, 1000000 - 59999);
    assert_int_equal(pc_features_window_count(&f, WIN_MINUTE, 1000000), 1);
    assert_int_equal(pc_features_window_count(&f, WIN_HOUR, 1000000), 2);
    assert_int_equal(pc_features_window_count(&f, WIN_DAY, 1000000), 2);
}

/* Up to 8 exposures: exact, for random times spread over a minute, an hour
 * or a day, added in order, at any query time no earlier than the latest
 * exposure (and at any time when there are fewer than 8). */
static void test_window_exact_small(void **state)
{
    (void)state;
    pc_halflives h = hl(HL_SHORT, HL_LONG);
    rng_seed(4242);
    for (int trial = 0; trial < 300; trial++) {
        int n = 1 + (int)rng_below(8);
        int64_t ts[8];
        int64_t base = DAY + (int64_t)rng_below(1000000);
        int64_t spread = trial % 3 == 0 ? MINUTE : trial % 3 == 1 ? HOUR : DAY;
        for (int i = 0; i < n; i++)
            ts[i] = base + (int64_t)(rng_unit() * (double)spread * 1.5);
        /* ascending */
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && ts[j - 1] > ts[j]; j--) {
                int64_t x = ts[j];
                ts[j] = ts[j - 1];
                ts[j - 1] = x;
            }
        pc_features f;
        pc_features_init(&f, ts[0]);
        for (int i = 0; i < n; i++)
            pc_features_add_exposure(&f, &h, ts[i]);
        for (int q = 0; q < 40; q++) {
            int64_t now = ts[n - 1] + (int64_t)(rng_unit() * (double)spread * 1.2);
            if (n < 8 && q % 4 == 0)
                now = ts[n - 1] - (int64_t)rng_below(60000);
            for (int w = 0; w < N_WIN; w++) {
                uint32_t got = pc_features_window_count(&f, w, now);
                uint32_t want = brute(ts, n, now - spans[w], now);
                if (got != want)
                    fail_msg("trial %d, %d exposures, window %d, now %lld: "
                             "count %u, expected %u",
                             trial, n, w, (long long)now, got, want);
            }
        }
    }
}

/* More than 8 exposures: within one bucket's worth, never above the true
 * count. */
static void check_window_bounds(const pc_features *f, const int64_t *ts, int n,
                                int64_t now, const char *what)
{
    for (int w = 0; w < N_WIN; w++) {
        int64_t width = spans[w] / WIN_BUCKETS;
        uint32_t got = pc_features_window_count(f, w, now);
        uint32_t hi = brute(ts, n, now - spans[w], now);
        /* everything no older than span - width is certainly counted */
        uint32_t lo = brute(ts, n, now - spans[w] + width - 1, now);
        if (got < lo || got > hi)
            fail_msg("%s: window %d at %lld: count %u not in [%u, %u]", what, w,
                     (long long)now, got, lo, hi);
    }
}

static void test_window_large_counts(void **state)
{
    (void)state;
    pc_halflives h = hl(HL_SHORT, HL_LONG);
    enum { N = 100 };
    int64_t ts[N + 40];
    const int64_t t0 = 3 * DAY + 777;
    pc_features f;
    pc_features_init(&f, t0);
    /* 100 exposures over 50 minutes (one every 30 s) */
    for (int i = 0; i < N; i++) {
        ts[i] = t0 + 30000LL * i;
        pc_features_add_exposure(&f, &h, ts[i]);
    }
    int64_t last = ts[N - 1];
    /* right after the last: all 100 in the hour and day */
    assert_int_equal(pc_features_window_count(&f, WIN_HOUR, last), N);
    assert_int_equal(pc_features_window_count(&f, WIN_DAY, last), N);
    uint32_t m = pc_features_window_count(&f, WIN_MINUTE, last);
    assert_true(m >= 1 && m <= 2);
    /* a sweep of query times, 0 to 2 hours after the last */
    for (int64_t now = last; now <= last + 2 * HOUR; now += 7001)
        check_window_bounds(&f, ts, N, now, "sweep");
    /* 30 minutes after: the first 20 minutes' exposures have left the hour */
    uint32_t c = pc_features_window_count(&f, WIN_HOUR, last + 30 * MINUTE);
    uint32_t c_true = brute(ts, N, last + 30 * MINUTE - HOUR, last + 30 * MINUTE);
    printf("hour count 30 min after 100 exposures over 50 min: %u (true %u)\n", c,
           c_true);
    assert_true(c_true < N);
    assert_true(c <= c_true && c + 10 >= c_true); /* 10 = one 5 min bucket */
    /* long after: nothing in minute and hour, all in the day */
    assert_int_equal(pc_features_window_count(&f, WIN_MINUTE, last + 2 * HOUR), 0);
    assert_int_equal(pc_features_window_count(&f, WIN_HOUR, last + 2 * HOUR), 0);
    assert_int_equal(pc_features_window_count(&f, WIN_DAY, last + 2 * HOUR), N);
    assert_int_equal(pc_features_window_count(&f, WIN_DAY, last + 2 * DAY), 0);

    /* 30 minutes later 20 more, one every 3 s: old buckets partly reused */
    int n = N;
    for (int i = 0; i < 20; i++, n++) {
        ts[n] = last + 30 * MINUTE + 3000LL * i;
        pc_features_add_exposure(&f, &h, ts[n]);
    }
    for (int64_t now = ts[n - 1]; now <= ts[n - 1] + 2 * HOUR; now += 5003)
        check_window_bounds(&f, ts, n, now, "after a 30 min gap");

    /* 2 hours later 20 more: every hour bucket was cleared */
    int64_t t2 = ts[n - 1] + 2 * HOUR;
    for (int i = 0; i < 20; i++, n++) {
        ts[n] = t2 + 2000LL * i;
        pc_features_add_exposure(&f, &h, ts[n]);
    }
    assert_int_equal(pc_features_window_count(&f, WIN_HOUR, ts[n - 1]), 20);
    assert_int_equal(pc_features_window_count(&f, WIN_MINUTE, ts[n - 1]), 20);
    assert_int_equal(pc_features_window_count(&f, WIN_DAY, ts[n - 1]), n);
    for (int64_t now = ts[n - 1]; now <= ts[n - 1] + DAY + HOUR; now += 60013)
        check_window_bounds(&f, ts, n, now, "after a 2 h gap");
}

/* Random streams, including late exposures, for all three windows. */
static void test_window_random(void **state)
{
    (void)state;
    pc_halflives h = hl(HL_SHORT, HL_LONG);
    rng_seed(99);
    for (int trial = 0; trial < 40; trial++) {
        enum { N = 400 };
        static int64_t ts[N];
        int64_t scale = trial % 3 == 0 ? 2000 : trial % 3 == 1 ? 60000 : 600000;
        int64_t t = DAY;
        for (int i = 0; i < N; i++) {
            t += (int64_t)rng_below((uint32_t)scale);
            ts[i] = t;
        }
        /* deliver with up to 60 s of lateness */
        pc_features f;
        pc_features_init(&f, ts[0]);
        int64_t pending[N];
        double keys[N];
        int order[N];
        for (int i = 0; i < N; i++) {
            pending[i] = ts[i];
            keys[i] = (double)ts[i] + 60000.0 * rng_unit();
            order[i] = i;
        }
        for (int i = 1; i < N; i++)
            for (int j = i; j > 0 && keys[order[j - 1]] > keys[order[j]]; j--) {
                int x = order[j];
                order[j] = order[j - 1];
                order[j - 1] = x;
            }
        int64_t latest = 0;
        for (int k = 0; k < N; k++) {
            int64_t te = pending[order[k]];
            pc_features_add_exposure(&f, &h, te);
            if (te > latest)
                latest = te;
            /* check against what has been delivered so far */
            if (k % 17 == 0) {
                int64_t got_ts[N];
                for (int j = 0; j <= k; j++)
                    got_ts[j] = pending[order[j]];
                check_window_bounds(&f, got_ts, k + 1, latest, "random");
            }
        }
        for (int64_t now = latest; now < latest + DAY + HOUR;
             now += (int64_t)(1 + rng_below((uint32_t)(scale * 10))))
            check_window_bounds(&f, ts, N, now, "random, after");
    }
}

/* A read may be for a time before the latest exposure (inside the reorder
 * window). Exposures after that time are not in its window and must not be
 * counted: 8 exposures 1 s apart, read 3.5 s before the last one. */
static void test_window_query_before_latest(void **state)
{
    (void)state;
    pc_halflives h = hl(HL_SHORT, HL_LONG);
    const int64_t b = 100 * HOUR; /* a bucket boundary of every window */
    int64_t ts[8];
    pc_features f;
    pc_features_init(&f, b);
    for (int i = 0; i < 8; i++) {
        ts[i] = b + 1000LL * i;
        pc_features_add_exposure(&f, &h, ts[i]);
    }
    const int64_t now = ts[7] - 3500; /* b + 3500: 4 exposures so far */
    uint32_t got[N_WIN], want[N_WIN];
    int bad = 0;
    for (int w = 0; w < N_WIN; w++) {
        got[w] = pc_features_window_count(&f, w, now);
        want[w] = brute(ts, 8, now - spans[w], now);
        bad |= got[w] != want[w];
    }
    if (bad)
        fail_msg("8 exposures at b, b+1s, .., b+7s, read at b+3.5s: minute/"
                 "hour/day counts %u/%u/%u, expected %u/%u/%u (exposures after "
                 "the read time are counted)", got[0], got[1], got[2], want[0],
                 want[1], want[2]);
}

/* The three counts at once equal the counts one by one, with the ring
 * partly filled and full, at times before, at and after its exposures. */
static void test_window_counts_together(void **state)
{
    (void)state;
    pc_halflives h = hl(HL_SHORT, HL_LONG);
    rng_seed(0xC0DE);
    int checked_partial = 0, checked_full = 0;
    for (int run = 0; run < 200; run++) {
        pc_features f;
        int64_t t = 1000000 + rng_below(100000);
        pc_features_init(&f, t);
        int n = 1 + (int)rng_below(2 * EXPO_RING);
        for (int i = 0; i < n; i++) {
            /* gaps from a second to a few hours, some late */
            t += (int64_t)rng_below(4) == 0 ? rng_below(4 * 3600000)
                                            : rng_below(60000);
            int64_t at = rng_below(5) == 0 ? t - rng_below(30000) : t;
            pc_features_add_exposure(&f, &h, at);
        }
        for (int q = 0; q < 20; q++) {
            int64_t now = t - 2 * HOUR + (int64_t)rng_below(2 * DAY);
            uint32_t all[N_WIN];
            pc_features_window_counts(&f, now, all);
            for (int w = 0; w < N_WIN; w++)
                assert_int_equal(all[w], pc_features_window_count(&f, w, now));
            if (f.n_expo == EXPO_RING)
                checked_full++;
            else
                checked_partial++;
        }
    }
    assert_true(checked_partial > 100 && checked_full > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_halves),
        cmocka_unit_test(test_rate_converges),
        cmocka_unit_test(test_means_and_baselines),
        cmocka_unit_test(test_late_adds_exact),
        cmocka_unit_test(test_window_boundaries),
        cmocka_unit_test(test_window_exact_small),
        cmocka_unit_test(test_window_large_counts),
        cmocka_unit_test(test_window_random),
        cmocka_unit_test(test_window_query_before_latest),
        cmocka_unit_test(test_window_counts_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
