/* Per-user features over irregular time.
 *
 * Every decayed accumulator of a user refers to one time t_ref, the
 * user's latest event. An event at t >= t_ref first ages all accumulators
 * to t (multiplying by exp(-lambda (t - t_ref))) and then adds its
 * contribution with weight 1; an event at t < t_ref (late, inside the
 * reorder window) adds its contribution with weight exp(-lambda (t_ref -
 * t)). Exponential decay makes both paths give the same sums, so late
 * events are applied exactly, whatever their order.
 *
 * Windowed counters of exposures keep a ring of the latest EXPO_RING
 * exposure times (exact counts while they cover the window) and, for
 * larger counts, WIN_BUCKETS buckets per window, the newest being that
 * of the ring's latest time.
 *
 * The accumulators are floats: a user record stays under 512 bytes.
 * Every product and sum is computed in double and rounded once when
 * stored (relative error 2^-24 per update). */
#include "internal.h"
#include "fastexp.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

_Static_assert(N_SIG + 2 * N_MEAN <= N_ACC_SHORT, "short accumulators");
_Static_assert(offsetof(pc_features, mean_w) + sizeof(float) * N_MEAN <=
                   offsetof(pc_features, acc_short) + sizeof(float) * N_ACC_SHORT,
               "short accumulators overlap their array");

static const int64_t win_width[N_WIN] = {
    60000 / WIN_BUCKETS,           /* minute: 5 s buckets */
    3600000 / WIN_BUCKETS,         /* hour: 5 min buckets */
    86400000 / WIN_BUCKETS,        /* day: 2 h buckets */
};
static const int64_t win_span[N_WIN] = {60000, 3600000, 86400000};

void pc_features_init(pc_features *f, int64_t t)
{
    memset(f, 0, sizeof *f);
    f->t_ref = t;
}

/* Move every accumulator forward to t >= t_ref. */
static void advance(pc_features *f, const pc_halflives *h, int64_t t)
{
    if (t <= f->t_ref)
        return;
    double dt = (double)(t - f->t_ref);
    double fs = pc_exp(-h->short_lambda * dt);
    double fl = pc_exp(-h->long_lambda * dt);
    for (int i = 0; i < N_ACC_SHORT; i++)
        f->acc_short[i] = (float)(f->acc_short[i] * fs);
    for (int i = 0; i < 2 * N_BASE; i++)
        f->acc_long[i] = (float)(f->acc_long[i] * fl);
    f->t_ref = t;
}

/* Weight of an observation at t relative to t_ref (1 when t >= t_ref). */
static inline double late_weight(const pc_features *f, double lambda, int64_t t)
{
    return t >= f->t_ref ? 1.0 : pc_exp(-lambda * (double)(f->t_ref - t));
}

void pc_features_add_rate(pc_features *f, const pc_halflives *h, int64_t t,
                          int sig, double amount)
{
    advance(f, h, t);
    f->rate[sig] = (float)(f->rate[sig] + amount * late_weight(f, h->short_lambda, t));
}

void pc_features_add_mean(pc_features *f, const pc_halflives *h, int64_t t,
                          int mean, int base, double value)
{
    advance(f, h, t);
    double ws = late_weight(f, h->short_lambda, t);
    f->mean_sum[mean] = (float)(f->mean_sum[mean] + value * ws);
    f->mean_w[mean] = (float)(f->mean_w[mean] + ws);
    if (base >= 0) {
        double wl = late_weight(f, h->long_lambda, t);
        f->base_sum[base] = (float)(f->base_sum[base] + value * wl);
        f->base_w[base] = (float)(f->base_w[base] + wl);
    }
}

/* Count an exposure at t in a window whose newest bucket is that of the
 * latest exposure so far, `newest` (none: `had` false, every bucket 0). */
static void window_add(pc_window *w, int64_t width, int64_t t, bool had,
                       int64_t newest)
{
    int64_t idx = t / width;
    int64_t head = had ? newest / width : idx;
    if (!had) {
        memset(w->bucket, 0, sizeof w->bucket);
    } else if (idx > head) {
        int64_t gap = idx - head;
        if (gap >= WIN_BUCKETS) {
            memset(w->bucket, 0, sizeof w->bucket);
        } else {
            for (int64_t k = head + 1; k <= idx; k++)
                w->bucket[k % WIN_BUCKETS] = 0;
        }
    } else if (idx <= head - WIN_BUCKETS) {
        return; /* older than this window keeps */
    }
    uint16_t *b = &w->bucket[idx % WIN_BUCKETS];
    if (*b < UINT16_MAX)
        (*b)++;
}

