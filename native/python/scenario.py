"""CPython side of `gil-lab simulate --compare --pace cpython`: one CPU scenario, timed.

Usage: python3 scenario.py KIND N TASKS WORKERS CHUNKSIZE SWITCH_INTERVAL_S START_METHOD
KIND is sequential, threads, processes or pool; prints {"wall_s": ..., "cpu_s": ...}.
The programs are the ones the lab's scenarios stand for (see `gil-lab list`).
"""
import json
import multiprocessing as mp
import queue
import resource
import sys
import threading
import time


def sum_powers(n):
    total = 0
    for i in range(n):
        total = total + i ** i
    return total


def cpu_now():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def sequential(n, tasks):
    for _ in range(tasks):
        sum_powers(n)


def threads(n, tasks, workers):
    jobs = queue.Queue()

    def worker():
        while True:
            k = jobs.get()
            sum_powers(k)
            jobs.task_done()

    for _ in range(tasks):
        jobs.put(n)
    for _ in range(workers):
        threading.Thread(target=worker, daemon=True).start()
    jobs.join()


def run_share(n, count):
    for _ in range(count):
        sum_powers(n)


def processes(ctx, n, tasks, workers):
    # Each process is given its share up front, as the lab's cpu-processes does.
    shares = [len(range(w, tasks, workers)) for w in range(workers)]
    procs = [ctx.Process(target=run_share, args=(n, k)) for k in shares if k]
    for p in procs:
        p.start()
    for p in procs:
        p.join()


def pool(ctx, n, tasks, workers, chunksize):
    with ctx.Pool(workers) as p:
        p.map(sum_powers, [n] * tasks, chunksize=chunksize)


def main():
    kind, n, tasks, workers, chunksize = sys.argv[1], *map(int, sys.argv[2:6])
    interval, method = float(sys.argv[6]), sys.argv[7]
    sys.setswitchinterval(interval)
    ctx = mp.get_context(method)
    run = {
        "sequential": lambda: sequential(n, tasks),
        "threads": lambda: threads(n, tasks, workers),
        "processes": lambda: processes(ctx, n, tasks, workers),
        "pool": lambda: pool(ctx, n, tasks, workers, chunksize),
    }[kind]
    c0, t0 = cpu_now(), time.perf_counter()
    run()
    print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": cpu_now() - c0}))


if __name__ == "__main__":
    main()
