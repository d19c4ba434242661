//! What the pictures showed, in words: each section reads its finished reports and says which
//! answer the run bore out, with this run's own numbers (wall times, speed-ups, CPU over wall,
//! hand-offs, lost updates, convoy medians). Nothing here is canned: a sentence without a
//! number from the report is only there to say what that number means.
//!
//! Platform-free, tested natively on hand-made reports.

use gil_lab::trace::{CpuSource, LaneKind, RunReport, SpanState};
use gil_lab::view::{format_duration, group_digits};

/// What a section's run showed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    /// The key of the choice the run bore out, when one clearly was.
    pub answer: Option<&'static str>,
    /// The explanation, one sentence or two per line.
    pub lines: Vec<String>,
    /// One short line for the closing section's table of this visit's results.
    pub headline: String,
}

/// Running spans closer than this at a hand-off are clock noise, not parallelism: every worker
/// reads `timeOrigin + now()`, which browsers coarsen (5–100 µs).
const SLACK_US: u64 = 300;

/// `3.2 s`, `41 ms`, …
fn d(us: u64) -> String {
    format_duration(us)
}

/// `1.96×`
fn times(x: f64) -> String {
    format!("{x:.2}×")
}

fn median(mut v: Vec<u64>) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// How many times faster `r` did its tasks than `base`, per task (a Pool may run more tasks
/// than the sequential baseline did).
pub fn speedup(base: &RunReport, r: &RunReport) -> Option<f64> {
    if r.wall_us == 0 || base.wall_us == 0 {
        return None;
    }
    let per_task = base.wall_us as f64 / f64::from(base.params.tasks.max(1));
    Some(per_task * f64::from(r.params.tasks.max(1)) / r.wall_us as f64)
}

/// The most lanes in `state` at one instant, ignoring overlaps shorter than the clock's
/// coarseness at a hand-off.
pub fn most_at_once(r: &RunReport, state: SpanState) -> usize {
    let mut ev: Vec<(u64, i32)> = Vec::new();
    for s in r.spans.iter().filter(|s| s.state == state) {
        if s.end_us.saturating_sub(s.start_us) <= 2 * SLACK_US {
            continue;
        }
        ev.push((s.start_us + SLACK_US, 1));
        ev.push((s.end_us - SLACK_US, -1));
    }
    ev.sort_unstable();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, delta) in ev {
        now += delta;
        most = most.max(now);
    }
    // A single short span still means one lane was in that state.
    let any = r.spans.iter().any(|s| s.state == state);
    (most.max(0) as usize).max(usize::from(any))
}

/// How often the running lane changed, in time order: the hand-offs the picture shows.
pub fn handoffs(r: &RunReport) -> usize {
    let mut running: Vec<(u64, u32)> = r
        .spans
        .iter()
        .filter(|s| s.state == SpanState::Running)
        .map(|s| (s.start_us, s.lane))
        .collect();
    running.sort_unstable();
    running.windows(2).filter(|w| w[0].1 != w[1].1).count()
}

/// Median length of one stretch of running, across all lanes.
pub fn median_turn(r: &RunReport) -> Option<u64> {
    median(
        r.spans
            .iter()
            .filter(|s| s.state == SpanState::Running)
            .map(|s| s.duration_us())
            .collect(),
    )
}

/// Per lane of `kind`, when it first did anything other than start up (µs after the run began);
/// the median over those lanes.
pub fn ready_at(r: &RunReport, kind: LaneKind) -> Option<u64> {
    median(
        r.lanes
            .iter()
            .filter(|l| l.kind == kind)
            .filter_map(|l| {
                r.lane_spans(l.id)
                    .filter(|s| s.state != SpanState::Starting)
                    .map(|s| s.start_us)
                    .min()
            })
            .collect(),
    )
}

/// Median time a lane spent starting up (its `starting` spans).
pub fn median_start(r: &RunReport) -> Option<u64> {
    median(
        r.spans
            .iter()
            .filter(|s| s.state == SpanState::Starting)
            .map(|s| s.duration_us())
            .collect(),
    )
}

