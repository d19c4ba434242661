"""CPython side of `gil-lab bench --python`: the lesson's programs, timed the same way, and
recorded as timelines the lab can draw.

Usage: python3 bench.py N SKIP_BIG IMAGE_URL... ; prints one JSON object on stdout.
Kept in plain standard-library Python (urllib instead of requests) so it runs anywhere.

How a timeline is recorded: every task stamps its start and end with time.monotonic_ns()
(CLOCK_MONOTONIC, the clock gil-lab's own runs use), and sum_powers stamps once per loop
iteration. Within one process, only the thread holding the GIL can take a stamp, so the
order of all stamps tells who ran when: the time between two stamps belongs to the thread that
took the second one; a thread inside a task that is not running is waiting for the GIL. The
stamps cost ~0.1 µs per iteration against ~100 µs for one i**i at the lesson's sizes.
"""
import hashlib
import json
import multiprocessing as mp
import os
import queue
import resource
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

now_ns = time.monotonic_ns


def sum_powers(n, stamps=None):
    total = 0
    if stamps is None:
        for i in range(n):
            total = total + i ** i
        return total
    for i in range(n):
        total = total + i ** i
        stamps.append(now_ns())
    return total


def digest(x):
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    text = str(x)
    return {"bits": x.bit_length(), "digits": len(text), "low64": str(x & (2**64 - 1)),
            "tail": text[-20:]}


def cpu_now():
    self_ = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (self_.ru_utime + kids.ru_utime, self_.ru_stime + kids.ru_stime)


class Recorder:
    """Collects one scenario's lanes and tasks (thread-safe: list.append is atomic)."""

    def __init__(self):
        self.t0 = now_ns()
        self.tasks = []  # (task id, label, process name, thread name, start, stamps, end, outcome, io)
        self.starts = []  # (process name, launched, ready): a process's start-up

    def record(self, task, label, start, stamps, end, outcome, io=False, proc=None, thread=None):
        proc = proc or mp.current_process().name
        thread = thread or threading.current_thread().name
        self.tasks.append((task, label, proc, thread, start, stamps, end, outcome, io))


def timed(run):
    """Runs `run(recorder)`; returns the timings and the timeline."""
    rec = Recorder()
    (u0, s0), t0 = cpu_now(), time.perf_counter()
    run(rec)
    wall = time.perf_counter() - t0
    u1, s1 = cpu_now()
    rec.t1 = now_ns()
    return {"wall_s": wall, "cpu_s": (u1 - u0) + (s1 - s0), "cpu_user_s": u1 - u0,
            "cpu_sys_s": s1 - s0, "timeline": timeline(rec)}


