//! The lesson's components: the whole page (a table of contents and every section), one
//! section (the idea, the guess, Run/Stop, one picture per demo, the verdict), and a section
//! alone for an `<iframe>`. Most markup comes from [`super::markup`] as strings (see there
//! why); the elements here are the ones that react or take input.

use gil_lab::view;
use leptos::prelude::*;

use super::dom::changed_radio;
use super::game::SchedulerGame;
use super::markup;
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

/// One demo's picture, with its caption and the Python it stands for.
fn demo_figure(ui: SectionUi, k: usize) -> impl IntoView {
    let demo = ui.section.demos[k];
    // The Python with the numbers of the size chosen (quick or the lesson's).
    let python = move || {
        demo.scenario()
            .map(|s| match demo.params(ui.size.get()) {
                Ok(p) => s.python_for(&p),
                Err(_) => s.python_code(),
            })
            .unwrap_or_default()
    };
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
    let caption = move || {
        let params = demo
            .params(ui.size.get())
            .map(|p| view::describe_params(&p))
            .unwrap_or_default();
        markup::caption(k, &demo, &params)
    };
    view! {
        <figure class="demo">
            <figcaption inner_html=caption></figcaption>
            <Picture report=report compact=true placeholder=placeholder/>
            <div inner_html=move || markup::python(&python())></div>
        </figure>
    }
}

/// One section of the lesson.
#[component]
pub fn SectionView(ui: SectionUi, number: usize) -> impl IntoView {
    let s: &'static Section = ui.section;
    let iso = isolated();
    let blocked = Memo::new(move |_| runs::blocked(s, ui.size.get(), iso));
    let twin = isolated_twin(s.id);
    let status = move || match ui.state.get() {
        RunState::Idle if ui.shared.busy.get().is_some() => {
            "Another step is running; this one can run when it ends.".to_owned()
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
    let on_change = move |ev: leptos::ev::Event| {
        let Some((name, value)) = changed_radio(&ev) else {
            return;
        };
        if name == format!("guess-{}", s.id) {
            store::save_guess(s.id, Some(&value));
            ui.guess.set(Some(value));
        } else if name == format!("size-{}", s.id) {
            ui.size.set(if value == "lesson" {
                Size::Lesson
            } else {
                Size::Quick
            });
        }
    };
    let verdict = move || {
        let guess = ui.guess.get();
        match (ui.verdict.get(), ui.state.get()) {
            (Some(v), _) => markup::verdict(s, &v, guess.as_deref()),
            (None, RunState::Stopped) => markup::stopped(),
            _ => String::new(),
        }
    };
    let figures = (0..s.demos.len())
        .map(|k| demo_figure(ui, k))
        .collect_view();
    let title_id = format!("{}-title", s.id);
    let labelled_by = title_id.clone();
    let guess_html = markup::guess(s, cores(), ui.guess.get_untracked().as_deref());
    view! {
        <section id=s.id class="lesson-section" aria-labelledby=labelled_by
            data-state=move || ui.state.get().key() on:change=on_change>
            <h2 id=title_id><span class="num">{number}". "</span>{s.title}</h2>
            <div class="intro" inner_html=markup::intro(s)></div>
            <div inner_html=guess_html></div>
            <div class="blocked" role="note" hidden=move || blocked.with(Option::is_none)
                inner_html=move || blocked.get().map(|why| markup::blocked(&why, s.game, twin.as_deref())).unwrap_or_default()></div>
            <div class="run-bar">
                <div inner_html=markup::size(s)></div>
                <div class="buttons">
                    <button id=format!("run-{}", s.id) class="primary run"
                        disabled=move || ui.shared.busy.get().is_some() || blocked.with(Option::is_some)
                        on:click=move |_| runs::start(ui)>"Run"</button>
                    <button id=format!("stop-{}", s.id) class="stop"
                        disabled=move || ui.state.get() != RunState::Running
                        on:click=move |_| runs::stop(ui)>"Stop"</button>
                    <span class="status" role="status">{status}</span>
                </div>
            </div>
            <p class="error" role="alert" hidden=move || ui.error.with(Option::is_none)>{move || ui.error.get()}</p>
            <div class="demos">{figures}</div>
            // "The same on 16 / 64 cores", simulated and labelled so (see `simulate.rs`).
            {(!super::simulate::demos_to_simulate(s, Size::Quick).is_empty())
                .then(|| view! { <super::simulate::SimulatedCores ui=ui/> })}
            <div class="verdict" aria-live="polite" inner_html=verdict></div>
            {s.game.then(|| view! { <SchedulerGame/> })}
            {(s.id == "which").then(|| view! {
                <div class="results" inner_html=move || markup::results(&ui.shared.results.get())></div>
            })}
        </section>
    }
}

/// A fresh [`SectionUi`] for `section`, with the guess kept from an earlier visit.
pub fn section_ui(section: &'static Section, shared: Shared) -> SectionUi {
    SectionUi::new(section, shared, store::load_guess(section.id))
}

/// The page's header: where it is, what it does, how threads run here, the steps.
fn header_html(iso: bool) -> String {
    let esc = view::escape_html;
    let toc: String = SECTIONS
        .iter()
        .map(|s| format!("<li><a href=\"lesson/#{}\">{}</a></li>", s.id, esc(s.title)))
        .collect();
    format!(
        "<p class=\"crumb\"><a href=\"./\">GIL Lab</a> › the lesson</p>\
         <h1>Threads, processes and the GIL, step by step</h1>\
         <p class=\"tagline\">Each step asks you to guess first, then runs the real thing in this browser and explains what the picture showed, with this run's own numbers.</p>\
         <p class=\"mode\" data-isolated=\"{iso}\">{}</p>\
         <nav aria-label=\"Steps of the lesson\"><ol class=\"toc\">{toc}</ol></nav>",
        esc(mode_sentence(iso))
    )
}

/// The whole lesson page.
#[component]
pub fn LessonPage() -> impl IntoView {
    let shared = Shared::new();
    let sections = SECTIONS
        .iter()
        .enumerate()
        .map(|(i, s)| view! { <SectionView ui=section_ui(s, shared) number=i + 1/> })
        .collect_view();
    view! {
        <header class="lesson-header" inner_html=header_html(isolated())></header>
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
