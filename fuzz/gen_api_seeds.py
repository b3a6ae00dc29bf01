#!/usr/bin/env python3
"""Writes the hand-made seed programs of fuzz_api into fuzz/corpus/fuzz_api/.

The byte format is the one fuzz/fuzz_api.c reads: byte 0 picks the options,
then opcode bytes (index into ops[] of fuzz_api.c, modulo its length) each
followed by its operands. Keep the opcode numbers below in step with ops[].

    python3 fuzz/gen_api_seeds.py [DIR]
"""
import os
import struct
import sys

PUSH, BATCH, DECIDE, REWARD, FORGET, SETTLE, SAVE, LOAD, SCORES, EXPLAIN, \
    EXPIRE, CONTRIB, LOG, ARM, HAZARD, JUMP = 0, 3, 4, 7, 9, 10, 11, 12, 13, \
    14, 15, 16, 17, 18, 19, 20

# event types
SESSION_START, SESSION_END, DWELL, SCROLL, HOVER, READING, LATENCY, CLICK, \
    RAGE, DEAD, BACKTRACK, UNDO, ERROR, FORM_START, FORM_SUBMIT, FORM_ABANDON, \
    TAB_HIDDEN, TAB_VISIBLE, MEDIA_PAUSE, MEDIA_RESUME, EXPOSURE, DISMISS, \
    MICRO, CONVERSION, CONSENT, OPT_OUT, CUSTOM = range(1, 28)

N_POINTS = 10  # cta banner lin lints gts klucb eps soft nosafe wide


def push(t, user, flags=0, dt=10, value=64, target=1, channel=1):
    return bytes([PUSH, t, user, flags, dt, value, target, channel])


def decide(point, user, flags=0, inel=0, cb=0x55, uo=0, channel=1, dt=20, dim=0):
    return bytes([DECIDE, point, user, flags, inel, cb, uo, channel, dt, dim])


def reward(sel=0, value=127, dt=5):
    return bytes([REWARD, sel, value, dt])


def session(users):
    out = b""
    for u in users:
        out += push(SESSION_START, u)
        out += push(DWELL, u, value=100)
        out += push(LATENCY, u, value=30)
        out += push(READING, u, value=40)
        out += push(SCROLL, u, value=90)
        out += push(CLICK, u, value=10, target=2)
    return out


