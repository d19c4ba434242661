//! "Be the scheduler" in words: what each bytecode just did to a thread's stack and to the
//! shared counter, and why an update was lost. The game itself is the core's
//! [`gil_lab::scheduler_game::Game`]; this only tells it.
//!
//! Platform-free, tested natively.

use gil_lab::scheduler_game::{Bytecode, Game, Step, Style};

/// `Thread 1`, `Thread 2` (the game numbers threads from 0).
pub fn thread_name(t: usize) -> String {
    format!("Thread {}", t + 1)
}

/// The Python line the game's loop body stands for.
pub fn python_line(style: Style) -> &'static str {
    match style {
        Style::Plain => "counter += 1",
        Style::Call => "counter += one()",
    }
}

/// A thread's stack as the page shows it: `[0, 1]`, or `empty`.
pub fn stack_words(stack: &[u64]) -> String {
    if stack.is_empty() {
        "empty".to_owned()
    } else {
        let items: Vec<String> = stack.iter().map(u64::to_string).collect();
        format!("[{}]", items.join(", "))
    }
}

/// What `step` did, told after it ran (`game` is the game just after it).
pub fn describe(game: &Game, step: &Step) -> String {
    let who = thread_name(step.thread);
    let other = thread_name(1 - step.thread);
    let stack = game
        .threads()
        .get(step.thread)
        .map(|t| stack_words(&t.stack))
        .unwrap_or_default();
    let switched = if step.switched {
        format!("The GIL passed to {who}. ")
    } else {
        String::new()
    };
    let what = match step.bytecode {
        Bytecode::LoadCounter => {
            format!("read the counter: {} (stack {stack})", step.counter)
        }
        Bytecode::LoadOne => format!("pushed 1 (stack {stack})"),
        Bytecode::CallOne => {
            format!("called one(), which returned 1 (stack {stack}); a check point")
        }
        Bytecode::Add => format!("added (stack {stack})"),
        Bytecode::StoreCounter => match step.overwrote {
            // The value this thread read last, before the other thread's write.
            Some(_) => match last_read(game, step.thread) {
                Some(read) => format!(
                    "wrote {}, computed from the {read} it read before {other} wrote: {other}'s update is lost",
                    step.counter
                ),
                None => format!("wrote {}: {other}'s update is lost", step.counter),
            },
            None => format!("wrote the counter: now {}", step.counter),
        },
        Bytecode::JumpBackward => "jumped back to the top of the loop; a check point".to_owned(),
    };
    format!("{switched}{who} {what}.")
}

/// What `thread` read in its latest `LOAD_GLOBAL counter` (not counting the step just run).
fn last_read(game: &Game, thread: usize) -> Option<u64> {
    game.history()
        .iter()
        .rev()
        .skip(1)
        .find(|s| s.thread == thread && s.bytecode == Bytecode::LoadCounter)
        .map(|s| s.counter)
}

/// One line on the game's state: counter, writes, lost updates.
pub fn tally(game: &Game) -> String {
    let writes = game.counter() + game.lost();
    format!(
        "Counter {} after {} write{}: {} update{} lost.",
        game.counter(),
        writes,
        if writes == 1 { "" } else { "s" },
        game.lost(),
        if game.lost() == 1 { "" } else { "s" }
    )
}

/// Why the first update was lost, told from the history; `None` while nothing is lost.
pub fn why_lost(game: &Game) -> Option<String> {
    let history = game.history();
    let at = history.iter().position(|s| s.overwrote.is_some())?;
    let writer = history[at].thread;
    // The writer's read that this write came from: its last load of the counter before it.
    let read = history[..at]
        .iter()
        .rev()
        .find(|s| s.thread == writer && s.bytecode == Bytecode::LoadCounter)?;
    Some(format!(
        "{w} read {r}, then {o} wrote the counter before {w} wrote back. {w} wrote {v}, \
         computed from the {r} it had read, over {o}'s {old}.",
        w = thread_name(writer),
        o = thread_name(1 - writer),
        r = read.counter,
        v = history[at].counter,
        old = history[at].overwrote.unwrap_or_default(),
    ))
}

/// What the GIL did with this loop, once it has played the game out.
pub fn gil_verdict(game: &Game) -> String {
    let handoffs = game.history().iter().filter(|s| s.switched).count();
    let at_call = game
        .history()
        .windows(2)
        .filter(|w| w[1].switched && w[0].bytecode == Bytecode::CallOne)
        .count();
    let line = python_line(game.style());
    if game.lost() == 0 {
        format!(
            "The GIL changed hands {handoffs} time{} and only at the loop's end: “{line}” never lost an update.",
            if handoffs == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "The GIL changed hands {handoffs} time{}, {at_call} of them at the call to one(), between a read and its write: “{line}” lost {} update{}.",
            if handoffs == 1 { "" } else { "s" },
            game.lost(),
            if game.lost() == 1 { "" } else { "s" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interleaving_that_loses_an_update_is_told_as_such() {
        let mut g = Game::new(Style::Plain, 1);
        let mut said = Vec::new();
        let mut go = |g: &mut Game, t: usize| {
            let step = g.step(t).expect("step").clone();
            said.push(describe(g, &step));
        };
        go(&mut g, 0); // thread 1 reads 0
        for _ in 0..5 {
            go(&mut g, 1); // thread 2: a whole update, counter = 1
        }
        for _ in 0..4 {
            go(&mut g, 0); // thread 1 writes 0 + 1 over it
        }
        assert_eq!(said[0], "Thread 1 read the counter: 0 (stack [0]).");
        assert_eq!(said[4], "Thread 2 wrote the counter: now 1.");
        assert_eq!(
            said[8],
            "Thread 1 wrote 1, computed from the 0 it read before Thread 2 wrote: Thread 2's update is lost."
        );
        assert_eq!(tally(&g), "Counter 1 after 2 writes: 1 update lost.");
        let why = why_lost(&g).expect("lost");
        assert!(
            why.starts_with("Thread 1 read 0, then Thread 2 wrote the counter"),
            "{why}"
        );
    }

    #[test]
    fn whole_updates_in_turn_tell_of_no_loss() {
        let mut g = Game::new(Style::Call, 1);
        for t in [0, 1] {
            for _ in 0..5 {
                g.step(t).expect("step");
            }
        }
        assert_eq!(why_lost(&g), None);
        assert_eq!(tally(&g), "Counter 2 after 2 writes: 0 updates lost.");
    }

    #[test]
    fn the_gil_verdict_names_where_it_switched() {
        let mut plain = Game::new(Style::Plain, 3);
        plain.play_out_with_gil();
        let v = gil_verdict(&plain);
        assert!(
            v.contains("only at the loop's end") && v.contains("counter += 1"),
            "{v}"
        );
        let mut call = Game::new(Style::Call, 3);
        call.play_out_with_gil();
        let v = gil_verdict(&call);
        assert!(
            v.contains("at the call to one()") && v.contains("lost"),
            "{v}"
        );
    }

    #[test]
    fn stacks_read_naturally() {
        assert_eq!(stack_words(&[]), "empty");
        assert_eq!(stack_words(&[3, 1]), "[3, 1]");
    }
}
