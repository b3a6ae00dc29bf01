/* A main() for the fuzz harnesses without libFuzzer: runs
 * LLVMFuzzerTestOneInput once on every file named on the command line, and
 * on every regular file of every directory named (not recursive). Used by
 * `make fuzz-replay-gcc` so the committed corpora and regression inputs run
 * as ordinary tests, with any compiler (e.g. gcc, under ASan/UBSan or
 * valgrind). Exit status 0 if every input ran (a violated invariant aborts;
 * an input using more than FUZZ_REPLAY_TIMEOUT CPU seconds, default 60,
 * is stopped and named).
 *
 * Built with -DFUZZ_REPLAY_NAME='"fuzz_x"' and run without arguments, it
 * replays fuzz/corpus/fuzz_x and fuzz/regressions/fuzz_x (if present),
 * relative to the working directory (the repository root in `make test`).
 *
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness: called once before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* The input being run, named if it crashes. */
static const char *g_current;
/* CPU seconds one input may take (FUZZ_REPLAY_TIMEOUT, default 60; 0:
 * none): a hang is a failure too. CPU time, not wall time, so a loaded
 * machine does not make a slow input fail. */
static unsigned g_timeout = 60;

static void set_timer(unsigned seconds)
{
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = seconds;
    setitimer(ITIMER_PROF, &it, NULL);
}

static void on_crash(int sig)
{
    static const char msg[] = "\nfuzz replay: crashed on input ";
    static const char slow[] = "\nfuzz replay: timeout (FUZZ_REPLAY_TIMEOUT s)";
    if (sig == SIGPROF)
        (void)!write(2, slow, sizeof slow - 1);
    if (g_current) {
        (void)!write(2, msg, sizeof msg - 1);
        (void)!write(2, g_current, strlen(g_current));
        (void)!write(2, "\n", 1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Under the sanitizers, abort() on an error (instead of _exit) so that the
 * SIGABRT handler names the input. Read by the sanitizer runtimes; unused
 * otherwise. UBSAN_OPTIONS / ASAN_OPTIONS still override. */
const char *__ubsan_default_options(void);
const char *__asan_default_options(void);
const char *__ubsan_default_options(void) { return "abort_on_error=1:print_stacktrace=1"; }
const char *__asan_default_options(void) { return "abort_on_error=1"; }

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            fprintf(stderr, "%s: out of memory\n", path);
            return 1;
        }
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                continue;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        return 1;
    }
    /* a copy of exactly len bytes, so reads past the end are caught */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return 1;
    }
    memcpy(exact, buf, len);
    free(buf);
    g_current = path;
    set_timer(g_timeout);
    LLVMFuzzerTestOneInput(exact, len);
    set_timer(0);
    g_current = NULL;
    free(exact);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    signal(SIGABRT, on_crash);
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGILL, on_crash);
    signal(SIGPROF, on_crash);
    const char *to = getenv("FUZZ_REPLAY_TIMEOUT");
    if (to && *to)
        g_timeout = (unsigned)strtoul(to, NULL, 10);
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int failed = 0, ran = 0;
#ifdef FUZZ_REPLAY_NAME
    char *defaults[3];
    struct stat dst;
    if (argc == 1) {
        static char corpus[] = "fuzz/corpus/" FUZZ_REPLAY_NAME;
        static char regressions[] = "fuzz/regressions/" FUZZ_REPLAY_NAME;
        defaults[0] = argv[0];
        defaults[1] = corpus;
        argc = 2;
        if (stat(regressions, &dst) == 0 && S_ISDIR(dst.st_mode))
            defaults[argc++] = regressions;
        argv = defaults;
    }
#endif
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            failed++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            failed += run_file(argv[i]);
            ran++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            perror(argv[i]);
            failed++;
            continue;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                char **nn = realloc(names, cap * sizeof *names);
                if (!nn)
                    break;
                names = nn;
            }
            size_t l = strlen(argv[i]) + strlen(e->d_name) + 2;
            names[n] = malloc(l);
            if (!names[n])
                break;
            snprintf(names[n], l, "%s/%s", argv[i], e->d_name);
            n++;
        }
        closedir(d);
        qsort(names, n, sizeof *names, cmp);
        for (size_t k = 0; k < n; k++) {
            if (stat(names[k], &st) == 0 && S_ISREG(st.st_mode)) {
                failed += run_file(names[k]);
                ran++;
            }
            free(names[k]);
        }
        free(names);
    }
    printf("%s: %d inputs run, %d could not be read\n", argv[0], ran, failed);
    return failed ? 1 : 0;
}
