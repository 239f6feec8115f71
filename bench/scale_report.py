#!/usr/bin/python3
"""The figures of bench/scale_proof.sh from its samples: CPU (seconds and % of a core over the
measured window, after the warm-up) and RSS (peak, final) of every process, events stored per
second, storage growth per day and the broker's RSS growth per hour (least-squares slopes over the
samples after the warm-up), the latency percentiles of the probe, and the load average. Prints a
readable summary on stderr and BENCH rows (bench/README.md) on stdout, each beside the platform
report's claim where it makes one.

usage: scale_report.py SAMPLES LATENCIES WARMUP_S MACHINES POLL_MS
"""
import collections
import os
import sys

TICKS = os.sysconf("SC_CLK_TCK")
# The report's claims (docs/operations.md, "Scale"): % of a core, MB.
CPU_CLAIM = {"edge": "< 50", "mosquitto": "< 60", "server": "< 80"}
RSS_CLAIM = {"edge": "< 2048"}


def slope(points):
    """Least-squares slope of (x, y) points."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


def row(name, ours, unit, better, goal):
    print(f"BENCH\tscale: {name}\t{ours:.2f}\t{unit}\t-\t-\t{better}\t{goal}")


def main():
    samples, latencies, warmup_s, machines, poll_ms = (sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                                                       int(sys.argv[5]))
    procs = collections.defaultdict(list)  # name -> [(t, ticks, rss_kb, hwm_kb)]
    plant = []  # (t, load, data_bytes, stored)
    for line in open(samples):
        f = line.split()
        if f[1] == "plant":
            plant.append((int(f[0]), float(f[2]), int(f[3]), int(float(f[4])) if len(f) > 4 else 0))
        else:
            procs[f[1]].append((int(f[0]), int(f[2]), int(f[3]), int(f[4])))
    steady = [p for p in plant if p[0] >= warmup_s]
    t0, t1 = steady[0][0], steady[-1][0]
    window = t1 - t0
    err = sys.stderr
    print(f"\nscale proof: {machines} machines, {machines * 100} tags; figures over {window} s after a "
          f"{warmup_s} s warm-up", file=err)
    loads = [p[1] for p in plant]
    print(f"load average (1 min) during the run: min {min(loads):.2f}, mean {sum(loads) / len(loads):.2f}, "
          f"max {max(loads):.2f} (2 cores, shared: every figure below is contaminated by it)", file=err)

    print(f"{'process':<14} {'CPU s':>8} {'% core':>7} {'peak RSS MB':>12} {'final RSS MB':>13}", file=err)
    worst = {}
    for name, pts in procs.items():
        a = next(p for p in pts if p[0] >= t0)
        b = pts[-1]
        cpu_s = (b[1] - a[1]) / TICKS
        pct = 100 * cpu_s / window
        peak, final = max(p[3] for p in pts) / 1024, b[2] / 1024
        print(f"{name:<14} {cpu_s:>8.1f} {pct:>7.1f} {peak:>12.1f} {final:>13.1f}", file=err)
        kind = name.split("-")[0]
        w = worst.setdefault(kind, [0.0, 0.0, 0.0, 0])
        w[0], w[1], w[2], w[3] = max(w[0], pct), max(w[1], peak), w[2] + pct, w[3] + 1
    for kind, (pct, peak, total, n) in sorted(worst.items()):
        label = kind if n == 1 else f"{kind} (worst of {n})"
        row(f"CPU of {label} (% of a core)", pct, "%", "lower", CPU_CLAIM.get(kind, "-"))
        row(f"peak RSS of {label} (MB)", peak, "MB", "lower", RSS_CLAIM.get(kind, "-"))
        if n > 1:
            print(f"{kind} x {n}: {total:.1f} % of a core in all", file=err)

    stored = (steady[-1][3] - steady[0][3]) / window
    print(f"events stored: {stored:,.0f}/s ({steady[-1][3]:,} in all)", file=err)
    row("events stored per second", stored, "events/s", "higher", "the plant's rate")

    per_day = slope([(p[0], p[2]) for p in steady]) * 86400 / 1e9
    print(f"storage: {steady[-1][2] / 1e6:,.1f} MB at the end; growth {per_day:.2f} GB/day "
          f"(slope over the window, extrapolated; the report claims < 100 GB/day)", file=err)
    row("storage growth per day (GB)", per_day, "GB/day", "lower", "< 100")

    broker = [(p[0], p[2]) for p in procs["mosquitto"] if p[0] >= t0]
    per_hour = slope(broker) * 3600 / 1024
    print(f"broker RSS: {broker[0][1] / 1024:.1f} MB after the warm-up, {broker[-1][1] / 1024:.1f} MB at the end; "
          f"growth {per_hour:.2f} MB/hour (the report claims < 10 MB/hour)", file=err)
    row("broker RSS growth per hour (MB)", per_hour, "MB/h", "lower", "< 10")

    lines = [l.strip() for l in open(latencies) if l.strip()]
    lost = sum(1 for l in lines if l == "lost")
    ms = [float(l) for l in lines if l != "lost"]
    if not ms:
        sys.exit("scale_report: the probe saw no state change")
    p50, p99 = percentile(ms, 50), percentile(ms, 99)
    print(f"latency PLC change -> WebSocket, {len(ms)} flips ({lost} not seen within 30 s): p50 {p50:.0f} ms, "
          f"p99 {p99:.0f} ms, max {max(ms):.0f} ms (the edge polls every {poll_ms} ms)", file=err)
    row("latency PLC change to API p50 (ms)", p50, "ms", "lower", f"<= {poll_ms} + 1000")
    row("latency PLC change to API p99 (ms)", p99, "ms", "lower", f"<= {poll_ms} + 2000")
    if lost:
        sys.exit(f"scale_report: {lost} state changes never reached the API")


if __name__ == "__main__":
    main()