def seeds():
    s = {}
    p = session(range(4))
    for u in range(4):
        for pt in range(N_POINTS):
            p += decide(pt, u)
            if (u + pt) % 2 == 0:
                p += reward(0, 100 + u)
    p += bytes([SAVE, 0, 3]) + bytes([SCORES, 1, 10]) + bytes([EXPLAIN, 0, 40])
    p += bytes([LOG, 7]) + bytes([ARM, 0, 0]) + bytes([HAZARD, 30])
    p += bytes([SETTLE, 245]) + bytes([CONTRIB, 2, 0, 17]) + bytes([LOAD, 0, 0, 0, 0, 0])
    s["basic"] = bytes([0x00]) + p

    # rewards through events: conversions, dismissals, rage clicks, dwell
    p = session(range(3))
    for u in range(3):
        for pt in (0, 4, 5, 6):
            p += decide(pt, u)
        p += push(DISMISS, u, dt=30)
        p += push(MICRO, u, dt=30)
        for _ in range(4):
            p += push(CLICK, u, dt=40, value=5, target=3)
        p += push(CONVERSION, u, dt=30, value=50)
        p += push(DWELL, u, dt=30, value=120)
    p += bytes([SETTLE, 249]) + bytes([LOG, 7]) + bytes([ARM, 5, 1])
    s["implicit-rewards"] = bytes([0x02]) + p

    # consent required: events without consent dropped, consent events,
    # opt-out, decisions without consent
    p = b""
    p += push(CONSENT, 0, flags=0x40, value=1)     # CONSENT event, value 1
    p += push(CLICK, 0, flags=0x40, value=10)      # no CONSENT flag: dropped
    p += push(CLICK, 1, flags=0x04, value=10)      # NO_CONSENT: dropped
    p += push(SESSION_START, 2)
    p += decide(0, 2) + decide(0, 3, flags=0x01) + decide(1, 2, flags=0x02)
    p += push(CONSENT, 2, value=0)                 # withdrawn: erased
    p += push(OPT_OUT, 0)
    p += bytes([SCORES, 2, 10]) + bytes([FORGET, 0x83]) + bytes([LOG, 7])
    s["consent"] = bytes([0x08]) + p

    # a small table with a short TTL: eviction, expiry, forget
    p = b""
    for u in range(10):
        p += push(SESSION_START, u) + push(CLICK, u, value=20)
        p += decide(0, u)
    p += bytes([JUMP, 20]) + bytes([EXPIRE, 10]) + bytes([FORGET, 3])
    p += bytes([FORGET, 0x84]) + decide(1, 9) + bytes([EXPIRE, 0])
    s["evict-expire"] = bytes([0x10]) + p

    # a full pending buffer: early settlement, stale ids, repeated rewards
    p = session([0, 1])
    for i in range(12):
        p += decide(i % 4, i % 2)
    for sel in range(6):
        p += reward(sel, 127)
    p += reward(210, 64) + reward(240, 64) + struct.pack("<Q", 12345)
    p += bytes([SETTLE, 100, SETTLE, 249, LOG, 7])
    s["pending-full"] = bytes([0x00]) + p

    # snapshots: save, mutate, load damaged and intact copies
    p = session(range(5))
    for pt in range(N_POINTS):
        p += decide(pt, pt % 5)
    p += bytes([SAVE, 0, 0]) + decide(0, 1) + reward(0, 127)
    p += bytes([SAVE, 1, 9])
    p += bytes([LOAD, 0, 1, 10, 0, 4])    # flipped byte
    p += bytes([LOAD, 1, 2, 0x40, 0, 0])  # truncated
    p += bytes([LOAD, 0, 0, 0, 0, 0])     # intact, older
    p += bytes([LOAD, 1, 3, 99, 0, 7])
    p += decide(2, 0) + decide(3, 1)
    s["snapshots"] = bytes([0x05]) + p

    # invalid arguments on purpose
    p = b""
    p += push(0, 0) + push(28, 1) + push(31, 2)             # bad types
    p += push(DWELL, 0, value=200) + push(DWELL, 0, value=201)  # NaN, inf
    p += push(SCROLL, 0, value=132) + push(READING, 0, value=138)
    p += push(CLICK, 0, flags=0x30)                          # pseudonym 0
    p += push(CLICK, 0, flags=0xC0)                          # unknown flag
    p += push(CLICK, 0, dt=250) + push(CLICK, 0, dt=251)     # bad times
    p += push(CLICK, 0, channel=255)
    p += decide(N_POINTS, 0) + decide(0xFF, 0) + decide(0, 0, inel=0xFF)
    p += decide(2, 0, dim=201) + decide(2, 0, cb=0xF0) + decide(0, 0, uo=0x7F)
    p += decide(0, 0, flags=0x81) + decide(0, 0, flags=0x60) + decide(0, 0, flags=0x18)
    p += reward(0, 200) + reward(240, 10) + struct.pack("<Q", 0)
    p += bytes([SCORES, 0, 252]) + bytes([HAZARD, 255]) + bytes([EXPLAIN, 130, 50, 7, 9])
    p += bytes([CONTRIB, 0, 5, 3]) + bytes([ARM, 0, 65]) + bytes([SETTLE, 250])
    s["invalid"] = bytes([0x00]) + p

    # safety: min gap, frequency caps, errors and forms, quiet hours
    p = session([0])
    p += push(ERROR, 0) + decide(0, 0) + decide(8, 0) + decide(8, 0, dt=1)
    p += push(FORM_START, 0) + decide(1, 0) + decide(9, 0) + decide(9, 0)
    p += decide(0, 0, uo=0x40) + push(FORM_SUBMIT, 0)
    for i in range(6):
        p += decide(9, 0, inel=i) + decide(1, 0)
    p += bytes([EXPLAIN, 0, 17, EXPLAIN, 140, 20, 3, 200, EXPLAIN, 132, 5, 1, 99])
    s["safety"] = bytes([0x00]) + p

    # four stripes, pseudonym requests, batches
    p = b""
    p += bytes([BATCH, 4]) + push(SESSION_START, 0)[1:] + push(CLICK, 1)[1:] \
        + push(DWELL, 2, value=90)[1:] + push(HOVER, 3, value=70)[1:] \
        + push(TAB_HIDDEN, 4)[1:]
    p += bytes([BATCH, 2]) + push(CLICK, 5)[1:] + push(0, 6)[1:]
    for u in range(8):
        p += decide(u % N_POINTS, u, flags=0x08)
    p += bytes([SAVE, 1, 1, LOAD, 1, 0, 0, 0, 0])
    s["stripes-batch"] = bytes([0x07]) + p
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "fuzz_api")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
        print("  seed-%-20s %5d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
