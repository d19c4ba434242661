"""CPython side of `gil-lab bench --python`: the lesson's programs, timed the same way.

Usage: python3 bench.py N SKIP_BIG IMAGE_URL... ; prints one JSON object on stdout.
Kept in plain standard-library Python (urllib instead of requests) so it runs anywhere.
"""
import json
import multiprocessing as mp
import os
import queue
import resource
import sys
import tempfile
import threading
import time
import urllib.request


def sum_powers(n):
    total = 0
    for i in range(n):
        total = total + i ** i
    return total


def cpu_now():
    self_ = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    c0, t0 = cpu_now(), time.perf_counter()
    fn()
    return {"wall_s": time.perf_counter() - t0, "cpu_s": cpu_now() - c0}


def threads_run(target, items, workers):
    q = queue.Queue()

    def worker():
        while True:
            item = q.get()
            target(item)
            q.task_done()

    for item in items:
        q.put(item)
    for _ in range(workers):
        threading.Thread(target=worker, daemon=True).start()
    q.join()


def processes_run(n, workers):
    procs = [mp.Process(target=sum_powers, args=(n,)) for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()


def pool_run(n):
    with mp.Pool(4) as pool:
        pool.map(sum_powers, [n] * 8)


def noop():
    pass


def start_cost(method, rounds=10):
    ctx = mp.get_context(method)
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        p = ctx.Process(target=noop)
        p.start()
        p.join()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return samples[len(samples) // 2] * 1000


def download(job, folder):
    k, url = job
    with urllib.request.urlopen(url) as res:
        body = res.read()
    with open(os.path.join(folder, f"{k}.bmp"), "wb") as f:
        f.write(body)


def main():
    n, skip_big, urls = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3:]
    out = {"python": sys.version.split()[0], "n": n}
    if not skip_big:
        out["sum_powers_10000"] = timed(lambda: sum_powers(10000))
    out["sum_powers_n"] = timed(lambda: sum_powers(n))
    out["cpu-sequential"] = timed(lambda: [sum_powers(n) for _ in range(4)])
    out["cpu-threads"] = timed(lambda: threads_run(sum_powers, [n] * 4, 4))
    out["cpu-processes"] = timed(lambda: processes_run(n, 4))
    out["cpu-pool"] = timed(lambda: pool_run(n))
    out["start_fork_ms"] = start_cost("fork")
    out["start_spawn_ms"] = start_cost("spawn", rounds=5)
    if urls:
        jobs = list(enumerate(urls * 5))
        with tempfile.TemporaryDirectory() as d:
            out["io-sequential"] = timed(lambda: [download(j, d) for j in jobs])
            out["io-threads"] = timed(lambda: threads_run(lambda j: download(j, d), jobs, 5))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
