//! Running a section: its demos one after another on the page's one engine (`runtime`, the
//! same host Worker as the lab page), the growing picture redrawn twice a second (not at all
//! when the learner asks for reduced motion), and the verdict once the last demo is done.
//!
//! One run at a time on the whole page: the engine has one host, and on a small machine two
//! runs would only slow each other down (and falsify each other's numbers).

use std::cell::RefCell;

use gil_lab::plan::build_tasks;
use gil_lab::scenario::{Model, Params};
use gil_lab::trace::RunReport;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::explain::Verdict;
use super::sections::{Section, Size};
use crate::page::{browser, cores, image_urls, isolated, publish, window};
use crate::runtime::{self, Update as RunUpdate};

/// Where a section's run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Not run yet on this visit.
    Idle,
    /// Its demos are running.
    Running,
    /// Every demo finished; the verdict is shown.
    Done,
    /// The learner stopped it; the partial trace stays.
    Stopped,
    /// It could not run or failed; the error says why.
    Failed,
}

impl RunState {
    /// The `data-state` attribute (what the browser tests wait for).
    pub fn key(self) -> &'static str {
        match self {
            RunState::Idle => "idle",
            RunState::Running => "running",
            RunState::Done => "done",
            RunState::Stopped => "stopped",
            RunState::Failed => "failed",
        }
    }
}

/// What every section shares: which one is running, and the headline of each finished one.
#[derive(Clone, Copy)]
pub struct Shared {
    /// The id of the section whose demos are running.
    pub busy: RwSignal<Option<&'static str>>,
    /// `(section title, headline)` of every section finished on this visit, in lesson order.
    pub results: RwSignal<Vec<(&'static str, &'static str, String)>>,
}

impl Default for Shared {
    fn default() -> Self {
        Self::new()
    }
}

impl Shared {
    /// Nothing running, nothing measured yet.
    pub fn new() -> Self {
        Self {
            busy: RwSignal::new(None),
            results: RwSignal::new(Vec::new()),
        }
    }
}

/// One section's signals.
#[derive(Clone, Copy)]
pub struct SectionUi {
    /// What the section is.
    pub section: &'static Section,
    /// Quick or the lesson's size.
    pub size: RwSignal<Size>,
    /// The learner's guess (a choice key), kept in localStorage.
    pub guess: RwSignal<Option<String>>,
    /// One report per demo: growing while it runs, final once done.
    pub reports: StoredValue<Vec<RwSignal<Option<RunReport>>>>,
    /// Where the run is.
    pub state: RwSignal<RunState>,
    /// The demo running now.
    pub current: RwSignal<Option<usize>>,
    /// What the run showed, once every demo finished.
    pub verdict: RwSignal<Option<Verdict>>,
    /// Why the run could not go on.
    pub error: RwSignal<Option<String>>,
    /// The page-wide state.
    pub shared: Shared,
}

impl SectionUi {
    /// Fresh signals for `section`, with the guess kept from an earlier visit.
    pub fn new(section: &'static Section, shared: Shared, guess: Option<String>) -> Self {
        Self {
            section,
            size: RwSignal::new(Size::Quick),
            guess: RwSignal::new(guess),
            reports: StoredValue::new(section.demos.iter().map(|_| RwSignal::new(None)).collect()),
            state: RwSignal::new(RunState::Idle),
            current: RwSignal::new(None),
            verdict: RwSignal::new(None),
            error: RwSignal::new(None),
            shared,
        }
    }

    /// The report signal of demo `k`.
    pub fn report(&self, k: usize) -> RwSignal<Option<RunReport>> {
        self.reports
            .with_value(|v| v.get(k).copied())
            .unwrap_or_else(|| RwSignal::new(None))
    }

    fn fail(self, message: String) {
        self.error.set(Some(message));
        self.state.set(RunState::Failed);
        self.current.set(None);
        if self.shared.busy.get_untracked() == Some(self.section.id) {
            self.shared.busy.set(None);
        }
        publish("error", None);
    }
}

