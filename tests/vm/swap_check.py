#!/usr/bin/env python3
"""Swap under load, in two steps.

    swap_check.py swap  --ioguard BIN --allow FILE --deny FILE --swaps N --out LOADS
                        [--pause-ms MS]
    swap_check.py judge --loads LOADS --log HAMMER_LOG [--min-judged N]

`swap` alternately loads the denying and the allowing policy N times (the allowing one
is expected in force before it starts) and records each load as "START_NS END_NS
ALLOWS" (CLOCK_MONOTONIC). `judge` reads the hammer log, one map per line as "START_NS
END_NS ERRNO", and judges every map that lies entirely between the end of one load and
the start of the next: that policy alone was in force, so the map must succeed under
the allowing policy and fail with EPERM under the denying one. A map overlapping a load
is not judged (the flip happened during it). Exit 1 on any wrong decision.
"""
import argparse
import subprocess
import sys
import time

EPERM = 1


def swap(args):
    with open(args.out, "w") as out:
        for i in range(args.swaps):
            allows = i % 2 == 1
            start = time.monotonic_ns()
            r = subprocess.run([args.ioguard, "load", args.allow if allows else args.deny],
                               capture_output=True, text=True)
            end = time.monotonic_ns()
            if r.returncode:
                print(f"FAIL: swap {i} failed: {r.stderr.strip()}")
                return 1
            out.write(f"{start} {end} {int(allows)}\n")
            # Each policy stays alone in force for a while, so that maps can be judged.
            time.sleep(args.pause_ms / 1000)
    return 0


def judge(args):
    with open(args.loads) as f:
        loads = [tuple(int(x) for x in line.split()) for line in f]
    with open(args.log) as f:
        maps = [tuple(int(x) for x in line.split()) for line in f]
    # Periods with one policy alone in force: from the end of a load to the next start.
    periods = [(e, loads[i + 1][0] if i + 1 < len(loads) else 1 << 63, bool(a))
               for i, (s, e, a) in enumerate(loads)]
    judged = wrong = 0
    allowed = denied = 0
    j = 0
    for t0, t1, rc in maps:
        while j < len(periods) and periods[j][1] <= t0:
            j += 1
        if j == len(periods) or not (periods[j][0] <= t0 and t1 <= periods[j][1]):
            continue
        judged += 1
        allows = periods[j][2]
        allowed += rc == 0
        denied += rc == EPERM
        if (allows and rc != 0) or (not allows and rc != EPERM):
            wrong += 1
            if wrong <= 5:
                print(f"wrong: map [{t0}, {t1}] returned errno {rc} under the "
                      f"{'allowing' if allows else 'denying'} policy")
    mean_load = sum(e - s for s, e, _ in loads) / max(len(loads), 1) / 1e6
    print(f"swaps {len(loads)} (mean load {mean_load:.1f} ms); maps {len(maps)}, judged "
          f"{judged} ({allowed} allowed, {denied} denied), unjudged {len(maps) - judged}, "
          f"wrong {wrong}")
    if judged < args.min_judged:
        print(f"FAIL: only {judged} maps could be judged (want {args.min_judged})")
        return 1
    return 1 if wrong else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("swap")
    s.add_argument("--ioguard", required=True)
    s.add_argument("--allow", required=True)
    s.add_argument("--deny", required=True)
    s.add_argument("--swaps", type=int, default=100)
    s.add_argument("--out", required=True)
    s.add_argument("--pause-ms", type=int, default=30)
    j = sub.add_parser("judge")
    j.add_argument("--loads", required=True)
    j.add_argument("--log", required=True)
    j.add_argument("--min-judged", type=int, default=100)
    args = ap.parse_args()
    return swap(args) if args.cmd == "swap" else judge(args)


if __name__ == "__main__":
    sys.exit(main())
