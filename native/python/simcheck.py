"""Simulated against measured, on this machine: the table issue 6 asks for.

Usage: python3 native/python/simcheck.py [GIL_LAB] [--reps K] [--python]

Runs `gil-lab run` (K times, median wall) and `gil-lab simulate` at the same parameters for the
CPU scenarios (n 3000 and 6000; workers 1, 2, 4, 8) and io-threads, then prints wall times,
GIL hand-offs and the errors. With --python it also compares `simulate --pace cpython` with
CPython's own programs (`simulate --compare`). Run `gil-lab calibrate [--python]` first; both use
the same cache (XDG_CACHE_HOME). Prints the 1-minute load average, since a busy machine makes
every real timing slower.
"""
import json
import os
import statistics
import subprocess
import sys


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def report(exe, args):
    out = subprocess.run([exe, *args, "--json", "-"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def real(exe, scenario, params, reps):
    runs = [report(exe, ["run", scenario, *params, "--quiet"]) for _ in range(reps)]
    runs.sort(key=lambda r: r["wall_us"])
    mid = runs[len(runs) // 2]
    return mid["wall_us"], (mid.get("gil") or {}).get("switches")


def simulated(exe, scenario, params):
    r = report(exe, ["simulate", scenario, *params])
    return r["wall_us"], (r.get("gil") or {}).get("switches")


def pct(measured, simulated):
    if not measured:
        return "-"
    return f"{(simulated - measured) / measured * 100:+.1f} %"


def main():
    argv = sys.argv[1:]
    exe = "target/release/gil-lab"
    if argv and not argv[0].startswith("--"):
        exe = argv.pop(0)
    reps = int(argv[argv.index("--reps") + 1]) if "--reps" in argv else 3
    cases = []
    for n in (3000, 6000):
        cases.append(("cpu-sequential", ["--n", str(n)]))
        for scenario in ("cpu-threads", "cpu-threads-free", "cpu-processes", "cpu-pool"):
            for w in (1, 2, 4, 8):
                cases.append((scenario, ["--n", str(n), "--workers", str(w)]))
    cases.append(("io-threads", []))
    print(f"load average before: {load():.2f}")
    rows, worst = [], 0.0
    for scenario, params in cases:
        mw, ms = real(exe, scenario, params, reps)
        sw, ss = simulated(exe, scenario, params)
        err = (sw - mw) / mw * 100
        worst = max(worst, abs(err))
        rows.append((scenario, " ".join(params), mw, sw, pct(mw, sw), ms, ss,
                     pct(ms, ss) if ms else "-"))
        print(f"  {scenario} {' '.join(params)}: measured {mw / 1e3:.1f} ms, simulated {sw / 1e3:.1f} ms ({err:+.1f} %)",
              file=sys.stderr)
    print(f"load average after: {load():.2f}")
    print()
    print("| scenario | parameters | measured wall | simulated wall | error | measured hand-offs | simulated hand-offs | error |")
    print("|---|---|---|---|---|---|---|---|")
    for s, p, mw, sw, e, ms, ss, es in rows:
        print(f"| {s} | {p} | {mw / 1e3:.1f} ms | {sw / 1e3:.1f} ms | {e} | {ms if ms is not None else '-'} | {ss if ss is not None else '-'} | {es} |")
    print(f"\nlargest wall-time error: {worst:.1f} %")

    print("\nConvoy (medians of one 1 ms blocking call):\n")
    print("| | measured | simulated | error |")
    print("|---|---|---|---|")
    real_c = report(exe, ["run", "convoy", "--quiet"]).get("convoy") or {}
    sim_c = report(exe, ["simulate", "convoy"]).get("convoy") or {}
    for key, words in (("alone_us", "alone"), ("beside_us", "beside a CPU-bound thread")):
        m, s_ = real_c.get(key), sim_c.get(key)
        if m and s_:
            print(f"| {words} | {m / 1e3:.2f} ms | {s_ / 1e3:.2f} ms | {pct(m, s_)} |")

    if "--python" in argv:
        print("\nCPython pace (`simulate --compare --pace cpython`):\n")
        print("| scenario | parameters | CPython wall | simulated wall | error |")
        print("|---|---|---|---|---|")
        for scenario, params in [
            ("cpu-sequential", ["--n", "3000"]),
            ("cpu-threads", ["--n", "3000"]),
            ("cpu-processes", ["--n", "3000"]),
            ("cpu-pool", ["--n", "3000"]),
        ]:
            out = subprocess.run([exe, "simulate", scenario, *params, "--pace", "cpython", "--compare"],
                                 capture_output=True, text=True, check=True).stdout
            line = next(l for l in out.splitlines() if l.startswith("wall time"))
            parts = line.split()
            # wall time <measured> <unit> <simulated> <unit> <error> %
            print(f"| {scenario} | {' '.join(params)} | {parts[2]} {parts[3]} | {parts[4]} {parts[5]} | {parts[6]} % |")


if __name__ == "__main__":
    main()
