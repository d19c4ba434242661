//! "Be the scheduler": two threads run `counter += 1` (or `counter += one()`) bytecode by
//! bytecode, and the learner picks which thread runs next — keys `1` and `2`, or the buttons —
//! until an update is lost; then the GIL decides instead (key `G`), switching only at the check
//! points CPython ≥ 3.10 has. The rules are the core's [`gil_lab::scheduler_game`]; this file
//! only draws them and takes the learner's keys and clicks.

use gil_lab::scheduler_game::{Decider, Game, Style, program};
use leptos::prelude::*;

use super::narrate::{self, python_line, stack_words, thread_name};

/// Loop iterations per thread: enough for the GIL to hand over at a loop's end once.
const ITERATIONS: u32 = 3;

/// One line of the history: who ran, what it did, whether it lost an update.
#[derive(Clone)]
struct Entry {
    thread: usize,
    text: String,
    lost: bool,
}

/// The Python both threads run, for the chosen style.
fn python(style: Style) -> String {
    let helper = match style {
        Style::Plain => "",
        Style::Call => "def one():\n    return 1\n\n",
    };
    format!(
        "counter = 0\n{helper}def work():\n    global counter\n    for _ in range({ITERATIONS}):\n        {}\n\n# two threads run work() at once",
        python_line(style)
    )
}

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
    let play_out = move || while gil_step() {};
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let handled = match ev.key().as_str() {
            "1" => {
                step(0);
                true
            }
            "2" => {
                step(1);
                true
            }
            "g" | "G" => {
                gil_step();
                true
            }
            "r" | "R" => {
                reset();
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    };

    let finished = move || game.with(Game::finished);
    let lost = move || game.with(Game::lost);
    let thread_done = move |t: usize| game.with(|g| g.next_bytecode(t).is_none());

    let listing = move |t: usize| {
        move || {
            let code = program(style.get());
            code.iter()
                .enumerate()
                .map(|(i, b)| {
                    let is_next = move || {
                        game.with(|g| g.next_bytecode(t).is_some() && g.threads()[t].pc == i)
                    };
                    view! {
                        <li class:next=is_next aria-current=move || is_next().then_some("step")>
                            <span class="marker" aria-hidden="true">{move || if is_next() { "▶" } else { "" }}</span>
                            <code>{b.text()}</code>
                            {b.is_check_point().then(|| view! { <span class="cp">"check point"</span> })}
                        </li>
                    }
                })
                .collect_view()
        }
    };
    let panel = move |t: usize| {
        view! {
            <div class=format!("thread t{}", t + 1)>
                <h4><span class="chip" aria-hidden="true">{t + 1}</span>{thread_name(t)}</h4>
                <ol class="code" aria-label=format!("{}'s loop body; the next bytecode is marked", thread_name(t))>
                    {listing(t)}
                </ol>
                <p class="stack">"Stack (what it has read and not yet written): "
                    <output data-stack=t.to_string()>{move || game.with(|g| stack_words(&g.threads()[t].stack))}</output>
                </p>
                <p class="loops">{move || game.with(|g| {
                    let d = g.threads()[t].done;
                    if d >= ITERATIONS { format!("Finished its {ITERATIONS} loops.") } else { format!("Loops done: {d} of {ITERATIONS}.") }
                })}</p>
            </div>
        }
    };

    view! {
        <section class="game" aria-labelledby="game-title" on:keydown=on_key>
            <h3 id="game-title">"Be the scheduler"</h3>
            <p>"Two threads run the loop below, one bytecode at a time. You decide which thread runs its next bytecode: press "<kbd>"1"</kbd>" or "<kbd>"2"</kbd>" (or the buttons). Can you make an update disappear? Then let the GIL decide with "<kbd>"G"</kbd>", and compare the two ways of writing the update. "<kbd>"R"</kbd>" starts over."</p>
            <div class="game-options">
                <fieldset>
                    <legend>"The update"</legend>
                    <label><input type="radio" name="game-style" id="game-style-plain" checked=move || style.get() == Style::Plain
                        on:change=move |_| { style.set(Style::Plain); reset(); }/>" "<code>"counter += 1"</code></label>
                    <label><input type="radio" name="game-style" id="game-style-call" checked=move || style.get() == Style::Call
                        on:change=move |_| { style.set(Style::Call); reset(); }/>" "<code>"counter += one()"</code></label>
                </fieldset>
                <fieldset>
                    <legend>"Who picks the next bytecode"</legend>
                    <label><input type="radio" name="game-decider" id="game-decider-you" checked=move || decider.get() == Decider::Learner
                        on:change=move |_| { decider.set(Decider::Learner); reset(); }/>" you (keys 1 and 2)"</label>
                    <label><input type="radio" name="game-decider" id="game-decider-gil" checked=move || decider.get() == Decider::Gil
                        on:change=move |_| { decider.set(Decider::Gil); reset(); }/>" the GIL (key G): it switches only at check points"</label>
                </fieldset>
                <pre class="game-python"><code>{move || python(style.get())}</code></pre>
            </div>
            <div class="board">
                {panel(0)}
                <div class="shared" data-counter=move || game.with(Game::counter).to_string() data-lost=move || lost().to_string()>
                    <h4>"Shared memory"</h4>
                    <p class="counter"><span>"counter = "</span><output id="game-counter">{move || game.with(Game::counter)}</output></p>
                    <p class="tally">{move || game.with(narrate::tally)}</p>
                </div>
                {panel(1)}
            </div>
            <div class="buttons">
                <Show when=move || decider.get() == Decider::Learner>
                    <button id="game-step-1" class="t1" disabled=move || thread_done(0) on:click=move |_| step(0)>"Run Thread 1's next bytecode "<kbd>"1"</kbd></button>
                    <button id="game-step-2" class="t2" disabled=move || thread_done(1) on:click=move |_| step(1)>"Run Thread 2's next bytecode "<kbd>"2"</kbd></button>
                </Show>
                <Show when=move || decider.get() == Decider::Gil>
                    <button id="game-gil-step" disabled=finished on:click=move |_| { gil_step(); }>"Let the GIL run one bytecode "<kbd>"G"</kbd></button>
                    <button id="game-gil-all" disabled=finished on:click=move |_| play_out()>"Let the GIL play to the end"</button>
                </Show>
                <button id="game-reset" on:click=move |_| reset()>"Start over "<kbd>"R"</kbd></button>
            </div>
            <p class="said" role="status">{move || said.get()}</p>
            {move || game.with(narrate::why_lost).map(|w| view! {
                <p class="lost-box"><strong>"An update was lost. "</strong>{w}</p>
            })}
            {move || (finished() && decider.get() == Decider::Gil).then(|| view! {
                <p class="gil-verdict">{game.with(narrate::gil_verdict)}</p>
            })}
            {move || (finished() && decider.get() == Decider::Learner && lost() == 0).then(|| view! {
                <p class="gil-verdict">"Nothing lost this time: every read was written back before the other thread read. Try reading in one thread, then running the other thread's whole update."</p>
            })}
            <h4>"History"</h4>
            <ol class="history" tabindex="0" aria-label="History of the bytecodes run, oldest first">
                <For each=move || log.get().into_iter().enumerate() key=|(i, _)| *i let:item>
                    <li class=format!("t{}{}", item.1.thread + 1, if item.1.lost { " lost" } else { "" })>
                        {item.1.lost.then_some("⚠ ")}{item.1.text.clone()}
                    </li>
                </For>
            </ol>
        </section>
    }
}