void pc_features_add_exposure_at(pc_features *f, const pc_halflives *h,
                                 int64_t t, uint16_t point, uint8_t channel)
{
    pc_features_add_rate(f, h, t, SIG_EXPOSURE, 1.0);
    /* the ring's last time is the latest exposure ever added */
    bool had = f->n_expo > 0;
    int64_t newest = had ? f->expo[f->n_expo - 1] : 0;
    for (int w = 0; w < N_WIN; w++)
        window_add(&f->win[w], win_width[w], t, had, newest);
    /* keep the latest EXPO_RING exposures in ascending order of time */
    int n = f->n_expo;
    if (n == EXPO_RING) {
        if (t <= f->expo[0])
            return;
        memmove(f->expo, f->expo + 1, sizeof f->expo[0] * (EXPO_RING - 1));
        memmove(f->expo_point, f->expo_point + 1,
                sizeof f->expo_point[0] * (EXPO_RING - 1));
        memmove(f->expo_channel, f->expo_channel + 1,
                sizeof f->expo_channel[0] * (EXPO_RING - 1));
        n--;
    }
    int i = n;
    while (i > 0 && f->expo[i - 1] > t) {
        f->expo[i] = f->expo[i - 1];
        f->expo_point[i] = f->expo_point[i - 1];
        f->expo_channel[i] = f->expo_channel[i - 1];
        i--;
    }
    f->expo[i] = t;
    f->expo_point[i] = point;
    f->expo_channel[i] = channel;
    f->n_expo = (uint8_t)(n + 1);
}

void pc_features_add_exposure(pc_features *f, const pc_halflives *h, int64_t t)
{
    pc_features_add_exposure_at(f, h, t, 0, 0);
}

/* Decay factor from t_ref to now. A read before t_ref (inside the reorder
 * window) sees the state as of t_ref: undoing decay could overflow. */
static inline double age_factor(const pc_features *f, double lambda, int64_t now)
{
    return now <= f->t_ref ? 1.0 : pc_exp(-lambda * (double)(now - f->t_ref));
}

double pc_features_age(const pc_features *f, double lambda, int64_t now)
{
    return age_factor(f, lambda, now);
}

double pc_features_count(const pc_features *f, const pc_halflives *h, int sig,
                         int64_t now)
{
    return pc_features_count_af(f, sig, age_factor(f, h->short_lambda, now));
}

double pc_features_rate_per_min(const pc_features *f, const pc_halflives *h,
                                int sig, int64_t now)
{
    return pc_features_rate_af(f, h, sig, age_factor(f, h->short_lambda, now));
}

int pc_features_mean(const pc_features *f, const pc_halflives *h, int mean,
                     int64_t now, double *value, double *weight)
{
    if (f->mean_w[mean] <= 0.0)
        return 0;
    return pc_features_mean_af(f, mean, age_factor(f, h->short_lambda, now),
                               value, weight);
}

int pc_features_base(const pc_features *f, const pc_halflives *h, int base,
                     int64_t now, double *value, double *weight)
{
    if (f->base_w[base] <= 0.0)
        return 0;
    return pc_features_base_af(f, base, age_factor(f, h->long_lambda, now),
                               value, weight);
}

/* The estimate of window win from its buckets when the ring (full) does
 * not reach back to the window's start; at least in_ring, the ring's
 * exposures inside the window. */
static uint32_t window_buckets(const pc_features *f, int win, int64_t now,
                               uint32_t in_ring)
{
    const pc_window *w = &f->win[win];
    int64_t head = f->expo[EXPO_RING - 1] / win_width[win]; /* ring is full */
    int64_t cur = now / win_width[win];
    int64_t hi = cur < head ? cur : head;
    int64_t lo = cur - (WIN_BUCKETS - 1);
    if (lo < head - (WIN_BUCKETS - 1))
        lo = head - (WIN_BUCKETS - 1);
    if (lo < 0) /* times are >= 0, so no bucket has a negative index */
        lo = 0;
    uint32_t sum = 0;
    for (int64_t k = lo; k <= hi; k++)
        sum += w->bucket[k % WIN_BUCKETS];
    /* exposures after `now` are the newest, so the ring holds them: take
     * out those that fell into the buckets summed */
    for (int i = 0; i < f->n_expo; i++) {
        int64_t k = f->expo[i] / win_width[win];
        if (f->expo[i] > now && k >= lo && k <= hi && sum > 0)
            sum--;
    }
    return sum > in_ring ? sum : in_ring;
}

uint32_t pc_features_window_count(const pc_features *f, int win, int64_t now)
{
    int64_t span = win_span[win];
    /* exact from the ring when it reaches back past the window start */
    uint32_t in_ring = 0;
    for (int i = 0; i < f->n_expo; i++)
        if (f->expo[i] > now - span && f->expo[i] <= now)
            in_ring++;
    bool ring_covers = f->n_expo < EXPO_RING || f->expo[0] <= now - span;
    if (ring_covers)
        return in_ring;
    return window_buckets(f, win, now, in_ring);
}

void pc_features_window_counts(const pc_features *f, int64_t now,
                               uint32_t out[N_WIN])
{
    /* the ring's exposures in each window, in one pass */
    for (int w = 0; w < N_WIN; w++)
        out[w] = 0;
    for (int i = 0; i < f->n_expo; i++) {
        int64_t t = f->expo[i];
        if (t > now)
            continue;
        for (int w = 0; w < N_WIN; w++)
            out[w] += t > now - win_span[w];
    }
    if (f->n_expo < EXPO_RING)
        return; /* the ring holds every exposure */
    for (int w = 0; w < N_WIN; w++)
        if (f->expo[0] > now - win_span[w])
            out[w] = window_buckets(f, w, now, out[w]);
}
