#!/usr/bin/env python3
"""Checks an `ioguard trace --json` stream against what a lab workload did.

    check_events.py TRACE --workload RESULT.json --expect type1|iommufd|claim-refused

RESULT.json is the line vfio_workload printed (pid, group, bdf, iova, pages, ...).
Every assertion names what was expected and what the trace held; exit 1 on the first
failed one. The trace must come from fentry mode: the lab kernels allow it.
"""
import argparse
import json
import sys


class CheckFailed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)
    print(f"ok: {what}")


def load_events(path):
    events = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise CheckFailed(f"{path}:{n}: not JSON ({e}): {line[:120]!r}")
    return events


def find(events, **fields):
    return [e for e in events if all(e.get(k) == v for k, v in fields.items())]


def check_maps(events, w):
    pid, group = w["pid"], w["group"]
    page = w["page_size"]
    want = {w["iova"] + i * page for i in range(w["pages"])}
    # The kernel maps on its own too (type1 probes for fine-grained superpages with a
    # map at IOVA 0 when it attaches), so the workload's maps are those at its IOVAs.
    all_maps = find(events, op="map", pid=pid)
    maps = [e for e in all_maps if e["iova"] in want]
    expect(w["maps"] == w["pages"], f"workload mapped all {w['pages']} pages")
    expect(len(maps) == w["pages"],
           f"{w['pages']} map events at the workload's IOVAs (saw {len(maps)})")
    expect(len({e["iova"] for e in maps}) == w["pages"], "each IOVA mapped exactly once")
    print(f"   {len(all_maps) - len(maps)} other map(s) by the same process, made by the kernel")
    expect(all(e["size"] == page for e in maps), f"every map is {page} bytes")
    expect(all(e["ret"] == 0 for e in maps), "every map returned 0")
    expect(all((e["latency_ns"] or 0) > 0 for e in maps), "every map has a latency > 0")
    expect(all(e["group"] == group for e in maps), f"every map names group {group}")
    lat = sorted(e["latency_ns"] for e in maps)
    print(f"   map latency ns: min {lat[0]} median {lat[len(lat) // 2]} max {lat[-1]}")

    unmaps = [e for e in events if e["op"] in ("unmap", "unmap_fast") and e["pid"] == pid]
    covered = {iova for iova in want
               if any(e["iova"] <= iova < e["iova"] + (e["ret"] or 0) for e in unmaps)}
    expect(covered == want,
           f"unmap events ({len(unmaps)}) cover all {len(want)} IOVAs (covered {len(covered)})")


def check_type1(events, w):
    g = w["group"]
    expect(find(events, op="claim_group", group=g, ret=0, pid=w["pid"]),
           f"claim_group of group {g} by the workload succeeded")
    expect(find(events, op="attach_group", group=g, ret=0, pid=w["pid"]),
           f"attach_group of group {g} succeeded")
    check_maps(events, w)
    expect(find(events, op="detach_group", group=g), f"detach_group of group {g} seen")
    expect(find(events, op="release_group", group=g), f"release_group of group {g} seen")


def check_iommufd(events, w):
    g, bdf = w["group"], w["bdf"]
    expect(find(events, op="claim_device", device=bdf, group=g, ret=0, pid=w["pid"]),
           f"claim_device of {bdf} (group {g}) by the workload succeeded")
    expect(find(events, op="attach_group", group=g, ret=0, pid=w["pid"]),
           f"attach_group of group {g} succeeded")
    check_maps(events, w)
    expect(find(events, op="detach_group", group=g), f"detach_group of group {g} seen")
    expect(find(events, op="release_device", device=bdf), f"release_device of {bdf} seen")


def check_claim_refused(events, w):
    g = w["group"]
    refused = [e for e in find(events, op="claim_group", group=g, pid=w["pid"])
               if e["ret"] not in (None, 0)]
    expect(refused, f"a refused claim_group of group {g} is in the trace")
    print(f"   the kernel refused the claim with {refused[0]['ret']}")
    expect(not find(events, op="map", pid=w["pid"]), "no map happened")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--workload", required=True)
    ap.add_argument("--expect", required=True,
                    choices=["type1", "iommufd", "claim-refused"])
    args = ap.parse_args()
    try:
        with open(args.trace + ".stderr") as f:
            stderr = f.read()
        expect("mode fentry" in stderr, "the tracer runs in fentry mode")
        events = load_events(args.trace)
        with open(args.workload) as f:
            w = json.loads(f.read())
        print(f"   {len(events)} events in the trace")
        {"type1": check_type1, "iommufd": check_iommufd,
         "claim-refused": check_claim_refused}[args.expect](events, w)
    except CheckFailed as e:
        print(f"FAIL: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
