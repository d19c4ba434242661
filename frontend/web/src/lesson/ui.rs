//! The lesson's components: the whole page (a table of contents and every section), one
//! section (the idea, the guess, Run/Stop, one picture per demo, the verdict), and a section
//! alone for an `<iframe>`.

use gil_lab::view;
use leptos::prelude::*;

use super::explain;
use super::game::SchedulerGame;
use super::runs::{self, RunState, SectionUi, Shared};
use super::sections::{SECTIONS, Section, Size};
use super::store;
use crate::page::{cores, isolated, mode_sentence, window};
use crate::picture::Picture;

/// Where section `id` is on the isolated page, when this page is the `/plain/` copy that
/// `gil-lab serve` offers beside it.
fn isolated_twin(id: &str) -> Option<String> {
    let path = window().location().pathname().ok()?;
    let rest = path.strip_prefix("/plain")?;
    rest.starts_with('/').then(|| format!("{rest}#{id}"))
}

/// The prediction: the question and its answers as one radio group.
#[component]
fn Guess(ui: SectionUi) -> impl IntoView {
    let s = ui.section;
    let choices = s
        .choices
        .iter()
        .map(|c| {
            let id = format!("guess-{}-{}", s.id, c.key);
            let key = c.key;
            let for_id = id.clone();
            view! {
                <label for=for_id class="choice">
                    <input type="radio" id=id name=format!("guess-{}", s.id) value=key
                        checked=move || ui.guess.with(|g| g.as_deref() == Some(key))
                        on:change=move |_| {
                            ui.guess.set(Some(key.to_owned()));
                            store::save_guess(s.id, Some(key));
                        }/>
                    " "{c.text}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="guess">
            <legend><span class="ask">"Before you run: "</span>{s.question_for(cores())}</legend>
            {choices}
            <p class="kept">"Your guess stays in this browser, so you can come back to it."</p>
        </fieldset>
    }
}

/// The size switch: seconds, or the lesson's own numbers.
#[component]
fn SizeSwitch(ui: SectionUi) -> impl IntoView {
    let s = ui.section;
    let option = move |size: Size, key: &'static str, text: String| {
        let id = format!("size-{}-{key}", s.id);
        let for_id = id.clone();
        view! {
            <label for=for_id>
                <input type="radio" id=id name=format!("size-{}", s.id)
                    checked=move || ui.size.get() == size
                    disabled=move || ui.state.get() == RunState::Running
                    on:change=move |_| ui.size.set(size)/>
                " "{text}
            </label>
        }
    };
    view! {
        <fieldset class="size">
            <legend>"Size"</legend>
            {option(Size::Quick, "quick", "quick: a few seconds".to_owned())}
            {option(Size::Lesson, "lesson", format!("the lesson's: {}", s.lesson_time))}
        </fieldset>
    }
}

/// One demo's picture, with its caption and the Python it stands for.
#[component]
fn DemoFigure(ui: SectionUi, k: usize) -> impl IntoView {
    let demo = ui.section.demos[k];
    let python = demo.scenario().map(|s| s.python_code()).unwrap_or_default();
    let report: Signal<Option<gil_lab::trace::RunReport>> = ui.report(k).into();
    let placeholder = Signal::derive(move || {
        let running = ui.state.get() == RunState::Running;
        let current = ui.current.get();
        if running && current == Some(k) && runs::reduced_motion() {
            "Running: the picture appears when this run ends (your system asks for reduced motion)."
                .to_owned()
        } else if running && current.is_some_and(|c| c < k) {
            "Waiting for the run before this one.".to_owned()
        } else {
            "Press Run: the timeline appears here.".to_owned()
        }
    });
    let params = Memo::new(move |_| {
        demo.params(ui.size.get())
            .map(|p| view::describe_params(&p))
            .unwrap_or_default()
    });
    view! {
        <figure class="demo">
            <figcaption>
                <span class="step">{k + 1}". "</span><strong>{demo.caption}</strong>
                " · "<code>{demo.scenario}</code>" · "<span class="params">{move || params.get()}</span>
            </figcaption>
            <Picture report=report compact=true placeholder=placeholder/>
            <details class="python">
                <summary>"The Python this stands for"</summary>
                <pre><code>{python}</code></pre>
            </details>
        </figure>
    }
}

/// What the run showed: the guess against the result, and the numbers.
#[component]
fn VerdictView(ui: SectionUi) -> impl IntoView {
    let s = ui.section;
    view! {
        <div class="verdict" aria-live="polite">
            {move || ui.verdict.get().map(|v| {
                let compare = ui.guess.with(|g| explain::compare_guess(s, g.as_deref(), v.answer));
                let agrees = ui.guess.with(|g| g.is_some() && g.as_deref() == v.answer);
                view! {
                    <h3>"What this run showed"</h3>
                    <p class="compare" class:agrees=agrees>{compare}</p>
                    <ul>{v.lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                }
            })}
            {move || (ui.state.get() == RunState::Stopped).then(|| view! {
                <p class="compare">"Stopped before the end: the pictures keep what was recorded, but a partial run proves nothing. Run it again to see the numbers."</p>
            })}
        </div>
    }
}

/// The closing section's table: the headline of every section finished on this visit.
#[component]
fn Results(shared: Shared) -> impl IntoView {
    view! {
        <div class="results">
            {move || {
                let rows = shared.results.get();
                if rows.is_empty() {
                    view! { <p class="muted">"Run the sections above: the headline number of each gathers here, measured in this browser."</p> }.into_any()
                } else {
                    view! {
                        <table>
                            <caption>"What you measured on this visit"</caption>
                            <thead><tr><th scope="col">"Section"</th><th scope="col">"Measured here"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|(id, title, line)| view! {
                                    <tr><th scope="row"><a href=format!("lesson/#{id}")>{title}</a></th><td>{line}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            }}
        </div>
    }
}

/// One section of the lesson.
#[component]
pub fn SectionView(ui: SectionUi, number: usize) -> impl IntoView {
    let s: &'static Section = ui.section;
    let iso = isolated();
    let blocked = Memo::new(move |_| runs::blocked(s, ui.size.get(), iso));
    let busy_elsewhere = move || ui.shared.busy.get().is_some_and(|b| b != s.id);
    let status = move || match ui.state.get() {
        RunState::Idle if busy_elsewhere() => {
            "Another section is running; this one can run when it ends.".to_owned()
        }
        RunState::Idle => String::new(),
        RunState::Running => {
            let k = ui.current.get().unwrap_or(0);
            format!(
                "Running {} of {}: {}…",
                k + 1,
                s.demos.len(),
                s.demos.get(k).map_or("", |d| d.caption)
            )
        }
        RunState::Done => "Done.".to_owned(),
        RunState::Stopped => "Stopped: every worker was terminated.".to_owned(),
        RunState::Failed => "It could not run: see why below.".to_owned(),
    };
    let title_id = format!("{}-title", s.id);
    let labelled_by = title_id.clone();
    let intro = s.intro.iter().map(|p| view! { <p>{*p}</p> }).collect_view();
    let figures = (0..s.demos.len())
        .map(|k| view! { <DemoFigure ui=ui k=k/> })
        .collect_view();
    let twin = isolated_twin(s.id);
    view! {
        <section id=s.id class="lesson-section" aria-labelledby=labelled_by
            data-state=move || ui.state.get().key()>
            <h2 id=title_id><span class="num">{number}". "</span>{s.title}</h2>
            <div class="intro">{intro}</div>
            <Guess ui=ui/>
            {move || blocked.get().map(|why| view! {
                <div class="blocked" role="note">
                    <p><strong>"This demo cannot run on this page. "</strong>{why}</p>
                    {s.game.then(|| view! { <p>"The scheduler game below runs anywhere: it shows the same lost update, one bytecode at a time."</p> })}
                    {twin.clone().map(|href| view! { <p><a href=href>"Open this lesson on the isolated page"</a>", where it can run."</p> })}
                </div>
            })}
            <div class="run-bar">
                <SizeSwitch ui=ui/>
                <div class="buttons">
                    <button id=format!("run-{}", s.id) class="primary run"
                        disabled=move || ui.shared.busy.get().is_some() || blocked.get().is_some()
                        on:click=move |_| runs::start(ui)>"Run"</button>
                    <button id=format!("stop-{}", s.id) class="stop"
                        disabled=move || ui.state.get() != RunState::Running
                        on:click=move |_| runs::stop(ui)>"Stop"</button>
                    <span class="status" role="status">{status}</span>
                </div>
            </div>
            {move || ui.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="demos">{figures}</div>
            // The simulator's "same on 16 / 64 cores" pictures go here once the engine exports
            // it (the seam is `simulate::simulated`); until then nothing is shown, and nothing
            // is invented.
            <VerdictView ui=ui/>
            {s.game.then(|| view! { <SchedulerGame/> })}
            {(s.id == "which").then(|| view! { <Results shared=ui.shared/> })}
        </section>
    }
}

/// A fresh [`SectionUi`] for `section`, with the guess kept from an earlier visit.
pub fn section_ui(section: &'static Section, shared: Shared) -> SectionUi {
    SectionUi::new(section, shared, store::load_guess(section.id))
}

/// The whole lesson page.
#[component]
pub fn LessonPage() -> impl IntoView {
    let shared = Shared::new();
    let iso = isolated();
    let toc = SECTIONS
        .iter()
        .map(|s| view! { <li><a href=format!("lesson/#{}", s.id)>{s.title}</a></li> })
        .collect_view();
    let sections = SECTIONS
        .iter()
        .enumerate()
        .map(|(i, s)| view! { <SectionView ui=section_ui(s, shared) number=i + 1/> })
        .collect_view();
    view! {
        <header class="lesson-header">
            <p class="crumb"><a href="./">"GIL Lab"</a>" › the lesson"</p>
            <h1>"Threads, processes and the GIL, step by step"</h1>
            <p class="tagline">"Each step asks you to guess first, then runs the real thing in this browser and explains what the picture showed, with this run's own numbers."</p>
            <p class="mode" data-isolated=iso.to_string()>{mode_sentence(iso)}</p>
            <nav aria-label="Steps of the lesson"><ol class="toc">{toc}</ol></nav>
        </header>
        <main class="lesson-main">{sections}</main>
        <footer class="lesson-footer">"Everything runs on Web Workers in this page; nothing is sent anywhere. Your guesses are kept in this browser's local storage."</footer>
    }
}

/// One section alone, for an `<iframe>` (`?embed=lesson/<section>`).
#[component]
pub fn EmbedSection(section: &'static Section) -> impl IntoView {
    let shared = Shared::new();
    let iso = isolated();
    let number = SECTIONS
        .iter()
        .position(|s| s.id == section.id)
        .unwrap_or(0)
        + 1;
    view! {
        <main class="lesson-main embed">
            <h1 class="embed-title">"GIL Lab · the lesson"</h1>
            <SectionView ui=section_ui(section, shared) number=number/>
            <p class="mode small" data-isolated=iso.to_string()>{mode_sentence(iso)}</p>
        </main>
    }
}
