//! The shared-counter task, written the three ways the race demo compares.
//!
//! Each update is a real relaxed load and store on shared memory. What differs is where the
//! lane passes a GIL check point: in the plain loop only after the store (the loop's backward
//! jump), with a call inside the update also between the load and the store, which is the gap
//! another thread's updates fall into.

use std::hint::black_box;

use crate::exec::{Env, PyThread};
use crate::workload::{CounterSpec, CounterStyle, SharedCounter, TaskOutcome};

/// Rough cost of one bytecode in CPython, as units of `interpreter_work`. Without it a Rust
/// increment takes ~2 ns and a whole demo would fit inside one 5 ms switch interval, so the GIL
/// would never change hands; with it the lanes hand over about as often per update as CPython's
/// (~0.1 µs per `counter += one()`).
const WORK_PER_OP: u32 = 24;

/// The work one bytecode stands for: a short dependent chain the optimiser cannot remove.
fn interpreter_work(ops: u32) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..ops * WORK_PER_OP {
        x = black_box(x.rotate_left(5) ^ 0x2545_F491);
    }
    x
}

/// Performs `spec.increments` updates of `counter` in `spec.style`.
pub fn run_counter(
    th: &mut PyThread<'_>,
    spec: &CounterSpec,
    counter: &SharedCounter,
    env: &Env<'_>,
) -> TaskOutcome {
    for i in 0..spec.increments {
        if i % 4096 == 0 && env.stop.load(std::sync::atomic::Ordering::Relaxed) {
            return TaskOutcome::Error {
                message: format!("stopped after {i} increments"),
            };
        }
        match spec.style {
            CounterStyle::Plain => {
                black_box(interpreter_work(4));
                let v = counter.load();
                counter.store(v + 1);
            }
            CounterStyle::InCall => {
                // The loop's own bytecodes and loading `one`, before the read of `counter`:
                // a drop request that arrives here is noticed at the call, mid-update.
                black_box(interpreter_work(2));
                let v = counter.load();
                // `one()` is a call: CPython checks the eval breaker on entering it.
                th.checkpoint();
                black_box(interpreter_work(2));
                counter.store(v + 1);
            }
            CounterStyle::Locked => {
                // `lock.acquire()` blocks with the GIL released when another thread holds the
                // lock (the holder may be waiting for the GIL we hold).
                let guard = match counter.lock().try_lock() {
                    Ok(g) => g,
                    Err(_) => th.blocking(|| {
                        counter
                            .lock()
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                    }),
                };
                black_box(interpreter_work(2));
                let v = counter.load();
                th.checkpoint();
                black_box(interpreter_work(2));
                counter.store(v + 1);
                drop(guard);
            }
        }
        // The loop's backward jump.
        th.checkpoint();
    }
    TaskOutcome::Counted {
        increments: spec.increments,
    }
}
