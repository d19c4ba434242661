"""The race across CPython versions, against the lab, on this machine.

Usage: python3 native/python/race_versions.py [GIL_LAB] [--increments K] [--runs R]

For every CPython that pyenv has (3.6 and later), runs 4 threads x K plain `counter += 1`
and 4 threads x K `counter += one()`, R times each, and counts the lost updates. Then runs
`gil-lab run race --python V` for the versions the lab models (3.9 stands for 3.9 and older)
at the same size and prints both side by side. This script runs itself under each version
with --child, so it only uses what Python 3.6 has.
"""
import json
import os
import subprocess
import sys
import threading

WORKERS = 4


def one():
    return 1


def race(style, k):
    counter = 0

    def plain():
        nonlocal counter
        for _ in range(k):
            counter += 1

    def call():
        nonlocal counter
        for _ in range(k):
            counter += one()

    threads = [threading.Thread(target=plain if style == "plain" else call) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return WORKERS * k - counter


def child(k, runs):
    # A module global, as the lesson writes it, is what the lab models; `nonlocal` compiles to
    # the same load / add / store with a check point between only before 3.10.
    out = {
        "version": "%d.%d" % sys.version_info[:2],
        "plain": [race("plain", k) for _ in range(runs)],
        "call": [race("call", k) for _ in range(runs)],
    }
    print(json.dumps(out))


def pythons():
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    found = []
    for name in sorted(os.listdir(os.path.join(root, "versions"))):
        parts = name.split(".")
        if len(parts) >= 2 and parts[0] == "3" and int(parts[1]) >= 6:
            found.append((int(parts[1]), os.path.join(root, "versions", name, "bin", "python3")))
    return [exe for _, exe in sorted(found)]


def lab(exe, version, k):
    out = subprocess.run(
        [exe, "run", "race", "--python", version, "--increments", str(k), "--json", "-", "-q"],
        capture_output=True, text=True, check=True,
    )
    cases = {c["case"]: c["lost"] for c in json.loads(out.stdout)["counters"]}
    return cases["threads, plain loop, GIL"], cases["threads, call inside the update, GIL"]


def main():
    args = sys.argv[1:]
    k = int(args[args.index("--increments") + 1]) if "--increments" in args else 1_000_000
    runs = int(args[args.index("--runs") + 1]) if "--runs" in args else 3
    if "--child" in args:
        child(k, runs)
        return
    exe = next((a for a in args if not a.startswith("--") and not a.isdigit()), "target/release/gil-lab")
    print("%-8s %-34s %-34s %s" % ("python", "CPython plain lost (each run)", "CPython one() lost", "lab plain / one() lost"))
    for py in pythons():
        out = subprocess.run([py, __file__, "--child", "--increments", str(k), "--runs", str(runs)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        minor = int(r["version"].split(".")[1])
        modelled = "3.9" if minor <= 9 else r["version"]
        plain, call = lab(exe, modelled, k)
        print("%-8s %-34s %-34s %s (as %s)" % (r["version"], r["plain"], r["call"], "%d / %d" % (plain, call), modelled))


if __name__ == "__main__":
    main()