/// How much more work than start-up each process needs for a speed-up to say something about
/// processes rather than about starting them: at 20×, even a start twice as slow (a busy
/// laptop, a cold cache) moves the speed-up by a few per cent, not across a verdict.
const WORK_PER_START: u64 = 20;

/// Why the processes of `r` ran too briefly to judge their speed-up, if they did: each spent
/// less than [`WORK_PER_START`] times its start (median) computing. Measured in this run.
pub fn too_short_to_judge(r: &RunReport) -> Option<String> {
    let start = median_start(r)?;
    let working: Vec<u64> = r
        .lanes
        .iter()
        .filter(|l| l.kind == LaneKind::Process)
        .map(|l| {
            r.lane_spans(l.id)
                .filter(|s| s.state == SpanState::Running)
                .map(|s| s.duration_us())
                .sum()
        })
        .collect();
    let work = median(working)?;
    (work < WORK_PER_START * start).then(|| {
        format!(
            "Too short to judge: each process spent {} starting and only {} computing, so this speed-up is mostly about starting processes. With at least {WORK_PER_START} times more work than start-up (the lesson size) it is about running them.",
            d(start),
            d(work)
        )
    })
}

/// CPU time over wall time: how many cores were busy on average.
pub fn cpu_over_wall(r: &RunReport) -> Option<f64> {
    (r.wall_us > 0).then(|| r.cpu_total_us() as f64 / r.wall_us as f64)
}

/// "estimated" where the CPU time was estimated from the workers (browsers).
fn cpu_word(r: &RunReport) -> &'static str {
    match r.cpu_source {
        CpuSource::Estimated => " (estimated from what the workers did)",
        CpuSource::Measured => "",
    }
}

/// A state as the picture's legend names it, quoted: “waiting for the GIL”.
fn legend(state: SpanState) -> String {
    format!("“{}”", state.describe())
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Section "Processes and threads": reports `[threads, processes]`.
pub fn processes_threads(reports: &[RunReport], _cores: u32) -> Verdict {
    let [thr, procs] = reports else {
        return Verdict::default();
    };
    let t = ready_at(thr, LaneKind::Thread).unwrap_or(0);
    let p_ready = ready_at(procs, LaneKind::Process);
    let p_start = median_start(procs).or(p_ready).unwrap_or(0);
    // Below the clock's resolution a start is as good as instant.
    let ratio = p_start as f64 / (t.max(100)) as f64;
    let answer = if ratio < 2.0 {
        "same"
    } else if ratio < 10.0 {
        "few"
    } else {
        "much"
    };
    let mut lines = vec![
        format!(
            "The threads were at work {} after Run (median of {}).",
            d(t),
            plural(thr.lanes.len(), "thread", "threads")
        ),
        format!(
            "Each process first spent {} starting (median; the {} bars), before its first line of Python{}.",
            d(p_start),
            legend(SpanState::Starting),
            p_ready.map_or(String::new(), |r| format!(
                ", and was at work {} after Run",
                d(r)
            ))
        ),
    ];
    lines.push(format!(
        "Whole runs: {} with threads, {} with processes. With work this small, the start-up is most of a process's time; with real work it is paid once and then spread over it.",
        d(thr.wall_us),
        d(procs.wall_us)
    ));
    Verdict {
        answer: Some(answer),
        headline: format!(
            "starting a process: {} (threads at work after {})",
            d(p_start),
            d(t)
        ),
        lines,
    }
}

/// Section "Concurrency and parallelism": reports `[with the GIL, free-threaded]`.
pub fn concurrency(reports: &[RunReport], cores: u32) -> Verdict {
    let [gil, free] = reports else {
        return Verdict::default();
    };
    let a = most_at_once(gil, SpanState::Running);
    let b = most_at_once(free, SpanState::Running);
    let answer = match (a >= 2, b >= 2) {
        (true, true) => Some("both"),
        (false, true) => Some("free-only"),
        (false, false) => Some("neither"),
        (true, false) => None,
    };
    let mut lines = vec![
        format!(
            "With the GIL, at most {} computing at any instant, and the running thread changed {} in {}: the threads were concurrent, taking turns.",
            plural(a, "thread was", "threads were"),
            plural(handoffs(gil), "time", "times"),
            d(gil.wall_us)
        ),
        format!(
            "Without a GIL, up to {} at the same instant in {}{}.",
            plural(b, "thread computed", "threads computed"),
            d(free.wall_us),
            if b >= 2 { ": that is parallelism" } else { "" }
        ),
    ];
    if b > cores as usize && cores >= 2 {
        lines.push(format!(
            "This machine has {cores} cores, so at most {cores} threads can truly compute at once: the bars of the others include time spent ready but waiting for a core, which a browser cannot see."
        ));
    }
    if cores < 2 {
        lines.push(
            "This machine reports a single core, so even without a GIL the threads could only take turns there.".to_owned(),
        );
    } else if b < 2 {
        lines.push(format!(
            "This machine reports {cores} cores, but the threads still did not overlap: another program may have been keeping the cores busy."
        ));
    }
    Verdict {
        answer,
        headline: format!("most threads at once: {a} with the GIL, {b} without"),
        lines,
    }
}

/// The verdict of a "4 workers against sequential" question: `per-core`, `some` or `same`.
fn cpu_answer(s: f64, workers: u32, cores: u32) -> &'static str {
    let best = f64::from(workers.min(cores).max(1));
    if s < 1.25 {
        "same"
    } else if s >= 0.75 * best {
        "per-core"
    } else {
        "some"
    }
}