def timeline(rec):
    """Lanes, spans (µs since the scenario began) and tasks, from the stamps."""
    lanes, spans = [], []

    def lane_of(proc, thread, kind):
        key = (proc, thread)
        for k, lane in enumerate(lanes):
            if lane["key"] == key:
                return k
        lanes.append({"key": key, "kind": kind,
                      "label": proc if kind == "process" else thread, "process": proc})
        return len(lanes) - 1

    us = lambda t: max(0, (t - rec.t0) // 1000)
    main = mp.current_process().name
    for proc, launched, ready in rec.starts:
        k = lane_of(proc, "MainThread", "process")
        spans.append([k, None, "starting", us(launched), us(ready)])
    tasks = []
    # Stamps of each process (one GIL each), in time order: (t, lane, task).
    by_process = {}
    for task, label, proc, thread, start, stamps, end, outcome, io in rec.tasks:
        kind = "process" if proc != main else ("main" if thread == "MainThread" else "thread")
        k = lane_of(proc, thread if kind != "process" else "MainThread", kind)
        tasks.append({"id": task, "label": label, "lane": k, "outcome": outcome})
        if io:
            # The download waits on the network and the disk with the GIL released.
            spans.append([k, task, "io_wait", us(start), us(end)])
            continue
        points = by_process.setdefault(proc, [])
        points.append((start, k, task, "begin"))
        points.extend((t, k, task, "step") for t in stamps)
        points.append((end, k, task, "end"))
    for points in by_process.values():
        points.sort(key=lambda p: p[0])
        running = {}  # lane -> list of [start, end, task]
        windows = {}  # lane -> list of [start, end, task]
        prev = None
        for t, k, task, what in points:
            if what == "begin":
                windows.setdefault(k, []).append([t, None, task])
            elif what == "end":
                windows[k][-1][1] = t
            if what != "begin" and prev is not None:
                # The time since the last stamp of anyone belongs to whoever stamped now.
                runs = running.setdefault(k, [])
                if runs and runs[-1][1] == prev and runs[-1][2] == task:
                    runs[-1][1] = t
                else:
                    runs.append([max(prev, windows[k][-1][0]), t, task])
            prev = t
        for k, wins in windows.items():
            runs = running.get(k, [])
            for start, end, task in wins:
                cursor = start
                for r0, r1, rtask in runs:
                    if rtask != task or r1 <= start or r0 >= end:
                        continue
                    if r0 > cursor:
                        spans.append([k, task, "gil_wait", us(cursor), us(r0)])
                    spans.append([k, task, "running", us(max(r0, cursor)), us(r1)])
                    cursor = r1
                if end > cursor:
                    spans.append([k, task, "gil_wait", us(cursor), us(end)])
    for lane in lanes:
        del lane["key"]
    spans = [s for s in spans if s[4] > s[3]]
    spans.sort(key=lambda s: (s[3], s[0]))
    tasks.sort(key=lambda t: t["id"])
    return {"lanes": lanes, "spans": spans, "tasks": tasks, "wall_us": us(rec.t1)}


def cpu_task(rec, task, n):
    stamps = []
    start = now_ns()
    total = sum_powers(n, stamps)
    rec.record(task, f"sum_powers({n})", start, stamps, now_ns(), {"sum": digest(total)})


def threads_run(rec, items, workers, work):
    q = queue.Queue()

    def worker():
        while True:
            task, item = q.get()
            work(rec, task, item)
            q.task_done()

    for job in enumerate(items):
        q.put(job)
    for _ in range(workers):
        threading.Thread(target=worker, daemon=True).start()
    q.join()


def process_target(n, task, out, launched):
    ready = now_ns()
    stamps = []
    start = now_ns()
    total = sum_powers(n, stamps)
    out.put((task, mp.current_process().name, launched, ready, start, stamps, now_ns(),
             digest(total)))


def processes_run(rec, n, workers):
    out = mp.Queue()
    procs = []
    for task in range(workers):
        p = mp.Process(target=process_target, args=(n, task, out, now_ns()))
        p.start()
        procs.append(p)
    # Read before joining: a child cannot exit while its queue item is still unread.
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    for task, proc, launched, ready, start, stamps, end, dig in results:
        rec.starts.append((proc, launched, ready))
        rec.record(task, f"sum_powers({n})", start, stamps, end, {"sum": dig}, proc=proc,
                   thread="MainThread")


def pool_task(args):
    task, n = args
    stamps = []
    start = now_ns()
    total = sum_powers(n, stamps)
    return (task, mp.current_process().name, start, stamps, now_ns(), digest(total))


def pool_run(rec, n):
    created = now_ns()
    with mp.Pool(4) as pool:
        results = pool.map(pool_task, list(enumerate([n] * 8)))
    first = {}
    for task, proc, start, stamps, end, dig in results:
        first[proc] = min(first.get(proc, start), start)
        rec.record(task, f"sum_powers({n})", start, stamps, end, {"sum": dig}, proc=proc,
                   thread="MainThread")
    # A pool worker's start-up: from creating the pool to its first task.
    for proc, start in first.items():
        rec.starts.append((proc, created, start))


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


def download(rec, task, url, folder):
    start = now_ns()
    with urllib.request.urlopen(url) as res:
        body = res.read()
    name = f"{task}.bmp"
    with open(os.path.join(folder, name), "wb") as f:
        f.write(body)
    rec.record(task, f"GET {url.rsplit('/', 1)[-1]}", start, [], now_ns(),
               {"downloaded": {"file": name, "bytes": len(body)}}, io=True)


def hash_buffer(mib):
    """The hash demo's buffer: byte i is i % 251, as the lab's."""
    return (bytes(range(251)) * (((mib << 20) // 251) + 1))[: mib << 20]


def hash_digest(data, chunk):
    """hashlib.sha256 of `data` in update()s of `chunk` bytes (None: one call)."""
    if chunk is None:
        return hashlib.sha256(data).hexdigest()
    h = hashlib.sha256()
    view = memoryview(data)
    for i in range(0, len(data), chunk):
        h.update(view[i:i + chunk])
    return h.hexdigest()


def hash_runs(mib, rounds=5):
    """hash-sequential and hash-threads (4 tasks), with one big update and with 1 KiB
    updates: the median wall and CPU time of `rounds` runs each, and the digest."""
    data = hash_buffer(mib)
    out = {}
    for suffix, chunk in (("", None), ("-1k", 1024)):
        def seq():
            for _ in range(4):
                hash_digest(data, chunk)

        def thr():
            q = queue.Queue()

            def worker():
                while True:
                    q.get()
                    hash_digest(data, chunk)
                    q.task_done()

            for k in range(4):
                q.put(k)
            for _ in range(4):
                threading.Thread(target=worker, daemon=True).start()
            q.join()

        for name, run in (("hash-sequential", seq), ("hash-threads", thr)):
            walls, cpus = [], []
            for _ in range(rounds):
                (u0, s0), t0 = cpu_now(), time.perf_counter()
                run()
                walls.append(time.perf_counter() - t0)
                u1, s1 = cpu_now()
                cpus.append((u1 - u0) + (s1 - s0))
            out[name + suffix] = {"wall_s": statistics.median(walls),
                                  "cpu_s": statistics.median(cpus)}
    out["hash_sha256"] = hash_digest(data, None)
    return out


def main():
    n, skip_big, urls = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3:]
    out = {"python": sys.version.split()[0], "n": n}
    if not skip_big:
        t0 = time.perf_counter()
        sum_powers(10000)
        out["sum_powers_10000"] = {"wall_s": time.perf_counter() - t0}
    t0 = time.perf_counter()
    sum_powers(n)
    out["sum_powers_n"] = {"wall_s": time.perf_counter() - t0}

    def sequential(rec):
        for task in range(4):
            cpu_task(rec, task, n)

    out["cpu-sequential"] = timed(sequential)
    out["cpu-threads"] = timed(lambda rec: threads_run(rec, [n] * 4, 4, cpu_task))
    out["cpu-processes"] = timed(lambda rec: processes_run(rec, n, 4))
    out["cpu-pool"] = timed(lambda rec: pool_run(rec, n))
    out.update(hash_runs(48))
    out["start_fork_ms"] = start_cost("fork")
    out["start_spawn_ms"] = start_cost("spawn", rounds=5)
    if urls:
        jobs = urls * 5
        with tempfile.TemporaryDirectory() as d:
            def io_sequential(rec):
                for task, url in enumerate(jobs):
                    download(rec, task, url, d)

            out["io-sequential"] = timed(io_sequential)
            out["io-threads"] = timed(
                lambda rec: threads_run(rec, jobs, 5, lambda r, t, u: download(r, t, u, d)))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
