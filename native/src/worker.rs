//! The child side of a process run: `gil-lab __worker`, started by [`crate::process`] the way
//! CPython's "spawn" start method starts a fresh interpreter. It reads [`ToWorker`] lines on
//! stdin and answers [`FromWorker`] lines on stdout.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use anyhow::{Context, bail};
use gil_lab::exec::{self, Env};
use gil_lab::platform::Clock;
use gil_lab::protocol::{FromWorker, ToWorker, WorkerCounter};
use gil_lab::trace::{Span, TraceSink};
use gil_lab::workload::{CounterCell, SharedCounter, TaskOutcome};

use std::path::Path;

use crate::clock::MonoClock;
use crate::download::{DownloadLimits, NativeIo};
use crate::shared_value::MappedCounter;

/// Sends every span and progress report up the pipe as it happens.
struct PipeSink<W: Write + Send> {
    out: Mutex<W>,
}

impl<W: Write + Send> PipeSink<W> {
    fn send(&self, msg: &FromWorker) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A closed pipe means the parent is gone; there is nobody left to tell.
        if serde_json::to_writer(&mut *out, msg).is_ok() {
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        }
    }
}

impl<W: Write + Send> TraceSink for PipeSink<W> {
    fn span(&self, span: Span) {
        self.send(&FromWorker::Span(span));
    }
    fn progress(&self, task: u32, done: u64, total: u64) {
        self.send(&FromWorker::Progress { task, done, total });
    }
    fn task_done(&self, id: u32, outcome: &TaskOutcome) {
        self.send(&FromWorker::TaskDone {
            id,
            outcome: outcome.clone(),
        });
    }
}

/// Reads the parent's messages on a thread of its own, so `stop` (or the end of input: the
/// parent is gone) is seen in the middle of a task, not only between batches. Everything else
/// is passed on to the main thread.
fn read_messages(
    mut lines: impl Iterator<Item = std::io::Result<String>> + Send + 'static,
    stop: Arc<AtomicBool>,
) -> mpsc::Receiver<anyhow::Result<ToWorker>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.by_ref() {
            let msg = match line {
                Ok(l) => serde_json::from_str::<ToWorker>(&l)
                    .map_err(|e| anyhow::Error::new(e).context("bad message")),
                Err(e) => Err(e.into()),
            };
            if matches!(msg, Ok(ToWorker::Stop)) {
                stop.store(true, Ordering::Relaxed);
                // Whoever waits for a batch gets none.
                let _ = tx.send(Ok(ToWorker::Exit));
                continue;
            }
            if tx.send(msg).is_err() {
                return;
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    rx
}

/// Runs the worker loop until `Exit`, `Stop` or end of input.
pub fn main(limits: DownloadLimits) -> anyhow::Result<()> {
    // A terminal's Ctrl-C and hang-up reach the whole process group, and a service manager
    // may signal it all: the parent decides what a stop signal means and tells us (`Stop`),
    // so it must not kill us mid-span. (If the parent itself dies, our stdin closes and we
    // stop.)
    for signal in crate::stop::STOP_SIGNALS {
        // SAFETY: setting a signal's disposition to SIG_IGN has no memory-safety
        // preconditions.
        unsafe {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
    let mut lines = std::io::BufReader::new(std::io::stdin()).lines();
    let first = lines.next().context("no init message on stdin")??;
    let ToWorker::Init {
        lane,
        epoch_ns,
        tasks,
        out_dir,
        counter,
    } = serde_json::from_str(&first).context("bad init message")?
    else {
        bail!("the first message must be init");
    };
    let clock = MonoClock { epoch_ns };
    let sink = PipeSink {
        out: Mutex::new(std::io::BufWriter::new(std::io::stdout())),
    };
    sink.send(&FromWorker::Ready {
        at_us: clock.now_us(),
    });

    let stop = Arc::new(AtomicBool::new(false));
    let messages = read_messages(lines, stop.clone());
    let io = NativeIo::new(out_dir.into(), stop.clone(), limits);
    let env = Env {
        clock: &clock,
        io: &io,
        sink: &sink,
        stop: &stop,
    };
    // A global is this process's own copy (it starts at the parent's value, as a forked child
    // inherits it); a `multiprocessing.Value` is memory every process of the run maps.
    let cell: Box<dyn CounterCell> = match counter {
        WorkerCounter::Copy { value } => Box::new(SharedCounter::with_value(value)),
        WorkerCounter::Own => Box::new(SharedCounter::new()),
        WorkerCounter::Mapped { path } => Box::new(MappedCounter::open(Path::new(&path))?),
    };
    let mut trouble: Option<anyhow::Error> = None;
    let mut first = true;
    // The process's main thread asks its parent for each batch (the first came with `Init`);
    // a batch is done when it asks for the next one.
    let next_batch = || {
        if !first {
            sink.send(&FromWorker::BatchDone);
        }
        first = false;
        match messages.recv() {
            Ok(Ok(ToWorker::Run { ids })) => tasks
                .iter()
                .filter(|(id, _)| ids.contains(id))
                .cloned()
                .collect(),
            Ok(Ok(ToWorker::Exit | ToWorker::Stop)) | Err(_) => Vec::new(),
            Ok(Ok(ToWorker::Init { .. })) => {
                trouble = Some(anyhow::anyhow!("init sent twice"));
                Vec::new()
            }
            Ok(Err(e)) => {
                trouble = Some(e);
                Vec::new()
            }
        }
    };
    let outcomes = exec::run_process_lane(lane, cell.as_ref(), &env, next_batch);
    // Outcomes stream as tasks end (the sink sends `TaskDone`); this is the end of the run.
    drop(outcomes);
    match trouble {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