/// Section "The GIL": reports `[sequential, threads]`.
pub fn gil(reports: &[RunReport], cores: u32) -> Verdict {
    let [seq, thr] = reports else {
        return Verdict::default();
    };
    let Some(s) = speedup(seq, thr) else {
        return Verdict::default();
    };
    let workers = thr.params.model.workers();
    let mut lines = vec![format!(
        "One after another: {}. On {workers} threads: {}. Speed-up {}.",
        d(seq.wall_us),
        d(thr.wall_us),
        times(s)
    )];
    lines.push(format!(
        "At most {} computing at once; the running thread changed {}, each turn lasting {} (median).",
        plural(most_at_once(thr, SpanState::Running), "thread was", "threads were"),
        plural(handoffs(thr), "time", "times"),
        median_turn(thr).map_or("?".to_owned(), d)
    ));
    if let Some(c) = cpu_over_wall(thr) {
        lines.push(format!(
            "CPU time over wall time: {c:.2}{}, about one core's worth, although this machine has {cores}.",
            cpu_word(thr)
        ));
    }
    Verdict {
        answer: Some(cpu_answer(s, workers, cores)),
        headline: format!(
            "{workers} threads against sequential (CPU-bound): {}",
            times(s)
        ),
        lines,
    }
}

/// Section "I/O-bound work on threads": reports `[sequential, threads]`.
pub fn io(reports: &[RunReport], _cores: u32) -> Verdict {
    let [seq, thr] = reports else {
        return Verdict::default();
    };
    let Some(s) = speedup(seq, thr) else {
        return Verdict::default();
    };
    let answer = if s < 1.4 {
        "same"
    } else if s < 2.6 {
        "two"
    } else {
        "many"
    };
    let workers = thr.params.model.workers();
    let mut lines = vec![format!(
        "{} downloads one after another: {}. On {workers} threads: {}. Speed-up {}.",
        thr.params.tasks,
        d(seq.wall_us),
        d(thr.wall_us),
        times(s)
    )];
    lines.push(format!(
        "Up to {} waiting at once (the {} bars): a thread holds no GIL while it waits, so the waits overlap.",
        plural(most_at_once(thr, SpanState::IoWait), "download was", "downloads were"),
        legend(SpanState::IoWait)
    ));
    if let Some(c) = cpu_over_wall(thr) {
        lines.push(format!(
            "CPU time over wall time: {c:.2}{}: the threads spent nearly all their time waiting, so one core was plenty.",
            cpu_word(thr)
        ));
    }
    Verdict {
        answer: Some(answer),
        headline: format!(
            "{workers} threads against sequential (downloads): {}",
            times(s)
        ),
        lines,
    }
}

