#!/usr/bin/python3
"""The end check of bench/scale_proof.sh: the server's KPIs must be sane, else the bench fails.
Every machine of the plant is live (not no_data), has parts counted since the start (total_count > 0,
an OEE between 0 and 1) and process values stored (one of its sample tags has readings); nothing
was dead-lettered.

usage: scale_check.py HTTP_PORT MACHINES_FILE FROM_MS   (token in OEE_ADMIN_TOKEN)
"""
import http.client
import json
import os
import sys
import time
import urllib.parse


def main():
    port, machines_file, from_ms = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    machines = [l.strip() for l in open(machines_file) if l.strip()]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": "Bearer " + os.environ["OEE_ADMIN_TOKEN"]}

    def get(path, **query):
        while True:
            conn.request("GET", path + ("?" + urllib.parse.urlencode(query) if query else ""), headers=headers)
            r = conn.getresponse()
            body = r.read()
            if r.status != 429:
                break
            time.sleep(float(r.getheader("Retry-After", "1")))  # the API's rate limit: as a client should
        if r.status != 200:
            sys.exit(f"scale_check: GET {path} {query}: HTTP {r.status} {body[:200]!r}")
        return json.loads(body)

    problems = []
    plant = get("/api/v1/plant")
    live = {m["path"]: m for s in plant["sites"] for a in s["areas"] for l in a["lines"] for m in l["machines"]}
    if sorted(live) != sorted(machines):
        problems.append(f"the plant has {len(live)} machines, expected {len(machines)}")
    problems += [f"{p}: no data" for p, m in live.items() if m.get("no_data")]
    to_ms = int(time.time() * 1000)
    counted, oees = 0, []
    for path in machines:
        k = get("/api/v1/kpis", node=path, **{"from": from_ms, "to": to_ms})
        if not k.get("total_count"):
            problems.append(f"{path}: no parts counted")
        elif k.get("oee") is None or not 0 < k["oee"] <= 1:
            problems.append(f"{path}: OEE {k.get('oee')}")
        else:
            counted += 1
            oees.append(k["oee"])
    # Process values: one sample tag of the first and the last machine.
    for path in (machines[0], machines[-1]):
        buckets = get("/api/v1/tags", machine=path, tag="sample.v00", **{"from": from_ms, "to": to_ms, "bucket_s": 3600})
        if not sum(b.get("samples", 0) for b in buckets.get("buckets", buckets if isinstance(buckets, list) else [])):
            problems.append(f"{path}: no readings of sample.v00")
    dead = get("/api/v1/dead-letters", limit=1)
    if dead["total"]:
        problems.append(f"{dead['total']} dead letters, the newest: {dead['items'][0]['reason']}")
    print(f"check: {counted} of {len(machines)} machines with parts counted and an OEE in (0, 1] "
          f"(min {min(oees, default=0):.3f}, max {max(oees, default=0):.3f}); dead letters {dead['total']}",
          file=sys.stderr)
    # The whole plant's window computes every event since the run's start that no settled hour
    # covers (a window starting mid-hour): minutes on a loaded 2-core machine, so a longer wait.
    conn.timeout = 600
    conn.close()
    plant_kpi = get("/api/v1/kpis", **{"from": from_ms, "to": to_ms})
    print(f"check: plant OEE {plant_kpi.get('oee')}, {plant_kpi.get('total_count'):,} parts, "
          f"{plant_kpi.get('stop_count')} stops", file=sys.stderr)
    if problems:
        print("\n".join(["scale_check: the KPIs are not sane:"] + problems[:20]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
