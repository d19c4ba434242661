"""CPython side of `gil-lab simulate --compare --pace cpython`: one CPU scenario, timed.

Usage: python3 scenario.py KIND N TASKS WORKERS CHUNKSIZE SWITCH_INTERVAL_S START_METHOD
KIND is sequential, threads, processes or pool; prints {"wall_s": ..., "cpu_s": ...}.
KIND hash-sequential or hash-threads is the hash demo: N is the buffer in MiB, CHUNKSIZE the
bytes per update() (0: one update of the whole buffer); it also prints the digest.
The programs are the ones the lab's scenarios stand for (see `gil-lab list`).
"""
import hashlib
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


def queue_threads(work, tasks, workers):
    # `tasks` calls of work() on `workers` daemon threads fed from one queue, as the lab's
    # threads are: the demos with threads differ only in what each task does.
    jobs = queue.Queue()

    def worker():
        while True:
            jobs.get()
            work()
            jobs.task_done()

    for _ in range(tasks):
        jobs.put(None)
    for _ in range(workers):
        threading.Thread(target=worker, daemon=True).start()
    jobs.join()


def threads(n, tasks, workers):
    queue_threads(lambda: sum_powers(n), tasks, workers)


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


def hash_buffer(mib):
    """Byte i is i % 251, as the lab's buffer."""
    return (bytes(range(251)) * (((mib << 20) // 251) + 1))[: mib << 20]


def hash_digest(data, chunk):
    if not chunk:
        return hashlib.sha256(data).hexdigest()   # one update(): GIL released inside
    h = hashlib.sha256()
    view = memoryview(data)
    for i in range(0, len(data), chunk):
        h.update(view[i:i + chunk])   # under 2048 bytes: the GIL is held
    return h.hexdigest()


def hash_threads(data, chunk, tasks, workers, out):
    queue_threads(lambda: out.append(hash_digest(data, chunk)), tasks, workers)


def main():
    kind, n, tasks, workers, chunksize = sys.argv[1], *map(int, sys.argv[2:6])
    interval, method = float(sys.argv[6]), sys.argv[7]
    sys.setswitchinterval(interval)
    ctx = mp.get_context(method)
    digests = []
    data = hash_buffer(n) if kind.startswith("hash-") else b""
    run = {
        "hash-sequential": lambda: digests.extend(hash_digest(data, chunksize) for _ in range(tasks)),
        "hash-threads": lambda: hash_threads(data, chunksize, tasks, workers, digests),
        "sequential": lambda: sequential(n, tasks),
        "threads": lambda: threads(n, tasks, workers),
        "processes": lambda: processes(ctx, n, tasks, workers),
        "pool": lambda: pool(ctx, n, tasks, workers, chunksize),
    }[kind]
    c0, t0 = cpu_now(), time.perf_counter()
    run()
    out = {"wall_s": time.perf_counter() - t0, "cpu_s": cpu_now() - c0}
    if digests:
        out["sha256"] = digests[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