/// Section "the convoy effect": one convoy report.
pub fn convoy(reports: &[RunReport], _cores: u32) -> Verdict {
    let [r] = reports else {
        return Verdict::default();
    };
    let Some(c) = r.convoy.as_ref() else {
        return Verdict {
            answer: None,
            lines: vec![
                "No call started while the CPU-bound thread was still working, so this run cannot say: try the lesson size.".to_owned(),
            ],
            headline: String::new(),
        };
    };
    let answer = if c.beside_us < 1_600 {
        "one"
    } else if c.beside_us < 3_500 {
        "two"
    } else {
        "interval"
    };
    let interval = r
        .gil
        .as_ref()
        .map(|g| g.interval_us)
        .or(match r.params.model {
            gil_lab::scenario::Model::Convoy {
                switch_interval_us, ..
            } => Some(switch_interval_us),
            _ => None,
        });
    let mut lines = vec![format!(
        "Alone, one call took {} from its start until the thread ran again (median). Beside a CPU-bound thread: {}, {} as long.",
        d(c.alone_us),
        d(c.beside_us),
        times(c.beside_us as f64 / c.alone_us.max(1) as f64)
    )];
    if let Some(i) = interval {
        lines.push(format!(
            "The switch interval is {}. The extra time is the {} bars after each call: the returning thread waits an interval, then for the holder's next check point.",
            d(i),
            legend(SpanState::GilWait)
        ));
    }
    Verdict {
        answer: Some(answer),
        headline: format!(
            "a 1 ms call: {} alone, {} beside CPU work",
            d(c.alone_us),
            d(c.beside_us)
        ),
        lines,
    }
}

/// Section "processes, Pool, subinterpreters": reports `[sequential, processes, pool,
/// interpreters]`.
pub fn processes(reports: &[RunReport], cores: u32) -> Verdict {
    let [seq, procs, rest @ ..] = reports else {
        return Verdict::default();
    };
    let Some(s) = speedup(seq, procs) else {
        return Verdict::default();
    };
    let workers = procs.params.model.workers();
    let mut lines = vec![format!(
        "One after another: {}. On {workers} processes: {}. Speed-up {}.",
        d(seq.wall_us),
        d(procs.wall_us),
        times(s)
    )];
    if let Some(st) = median_start(procs) {
        lines.push(format!(
            "Each process spent {} starting (median) before it computed; then up to {} ran at once on this machine's {cores} cores.",
            d(st),
            most_at_once(procs, SpanState::Running)
        ));
    }
    for r in rest {
        let Some(x) = speedup(seq, r) else { continue };
        let what = match r.params.model {
            gil_lab::scenario::Model::Pool {
                workers, chunksize, ..
            } => format!(
                "Pool({workers}).map over {} tasks in chunks of {chunksize}",
                r.params.tasks
            ),
            gil_lab::scenario::Model::Interpreters { workers } => {
                format!("{workers} subinterpreters, a GIL each")
            }
            _ => r.scenario.clone(),
        };
        lines.push(format!(
            "{what}: {}, speed-up {} per task.",
            d(r.wall_us),
            times(x)
        ));
    }
    let short = too_short_to_judge(procs);
    let answer = match &short {
        Some(_) => None,
        None => Some(cpu_answer(s, workers, cores)),
    };
    lines.extend(short);
    Verdict {
        answer,
        headline: format!(
            "{workers} processes against sequential (CPU-bound): {}",
            times(s)
        ),
        lines,
    }
}

