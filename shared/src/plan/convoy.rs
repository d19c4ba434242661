//! The convoy demo: one thread making short blocking calls (the lesson's I/O), first alone, then
//! beside CPU-bound threads of the same interpreter.
//!
//! Each call releases the GIL; when it returns, the thread must win the GIL back from a CPU-bound
//! thread that holds it until a drop request reaches it — about one switch interval later. So a
//! 1 ms call costs about 6 ms beside one CPU-bound thread under a classic GIL (CPython 3.11 here:
//! 1.09 ms alone, 6.3 ms beside), and about 1 ms without a GIL.

use crate::exec::Numbered;
use crate::gil::GilMode;
use crate::scenario::{CONVOY_CALL_US, LESSON_N, Model, Params, Workload};
use crate::trace::{Convoy, Lane, LaneKind, Span, SpanState};
use crate::workload::Task;

/// The lane of the I/O thread running alone.
pub const ALONE_LANE: u32 = 0;
/// The lane of the I/O thread running beside the CPU-bound threads.
pub const BESIDE_LANE: u32 = 1;

/// What the convoy run does.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// Blocking calls in each phase.
    pub calls: u32,
    /// Length of one call, µs.
    pub call_us: u64,
    /// `sum_powers(n)` on each CPU-bound thread.
    pub n: u32,
    /// CPU-bound threads in the second phase.
    pub cpu_threads: u32,
    /// Classic GIL or free-threaded.
    pub gil: GilMode,
    /// Switch interval, µs.
    pub switch_interval_us: u64,
}

impl Setup {
    /// The convoy run `params` describe (`None` for other models). `params.tasks` is the
    /// number of blocking calls in each phase.
    pub fn from_params(params: &Params) -> Option<Self> {
        let Model::Convoy {
            cpu_threads,
            gil,
            switch_interval_us,
        } = params.model
        else {
            return None;
        };
        let (call_us, n) = match params.workload {
            Workload::Convoy { call_us, n } => (call_us, n),
            _ => (CONVOY_CALL_US, LESSON_N),
        };
        Some(Self {
            calls: params.tasks,
            call_us,
            n,
            cpu_threads,
            gil,
            switch_interval_us,
        })
    }

    /// Every task of the run: the calls alone, the calls beside, one `sum_powers` per CPU
    /// thread.
    pub fn tasks(&self) -> Vec<Numbered> {
        let calls = Task::Sleeps {
            count: self.calls,
            us: self.call_us,
        };
        let mut out = vec![(0, calls.clone()), (1, calls)];
        out.extend((0..self.cpu_threads).map(|k| (2 + k, Task::SumPowers { n: self.n })));
        out
    }

    /// The lanes, in two groups: alone, and beside the CPU-bound threads.
    pub fn lanes(&self) -> Vec<Lane> {
        let beside = format!(
            "beside {} CPU-bound thread{}",
            self.cpu_threads,
            if self.cpu_threads == 1 { "" } else { "s" }
        );
        let mut out = vec![
            Lane {
                id: ALONE_LANE,
                label: "I/O thread".to_owned(),
                kind: LaneKind::Thread,
                group: Some("the I/O thread alone".to_owned()),
            },
            Lane {
                id: BESIDE_LANE,
                label: "I/O thread".to_owned(),
                kind: LaneKind::Thread,
                group: Some(beside.clone()),
            },
        ];
        out.extend((0..self.cpu_threads).map(|k| Lane {
            id: 2 + k,
            label: format!("CPU thread {}", k + 1),
            kind: LaneKind::Thread,
            group: Some(beside.clone()),
        }));
        out
    }
}

/// Each blocking call of `lane` that starts before `until_us`, from its start to the moment the
/// thread runs again (the call plus winning the GIL back), µs.
///
/// A thread that runs for less than its clock can resolve between two calls (a browser
/// without cross-origin isolation counts in 100 µs steps) leaves no running span: the next
/// call's start is then the moment it ran again.
fn call_times(spans: &[Span], lane: u32, until_us: u64) -> Vec<u64> {
    let mut mine: Vec<&Span> = spans.iter().filter(|s| s.lane == lane).collect();
    mine.sort_by_key(|s| s.start_us);
    let mut out = Vec::new();
    let mut open: Option<u64> = None;
    for s in mine {
        match s.state {
            SpanState::IoWait if s.start_us < until_us => {
                if let Some(start) = open.take() {
                    out.push(s.start_us.saturating_sub(start));
                }
                open = Some(s.start_us);
            }
            SpanState::Running => {
                if let Some(start) = open.take() {
                    out.push(s.start_us.saturating_sub(start));
                }
            }
            _ => {}
        }
    }
    out
}

fn median(mut v: Vec<u64>) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[v.len() / 2])
}

/// The medians of one call alone and beside the CPU-bound threads (only calls that began while
/// a CPU-bound thread still had work count as "beside").
pub fn measure(setup: &Setup, spans: &[Span]) -> Option<Convoy> {
    let cpu_until = spans
        .iter()
        .filter(|s| s.lane >= 2 && s.lane < 2 + setup.cpu_threads)
        .map(|s| s.end_us)
        .max()?;
    Some(Convoy {
        alone_us: median(call_times(spans, ALONE_LANE, u64::MAX))?,
        beside_us: median(call_times(spans, BESIDE_LANE, cpu_until))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(lane: u32, state: SpanState, start_us: u64, end_us: u64) -> Span {
        Span {
            lane,
            task: Some(0),
            state,
            start_us,
            end_us,
        }
    }

    #[test]
    fn a_call_lasts_until_the_thread_runs_again() {
        use SpanState::{GilWait, IoWait, Running};
        let spans = [
            span(1, Running, 0, 10),
            span(1, IoWait, 10, 1_010),
            span(1, GilWait, 1_010, 6_000),
            span(1, Running, 6_000, 6_010),
            span(1, IoWait, 6_010, 7_010),
            span(1, Running, 7_010, 7_020),
        ];
        assert_eq!(call_times(&spans, 1, u64::MAX), vec![5_990, 1_000]);
        // Only calls that start before the CPU-bound work ended count.
        assert_eq!(call_times(&spans, 1, 6_005), vec![5_990]);
    }

    #[test]
    fn a_run_too_short_for_the_clock_still_ends_a_call() {
        use SpanState::{GilWait, IoWait, Running};
        // On a 100 µs clock the thread's runs between calls take no time at all.
        let spans = [
            span(0, IoWait, 0, 1_300),
            span(0, IoWait, 1_300, 2_700),
            span(0, GilWait, 2_700, 8_000),
            span(0, IoWait, 8_000, 9_400),
            span(0, Running, 9_400, 9_500),
        ];
        assert_eq!(call_times(&spans, 0, u64::MAX), vec![1_300, 6_700, 1_400]);
    }
}
