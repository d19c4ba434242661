//! "Be the scheduler": two threads run `counter += 1` (or `counter += one()`) bytecode by
//! bytecode, and the learner picks which thread runs next — keys `1` and `2`, or the buttons —
//! until an update is lost; then the GIL decides instead (key `G`), switching only at the check
//! points CPython ≥ 3.10 has. The rules are the core's [`gil_lab::scheduler_game`]; this file
//! only takes the learner's keys and clicks, and redraws the board ([`super::markup::board`]).

use gil_lab::scheduler_game::{Decider, Game, Style};
use leptos::prelude::*;

use super::dom::changed_radio;
use super::markup::{self, Entry};
use super::narrate::{self, thread_name};

/// Loop iterations per thread: enough for the GIL to hand over at a loop's end once.
const ITERATIONS: u32 = 3;

/// The game, with its controls, its board and its history.
#[component]
pub fn SchedulerGame() -> impl IntoView {
    let style = RwSignal::new(Style::Plain);
    let decider = RwSignal::new(Decider::Learner);
    let game = RwSignal::new(Game::new(Style::Plain, ITERATIONS));
    let log = RwSignal::new(Vec::<Entry>::new());
    let said = RwSignal::new(String::new());

    let reset = move || {
        game.set(Game::new(style.get_untracked(), ITERATIONS));
        log.set(Vec::new());
        said.set(match decider.get_untracked() {
            Decider::Learner => "New game: pick a thread with 1 or 2.".to_owned(),
            Decider::Gil => "New game: press G to let the GIL run the next bytecode.".to_owned(),
        });
    };
    let record = move || {
        game.with_untracked(|g| {
            if let Some(step) = g.history().last() {
                let text = narrate::describe(g, step);
                said.set(text.clone());
                log.update(|l| {
                    l.push(Entry {
                        thread: step.thread,
                        text,
                        lost: step.overwrote.is_some(),
                    })
                });
            }
        });
    };
    let step = move |t: usize| {
        if decider.get_untracked() != Decider::Learner {
            return;
        }
        let mut ok = false;
        game.update(|g| ok = g.step(t).is_ok());
        if ok {
            record();
        } else {
            said.set(format!("{} has finished its loop.", thread_name(t)));
        }
    };
    let gil_step = move || {
        if decider.get_untracked() != Decider::Gil {
            return false;
        }
        let mut ok = false;
        game.update(|g| ok = g.gil_step().is_some());
        if ok {
            record();
        }
        ok
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        match ev.key().as_str() {
            "1" => step(0),
            "2" => step(1),
            "g" | "G" => {
                gil_step();
            }
            "r" | "R" => reset(),
            _ => return,
        }
        ev.prevent_default();
    };
    let on_change = move |ev: leptos::ev::Event| {
        match changed_radio(&ev) {
            Some((name, value)) if name == "game-style" => {
                style.set(if value == "call" {
                    Style::Call
                } else {
                    Style::Plain
                });
            }
            Some((name, value)) if name == "game-decider" => {
                decider.set(if value == "gil" {
                    Decider::Gil
                } else {
                    Decider::Learner
                });
            }
            _ => return,
        }
        reset();
    };

    let finished = move || game.with(Game::finished);
    let thread_done = move |t: usize| game.with(|g| g.next_bytecode(t).is_none());
    let learner = move || decider.get() == Decider::Learner;

    view! {
        <section class="game" aria-labelledby="game-title" on:keydown=on_key>
            <h3 id="game-title">"Be the scheduler"</h3>
            <p>"Two threads run the loop below, one bytecode at a time. You decide which thread runs its next bytecode: press "<kbd>"1"</kbd>" or "<kbd>"2"</kbd>" (or the buttons). Can you make an update disappear? Then let the GIL decide with "<kbd>"G"</kbd>", and compare the two ways of writing the update. "<kbd>"R"</kbd>" starts over."</p>
            <div class="game-options">
                <div inner_html=markup::game_options() on:change=on_change></div>
                <pre class="game-python"><code>{move || markup::game_python(style.get(), ITERATIONS)}</code></pre>
            </div>
            <div class="board" inner_html=move || game.with(|g| markup::board(g, ITERATIONS))></div>
            <div class="buttons">
                <button id="game-step-1" class="t1" hidden=move || !learner() disabled=move || thread_done(0)
                    on:click=move |_| step(0)>"Run Thread 1's next bytecode "<kbd>"1"</kbd></button>
                <button id="game-step-2" class="t2" hidden=move || !learner() disabled=move || thread_done(1)
                    on:click=move |_| step(1)>"Run Thread 2's next bytecode "<kbd>"2"</kbd></button>
                <button id="game-gil-step" hidden=learner disabled=finished
                    on:click=move |_| { gil_step(); }>"Let the GIL run one bytecode "<kbd>"G"</kbd></button>
                <button id="game-gil-all" hidden=learner disabled=finished
                    on:click=move |_| while gil_step() {}>"Let the GIL play to the end"</button>
                <button id="game-reset" on:click=move |_| reset()>"Start over "<kbd>"R"</kbd></button>
            </div>
            <p class="said" role="status">{move || said.get()}</p>
            <div inner_html=move || game.with(|g| markup::game_notes(g, decider.get() == Decider::Gil))></div>
            <h4>"History"</h4>
            <ol class="history" tabindex="0" aria-label="History of the bytecodes run, oldest first"
                inner_html=move || log.with(|l| markup::history(l))></ol>
        </section>
    }
}