/// Section "Shared data and locks": one race report.
pub fn shared_data(reports: &[RunReport], _cores: u32) -> Verdict {
    let [r] = reports else {
        return Verdict::default();
    };
    let Some(plain) = r.counters.first() else {
        return Verdict::default();
    };
    let answer = if plain.lost == 0 {
        "none"
    } else if plain.lost < 1_000 {
        "few"
    } else {
        "many"
    };
    let mut lines = Vec::new();
    for c in &r.counters {
        let own_copy = c.case.contains("processes") && c.case.contains("plain");
        lines.push(if own_copy {
            format!(
                "{}: the parent's counter still reads {}; each process added to its own copy.",
                c.case,
                group_digits(c.observed)
            )
        } else {
            format!(
                "{}: {} of {} updates lost.",
                c.case,
                group_digits(c.lost),
                group_digits(c.expected)
            )
        });
    }
    Verdict {
        answer: Some(answer),
        headline: format!(
            "lost updates, plain loop under the GIL: {}; with a call inside: {}",
            group_digits(plain.lost),
            r.counters
                .get(1)
                .map_or("?".to_owned(), |c| group_digits(c.lost))
        ),
        lines,
    }
}

/// Section "Why your old tutorial's race doesn't race": reports `[as 3.9, as 3.11]`.
pub fn old_race(reports: &[RunReport], _cores: u32) -> Verdict {
    let [old, new] = reports else {
        return Verdict::default();
    };
    let (Some(old_plain), Some(new_plain)) = (old.counters.first(), new.counters.first()) else {
        return Verdict::default();
    };
    let in_call = |r: &RunReport| r.counters.get(1).map(|c| c.lost);
    let answer = match (old_plain.lost > 0, new_plain.lost > 0) {
        (true, true) => "both",
        (true, false) => "old-only",
        (false, false) => "neither",
        (false, true) => return Verdict::default(),
    };
    let line = |r: &RunReport, c: &gil_lab::workload::CounterCase| {
        format!(
            "As Python {}: the plain loop lost {} of {} updates; with a call inside the update, {}.",
            r.params.python.key(),
            group_digits(c.lost),
            group_digits(c.expected),
            in_call(r).map_or("?".to_owned(), group_digits)
        )
    };
    let mut lines = vec![line(old, old_plain), line(new, new_plain)];
    lines.push(old_plain.explanation.clone());
    lines.push(new_plain.explanation.clone());
    lines.push(
        "Only where the GIL may pass differs between the two runs. The call inside the update lost updates on both, so the race is still there. A lock around the whole update is what makes it safe on every version.".to_owned(),
    );
    Verdict {
        answer: Some(answer),
        headline: format!(
            "plain loop, lost updates: {} as {}, {} as {}",
            group_digits(old_plain.lost),
            old.params.python.key(),
            group_digits(new_plain.lost),
            new.params.python.key()
        ),
        lines,
    }
}

/// Section "Which one do I use?": reports `[threads, pool]`.
pub fn which(reports: &[RunReport], cores: u32) -> Verdict {
    let [thr, pool] = reports else {
        return Verdict::default();
    };
    let (Some(t), Some(p)) = (per_task(thr), per_task(pool)) else {
        return Verdict::default();
    };
    let ratio = t / p;
    let answer = if ratio > 1.15 {
        "pool"
    } else if ratio < 1.0 / 1.15 {
        "threads"
    } else {
        "same"
    };
    let short = too_short_to_judge(pool);
    let mut lines = vec![
        format!(
            "4 threads: {} for {} calls. The Pool: {} for {} calls.",
            d(thr.wall_us),
            thr.params.tasks,
            d(pool.wall_us),
            pool.params.tasks
        ),
        format!(
            "Per call, the Pool was {} as fast as the threads on this machine's {cores} cores{}.",
            times(ratio),
            if cores < 2 {
                " (one core: nothing can run in parallel here)"
            } else {
                ""
            }
        ),
    ];
    let answer = short.is_none().then_some(answer);
    lines.extend(short);
    Verdict {
        answer,
        headline: format!(
            "Pool against threads (CPU-bound, per call): {}",
            times(ratio)
        ),
        lines,
    }
}

fn per_task(r: &RunReport) -> Option<f64> {
    (r.wall_us > 0).then(|| r.wall_us as f64 / f64::from(r.params.tasks.max(1)))
}

#[cfg(test)]
mod tests;