/// Why `section` cannot run on this page at `size` (a demo needs what the page lacks), as the
/// engine says it.
pub fn blocked(section: &Section, size: Size, isolated: bool) -> Option<String> {
    section.demos.iter().find_map(|d| {
        let params = d.params(size).ok()?;
        if runtime::simulator_stands_in(&params, isolated) {
            return None;
        }
        runtime::path_for(&params, isolated).err()
    })
}

/// Whether the learner's system asks for reduced motion (then the picture appears when a run
/// ends instead of growing).
pub fn reduced_motion() -> bool {
    window()
        .match_media("(prefers-reduced-motion: reduce)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

struct Job {
    ui: SectionUi,
    plan: Vec<(&'static str, Params)>,
    /// The demo running now.
    next: usize,
    done: Vec<RunReport>,
}

thread_local! {
    static JOB: RefCell<Option<Job>> = const { RefCell::new(None) };
    static TIMER: RefCell<Option<Closure<dyn FnMut()>>> = const { RefCell::new(None) };
}

/// Hooks the lesson to the engine: run updates come here, and a timer redraws the growing
/// picture. Call once, at mount.
pub fn install() {
    runtime::set_listener(on_update);
    TIMER.with(|t| {
        let cb = Closure::<dyn FnMut()>::new(redraw);
        // Twice a second, as the lab page: enough to watch it grow, and each redraw costs CPU
        // the workers would otherwise have (the machine may have two cores).
        let _ = window().set_interval_with_callback_and_timeout_and_arguments_0(
            cb.as_ref().unchecked_ref(),
            500,
        );
        *t.borrow_mut() = Some(cb);
    });
}

fn redraw() {
    if !runtime::running() || reduced_motion() {
        return;
    }
    let current = JOB.with(|j| j.borrow().as_ref().map(|j| (j.ui, j.next)));
    if let (Some((ui, k)), Some(r)) = (current, runtime::snapshot()) {
        ui.report(k).set(Some(r));
    }
}

/// Runs every demo of `ui`'s section, one after another.
pub fn start(ui: SectionUi) {
    if ui.shared.busy.get_untracked().is_some() {
        return;
    }
    let size = ui.size.get_untracked();
    let mut plan = Vec::new();
    for d in ui.section.demos {
        match d.params(size) {
            Ok(p) => plan.push((d.scenario, p)),
            Err(e) => return ui.fail(e),
        }
    }
    if let Some(why) = blocked(ui.section, size, isolated()) {
        return ui.fail(why);
    }
    for k in 0..ui.section.demos.len() {
        ui.report(k).set(None);
    }
    ui.verdict.set(None);
    ui.error.set(None);
    ui.state.set(RunState::Running);
    ui.shared.busy.set(Some(ui.section.id));
    publish("running", None);
    JOB.with(|j| {
        *j.borrow_mut() = Some(Job {
            ui,
            plan,
            next: 0,
            done: Vec::new(),
        })
    });
    start_next();
}

fn start_next() {
    let step = JOB.with(|j| {
        let j = j.borrow();
        let j = j.as_ref()?;
        let (scenario, params) = j.plan.get(j.next)?.clone();
        Some((j.ui, j.next, scenario, params))
    });
    let Some((ui, k, scenario, params)) = step else {
        return;
    };
    let iso = isolated();
    if runtime::simulator_stands_in(&params, iso) {
        return simulate_instead(ui, k, scenario);
    }
    let path = match runtime::path_for(&params, iso) {
        Ok(p) => p,
        Err(e) => return abandon(ui, e),
    };
    let urls = image_urls();
    let tasks = build_tasks(&params, &urls);
    ui.current.set(Some(k));
    if let Err(e) = runtime::start(
        scenario,
        params,
        tasks,
        path,
        &urls,
        cores(),
        &browser(),
        iso,
    ) {
        abandon(ui, e);
    }
}

/// Demo `k` from the simulator, on a page that cannot run it (as the lab does there): its
/// report is labelled simulated and says why, and it takes the live run's place.
fn simulate_instead(ui: SectionUi, k: usize, scenario: &'static str) {
    let overrides = match ui.section.demos[k].overrides(ui.size.get_untracked()) {
        Ok(o) => o,
        Err(e) => return abandon(ui, e),
    };
    ui.current.set(Some(k));
    let choice = crate::simulate::SimChoice {
        cores: Some(cores()),
        ..Default::default()
    };
    wasm_bindgen_futures::spawn_local(async move {
        match crate::simulate::simulate(scenario, &overrides, &choice).await {
            Ok(s) => {
                let mut r = s.report;
                r.notes.push(runtime::SIMULATED_INSTEAD.to_owned());
                on_update(RunUpdate::Finished(Box::new(r)));
            }
            Err(e) => abandon(ui, e),
        }
    });
}

fn abandon(ui: SectionUi, message: String) {
    JOB.with(|j| j.borrow_mut().take());
    ui.fail(message);
}

/// The sequential demo's wall time is the speed-up's base for a later demo of the same work.
fn baseline_for(done: &[RunReport], r: &RunReport) -> Option<u64> {
    let base = done.first()?;
    (matches!(base.params.model, Model::Sequential)
        && !matches!(r.params.model, Model::Sequential)
        && base.params.workload == r.params.workload
        && base.params.tasks == r.params.tasks)
        .then_some(base.wall_us)
}

fn on_update(u: RunUpdate) {
    match u {
        RunUpdate::Progress => {}
        RunUpdate::Finished(mut r) => {
            let step = JOB.with(|j| {
                let mut j = j.borrow_mut();
                let job = j.as_mut()?;
                r.baseline_wall_us = baseline_for(&job.done, &r).or(r.baseline_wall_us);
                job.done.push((*r).clone());
                let k = job.next;
                job.next += 1;
                Some((job.ui, k, job.next < job.plan.len()))
            });
            let Some((ui, k, more)) = step else {
                return;
            };
            publish("demo-done", Some(&r));
            ui.report(k).set(Some(*r));
            if more {
                // Not from inside the engine's listener: start the next demo on a fresh turn.
                wasm_bindgen_futures::spawn_local(async { start_next() });
            } else {
                finish();
            }
        }
        RunUpdate::Failed(e) => {
            let ui = JOB.with(|j| j.borrow_mut().take().map(|j| j.ui));
            if let Some(ui) = ui {
                ui.fail(e);
            }
        }
    }
}

fn finish() {
    let Some(job) = JOB.with(|j| j.borrow_mut().take()) else {
        return;
    };
    let ui = job.ui;
    let verdict = (ui.section.explain)(&job.done, cores());
    if !verdict.headline.is_empty() {
        let line = (ui.section.id, ui.section.title, verdict.headline.clone());
        ui.shared.results.update(|rs| {
            rs.retain(|(id, _, _)| *id != ui.section.id);
            rs.push(line);
            let order = |id: &str| super::sections::SECTIONS.iter().position(|s| s.id == id);
            rs.sort_by_key(|(id, _, _)| order(id));
        });
    }
    ui.verdict.set(Some(verdict));
    ui.current.set(None);
    ui.state.set(RunState::Done);
    ui.shared.busy.set(None);
    publish("done", job.done.last());
}

/// Stops `ui`'s run at once: every worker is terminated, the trace so far stays on screen.
pub fn stop(ui: SectionUi) {
    let mine = JOB.with(|j| {
        j.borrow()
            .as_ref()
            .is_some_and(|j| j.ui.section.id == ui.section.id)
    });
    if !mine {
        return;
    }
    let job = JOB.with(|j| j.borrow_mut().take());
    if let (Some(job), Some(r)) = (job, runtime::stop()) {
        publish("stopped", Some(&r));
        ui.report(job.next).set(Some(r));
    }
    ui.current.set(None);
    ui.state.set(RunState::Stopped);
    ui.shared.busy.set(None);
}
