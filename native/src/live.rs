//! The progress bar on standard error while a run goes on (indicatif).

use std::sync::Mutex;

use gil_lab::trace::{Span, TraceSink};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Steps of the bar per task.
const PER_TASK: u64 = 1000;

/// A [`TraceSink`] that moves a progress bar.
pub struct Progress {
    bar: ProgressBar,
    done: Mutex<Vec<u64>>,
}

impl Progress {
    /// A bar for `tasks` tasks; hidden when `quiet` or when stderr is not a terminal.
    pub fn new(tasks: u32, label: &str, quiet: bool) -> Self {
        let bar = ProgressBar::new(u64::from(tasks) * PER_TASK);
        if quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let style = ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {percent}% {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(label.to_owned());
        Self {
            bar,
            done: Mutex::new(vec![0; tasks as usize]),
        }
    }

    fn set(&self, task: u32, value: u64) {
        let mut done = self
            .done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(slot) = done.get_mut(task as usize) {
            *slot = value.max(*slot);
        }
        let finished = done.iter().filter(|&&d| d == PER_TASK).count();
        self.bar.set_position(done.iter().sum());
        self.bar
            .set_message(format!("{finished}/{} tasks done", done.len()));
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl TraceSink for Progress {
    fn span(&self, _span: Span) {}
    fn task_done(&self, task: u32, _outcome: &gil_lab::workload::TaskOutcome) {
        self.set(task, PER_TASK);
    }
    fn progress(&self, task: u32, done: u64, total: u64) {
        if let Some(part) = (done * (PER_TASK - 1)).checked_div(total) {
            self.set(task, part);
        }
    }
}
