"""CPython side of `gil-lab calibrate --python`: what CPython costs on this machine.

Usage: python3 calibrate.py CORES GRID MAX_I PASSES ; prints one JSON object on stdout.
GRID is a comma-separated list of i values (the Rust side's `STEP_GRID`) at which the
sum_powers loop, run up to MAX_I, is timed; PASSES runs of it give medians. Plain
standard-library Python, so it runs anywhere.
"""
import hashlib
import json
import multiprocessing as mp
import pickle
import queue
import select
import statistics
import sys
import threading
import time

counter = 0


def one():
    return 1


def plain(k):
    global counter
    for _ in range(k):
        counter += 1


def in_call(k):
    global counter
    for _ in range(k):
        counter += one()


LOCK = threading.Lock()


def locked(k):
    global counter
    for _ in range(k):
        with LOCK:
            counter += one()


def sum_powers(n):
    total = 0
    for i in range(n):
        total = total + i ** i
    return total


def steps(grid, max_i, passes):
    """ns per `total = total + i**i` as the loop runs: time stamps at the grid points, the
    median over the passes of the mean step cost between two of them, at their middle."""
    bounds = [i for i in grid if i <= max_i] + [max_i]
    blocks = [[] for _ in bounds[1:]]
    for _ in range(passes):
        total = 0
        t = time.perf_counter_ns()
        for k in range(len(bounds) - 1):
            lo, hi = bounds[k], bounds[k + 1]
            if hi <= lo:
                continue
            for i in range(lo, hi):
                total = total + i ** i
            now = time.perf_counter_ns()
            blocks[k].append((now - t) / (hi - lo))
            t = now
    return [[(bounds[k] + bounds[k + 1]) // 2, median(b)] for k, b in enumerate(blocks) if b]


def per_call_us(fn, k):
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        fn(k)
        times.append(time.perf_counter() - t0)
    return median(times) / k * 1e6


def median(xs):
    return statistics.median(xs)


def thread_start_us(rounds=200):
    samples = []
    for _ in range(rounds):
        t = threading.Thread(target=one)
        t0 = time.perf_counter()
        t.start()
        samples.append((time.perf_counter() - t0) * 1e6)
        t.join()
    return median(samples)


def queue_get_us(k=20000):
    q = queue.Queue()
    for x in range(k):
        q.put(x)
    t0 = time.perf_counter()
    for _ in range(k):
        q.get()
    return (time.perf_counter() - t0) / k * 1e6


def sha256_ns_per_byte(mib=16):
    """hashlib.sha256 over the hash demo's buffer (byte i is i % 251), median of five."""
    data = (bytes(range(251)) * (((mib << 20) // 251) + 1))[: mib << 20]
    times = []
    for _ in range(5):
        t = time.perf_counter_ns()
        hashlib.sha256(data).digest()
        times.append((time.perf_counter_ns() - t) / len(data))
    return statistics.median(times)


def call_us(k=20000):
    """A blocking call's own cost without its wait: `select` with a zero timeout releases and
    retakes the GIL like any blocking call, and returns at once (`time.sleep(0)` would add
    the kernel's timer slack)."""
    t0 = time.perf_counter()
    for _ in range(k):
        select.select([], [], [], 0)
    return (time.perf_counter() - t0) / k * 1e6


def ready(conn):
    conn.send(1)
    conn.close()


def process_cost(method, rounds):
    """(parent_us, child_us, exit_us) medians: p.start(), start() to the target running,
    the target's end to join() returning."""
    ctx = mp.get_context(method)
    parent, child, exit_ = [], [], []
    for r in range(rounds + 1):
        rx, tx = ctx.Pipe(duplex=False)
        p = ctx.Process(target=ready, args=(tx,))
        t0 = time.perf_counter()
        p.start()
        t1 = time.perf_counter()
        rx.recv()
        t2 = time.perf_counter()
        p.join()
        t3 = time.perf_counter()
        tx.close()
        rx.close()
        if r == 0:
            continue  # the first forkserver start also starts its server
        parent.append((t1 - t0) * 1e6)
        child.append((t2 - t1) * 1e6)
        exit_.append((t3 - t2) * 1e6)
    return {"parent_us": median(parent), "child_us": median(child), "exit_us": median(exit_)}


def pool_us(method, rounds):
    ctx = mp.get_context(method)
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        with ctx.Pool(4) as pool:
            pool.map(one_arg, range(8))
        samples.append((time.perf_counter() - t0) * 1e6)
    return median(samples)


def one_arg(_x):
    return 1


def pool_task_us():
    """Per chunk of one no-op task handed to a warm pool and answered."""
    ctx = mp.get_context("fork")
    with ctx.Pool(2) as pool:
        pool.map(one_arg, range(50), chunksize=1)
        t0 = time.perf_counter()
        pool.map(one_arg, range(2000), chunksize=1)
        many = time.perf_counter() - t0
    return many / 2000 * 1e6


def result_us():
    big = sum_powers(3000)
    t0 = time.perf_counter()
    for _ in range(50):
        pickle.loads(pickle.dumps(big))
    return (time.perf_counter() - t0) / 50 * 1e6


def timed_sum(args):
    n, out = args
    t0 = time.perf_counter()
    sum_powers(n)
    out.put(time.perf_counter() - t0)


def efficiency(cores, n=2600):
    """Mean seconds of one sum_powers(n) when k copies run at once in k processes, k = 1..cores:
    three rounds of k = 1, 2, ... in turn, the median per k."""
    ctx = mp.get_context("fork")
    per_k = [[] for _ in range(cores)]
    for _ in range(3):
        for k in range(1, cores + 1):
            q = ctx.Queue()
            procs = [ctx.Process(target=timed_sum, args=((n, q),)) for _ in range(k)]
            for p in procs:
                p.start()
            times = [q.get() for _ in procs]
            for p in procs:
                p.join()
            per_k[k - 1].append(sum(times) / len(times))
    return [median(t) for t in per_k]


def main():
    cores = int(sys.argv[1])
    grid = [int(x) for x in sys.argv[2].split(",")]
    max_i, passes = int(sys.argv[3]), int(sys.argv[4])
    out = {"python": sys.version.split()[0]}
    out["steps"] = steps(grid, max_i, passes)
    out["counter_us"] = [per_call_us(f, 300000) for f in (plain, in_call, locked)]
    out["queue_get_us"] = queue_get_us()
    out["call_us"] = call_us()
    out["sha256_ns_per_byte"] = sha256_ns_per_byte()
    out["thread_start_us"] = thread_start_us()
    out["process"] = {m: process_cost(m, 5 if m == "spawn" else 15) for m in ("fork", "spawn", "forkserver")}
    out["pool_us"] = {m: pool_us(m, 3 if m == "spawn" else 5) for m in ("fork", "spawn", "forkserver")}
    out["pool_task_us"] = pool_task_us()
    out["result_us"] = result_us()
    out["efficiency_s"] = efficiency(cores)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
