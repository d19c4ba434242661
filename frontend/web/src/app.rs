//! The components: the full lab page and the compact embed view.

use std::cell::RefCell;
use std::collections::HashMap;

use gil_lab::plan::build_tasks;
use gil_lab::scenario::{Model, Params, SCENARIOS, Workload};
use gil_lab::trace::RunReport;
use gil_lab::view;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::backends::{self, BackendControls, CompareView, Hooks, NativeRunButton};
use crate::files;
use crate::form::{self, Fields, QUICK_INCREMENTS, QUICK_N};
use crate::page::{
    browser, console_hook, cores, get, image_urls, isolated, mode_sentence, publish, query,
    reduced_motion, window,
};
use crate::picture::Picture;
use crate::runtime::{self, Update as RunUpdate};

thread_local! {
    /// Wall time of the last sequential run per workload (`n`, tasks, …): the speed-up's base.
    static BASELINES: RefCell<HashMap<String, u64>> = RefCell::new(HashMap::new());
    static TIMER: RefCell<Option<Closure<dyn FnMut()>>> = const { RefCell::new(None) };
}

fn baseline_key(p: &Params) -> String {
    serde_json::to_string(&(&p.workload, p.tasks)).unwrap_or_default()
}

/// Everything the page shows, as signals.
#[derive(Clone, Copy)]
struct Ui {
    scenario: RwSignal<String>,
    fields: RwSignal<Fields>,
    error: RwSignal<Option<String>>,
    status: RwSignal<String>,
    report: RwSignal<Option<RunReport>>,
    running: RwSignal<bool>,
    /// Simulate, Run natively, compare, Download trace (`backends.rs`).
    hooks: Hooks,
}

impl Ui {
    fn new(scenario: String, fields: Fields) -> Self {
        let (scenario, fields) = (RwSignal::new(scenario), RwSignal::new(fields));
        let (error, status) = (RwSignal::new(None), RwSignal::new(String::new()));
        let (report, running) = (RwSignal::new(None), RwSignal::new(false));
        Self {
            scenario,
            fields,
            error,
            status,
            report,
            running,
            hooks: Hooks::new(scenario, fields, error, status, report, running),
        }
    }

    fn run(self) {
        if self.running.get_untracked() {
            return;
        }
        self.error.set(None);
        publish("checking", None);
        let name = self.scenario.get_untracked();
        let sc = match form::scenario(&name) {
            Ok(s) => s,
            Err(e) => return self.invalid(e),
        };
        let params = match self.fields.with_untracked(|f| f.params(sc)) {
            Ok(p) => p,
            Err(e) => return self.invalid(e),
        };
        let iso = isolated();
        let path = match runtime::path_for(&params, iso) {
            Ok(p) => p,
            Err(_) if runtime::simulator_stands_in(&params, iso) => {
                return backends::simulate_instead(self.hooks);
            }
            Err(e) => return self.invalid(e),
        };
        let tasks = build_tasks(&params, &image_urls());
        let ui = self;
        runtime::set_listener(move |u| ui.on_update(u));
        match runtime::start(
            sc.name,
            params,
            tasks,
            path,
            &image_urls(),
            cores(),
            &browser(),
            iso,
        ) {
            Ok(()) => {
                self.running.set(true);
                self.report.set(None);
                publish("running", None);
                bring_picture_into_view();
                if reduced_motion() {
                    self.status.set(format!("Running {}… the picture appears when it ends (your system asks for reduced motion).", sc.name));
                } else {
                    self.status.set(format!("Running {}…", sc.name));
                    start_timer(self);
                }
            }
            Err(e) => self.error.set(Some(e)),
        }
    }

    fn invalid(self, message: String) {
        self.error.set(Some(message));
        publish("invalid", None);
    }

    fn stop(self) {
        if let Some(r) = runtime::stop().or_else(backends::stop) {
            publish("stopped", Some(&r));
            self.report.set(Some(r));
        }
        self.running.set(false);
        self.status
            .set("Stopped: every worker was terminated; the trace so far stays on screen.".into());
    }

    fn on_update(self, u: RunUpdate) {
        match u {
            RunUpdate::Progress => {}
            RunUpdate::Finished(r) => {
                let mut r = *r;
                let key = baseline_key(&r.params);
                if matches!(r.params.model, Model::Sequential) {
                    BASELINES.with(|b| b.borrow_mut().insert(key, r.wall_us));
                } else if gil_lab::scenario::find(&r.scenario).is_some_and(|s| s.baseline.is_some())
                {
                    r.baseline_wall_us = BASELINES.with(|b| b.borrow().get(&key).copied());
                }
                self.status.set(format!(
                    "Finished {} in {}.",
                    r.scenario,
                    view::format_duration(r.wall_us)
                ));
                publish("done", Some(&r));
                self.report.set(Some(r));
                self.running.set(false);
            }
            RunUpdate::Failed(e) => {
                self.error.set(Some(e));
                self.running.set(false);
                publish("error", None);
            }
        }
    }

    /// Runs the sequential version with the same workload, for the speed-up.
    fn run_baseline(self) {
        let Some(base) = form::scenario(&self.scenario.get_untracked())
            .ok()
            .and_then(|s| s.baseline)
        else {
            return;
        };
        self.fields.update(|f| f.workers.clear());
        self.scenario.set(base.to_owned());
        self.run();
    }
}

/// Scrolls the page so the picture's top is in view, when a run starts with it below the fold
/// (a phone or a narrow window: the form comes first; on a laptop the picture sits beside the
/// form and nothing moves). Once, at the start: later the page never moves by itself, so
/// nothing jumps under a pointer that zooms or a finger that pans. Focus stays where it is.
fn bring_picture_into_view() {
    let w = window();
    let Some(el) = w
        .document()
        .and_then(|d| d.query_selector("main.lab > .pictures").ok().flatten())
    else {
        return;
    };
    let top = el.get_bounding_client_rect().top();
    let fold = w
        .inner_height()
        .ok()
        .and_then(|h| h.as_f64())
        .unwrap_or(0.0);
    if fold > 0.0 && top > fold - 80.0 {
        w.scroll_by_with_x_and_y(0.0, top - 8.0);
    }
}

/// Redraws the growing picture a few times a second while a run is on.
fn start_timer(ui: Ui) {
    TIMER.with(|t| {
        if t.borrow().is_some() {
            return;
        }
        let cb = Closure::<dyn FnMut()>::new(move || {
            if runtime::running()
                && let Some(r) = runtime::snapshot()
            {
                ui.report.set(Some(r));
            }
        });
        let _ = window().set_interval_with_callback_and_timeout_and_arguments_0(
            cb.as_ref().unchecked_ref(),
            // Twice a second: enough to watch it grow, and redrawing costs CPU the workers
            // would otherwise have (the machine may have only 2 cores).
            500,
        );
        *t.borrow_mut() = Some(cb);
    });
}

fn open_report(
    ui: Ui,
    fut: impl std::future::Future<Output = Result<RunReport, String>> + 'static,
) {
    // An earlier file's message would otherwise stay up while this one loads.
    ui.error.set(None);
    wasm_bindgen_futures::spawn_local(async move {
        match fut.await {
            Ok(r) => {
                ui.error.set(None);
                ui.status.set(format!(
                    "Opened a report of {} from {}.",
                    r.scenario, r.machine.platform
                ));
                publish("opened", Some(&r));
                ui.report.set(Some(r));
            }
            Err(e) => ui.error.set(Some(e)),
        }
    });
}

fn field(
    id: &'static str,
    label: &'static str,
    ui: Ui,
    get: fn(&Fields) -> String,
    set: fn(&mut Fields, String),
    help: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input id=id type="text" inputmode="decimal" placeholder="default"
                prop:value=move || ui.fields.with(get)
                on:input=move |ev| { let v = event_target_value(&ev); ui.fields.update(|f| set(f, v)); }
            />
            <small>{help}</small>
        </label>
    }
}

/// Run and Stop disable themselves in turn, and a disabled button drops the keyboard's focus
/// to `<body>` (issue 14): when that happens, the focus moves to the other one. Only on a
/// change of state, after the DOM has caught up, and only if the focus was lost, so a page
/// load or a user who has moved on is left alone.
fn keep_focus_on_run_and_stop(running: RwSignal<bool>) {
    Effect::new(move |prev: Option<bool>| {
        let now = running.get();
        if prev.is_some_and(|p| p != now) {
            let to = if now { "stop" } else { "run" };
            set_timeout(
                move || {
                    let Some(doc) = window().document() else {
                        return;
                    };
                    let lost = doc.active_element().is_none_or(|a| {
                        a.tag_name().eq_ignore_ascii_case("body")
                            || a.id() == "run"
                            || a.id() == "stop"
                    });
                    if lost
                        && let Some(b) = doc
                            .get_element_by_id(to)
                            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        // Without scrolling: the picture must not move under the pointer.
                        let options = web_sys::FocusOptions::new();
                        options.set_prevent_scroll(true);
                        let _ = b.focus_with_options(&options);
                    }
                },
                std::time::Duration::ZERO,
            );
        }
        now
    });
}

/// The full lab page.
#[component]
fn Lab(ui: Ui) -> impl IntoView {
    keep_focus_on_run_and_stop(ui.running);
    let iso = isolated();
    let scenario = move || form::scenario(&ui.scenario.get()).ok();
    let defaults = Memo::new(move |_| scenario().map(|s| s.defaults()));
    // The Python the form stands for, with its numbers (the defaults while a field is invalid).
    let python = Memo::new(move |_| {
        scenario()
            .map(|s| match ui.fields.with(|f| f.params(s)) {
                Ok(p) => s.python_for(&p),
                Err(_) => s.python_code(),
            })
            .unwrap_or_default()
    });
    let is_sum = move || {
        defaults.get().is_some_and(|p| {
            matches!(
                p.workload,
                Workload::SumPowers { .. } | Workload::Convoy { .. }
            )
        })
    };
    let is_io = move || {
        defaults
            .get()
            .is_some_and(|p| matches!(p.workload, Workload::Download { .. }))
    };
    let is_threads = move || {
        defaults.get().is_some_and(|p| {
            matches!(
                p.model,
                Model::Threads { .. } | Model::Race { .. } | Model::Convoy { .. }
            )
        })
    };
    let is_hash = move || {
        defaults
            .get()
            .is_some_and(|p| matches!(p.workload, Workload::Hash { .. }))
    };
    let is_race = move || {
        defaults
            .get()
            .is_some_and(|p| matches!(p.model, Model::Race { .. }))
    };
    let has_workers = move || {
        defaults
            .get()
            .is_some_and(|p| !matches!(p.model, Model::Sequential))
    };

    let options = SCENARIOS
        .iter()
        .map(|s| view! { <option value=s.name>{s.name}" — "{s.summary}</option> })
        .collect_view();
    let file_input = NodeRef::<leptos::html::Input>::new();
    let current: Signal<Option<RunReport>> = ui.report.into();

    view! {
        <header>
            <h1>"GIL Lab"</h1>
            <p class="tagline">"Why Python threads don't speed up CPU-bound code, why they do speed up waiting, and why processes do: run the lesson's demos and watch each thread."</p>
            <p class="mode" data-isolated=iso.to_string()>{mode_sentence(iso)}</p>
            <p class="lesson-link"><a href="lesson/">"New to threads and the GIL? Walk through the lesson: guess, run, see why."</a></p>
        </header>
        <main class="lab">
            <section class="controls">
                <label class="field wide">
                    <span>"Demo"</span>
                    <select id="scenario" prop:value=move || ui.scenario.get()
                        on:change=move |ev| {
                            let name = event_target_value(&ev);
                            // The menu's default is the quick size, as on a first visit: a
                            // blank field means the lesson's 1,000,000 per worker (~30 s).
                            if name == "race" {
                                ui.fields.update(|f| if f.increments.is_empty() {
                                    f.increments = QUICK_INCREMENTS.into();
                                });
                            }
                            ui.scenario.set(name);
                            ui.error.set(None);
                        }>
                        {options}
                    </select>
                </label>
                <p class="lesson">{move || scenario().map(|s| s.lesson)}</p>
                <div class="presets">
                    <Show when=is_sum>
                        <button id="quick" on:click=move |_| ui.fields.update(|f| f.n = QUICK_N.into())>"Quick size (n = 2000)"</button>
                        <button id="lesson" on:click=move |_| ui.fields.update(|f| f.n = gil_lab::scenario::LESSON_N.to_string())>"Lesson size (n = 10000)"</button>
                    </Show>
                    <Show when=is_race>
                        <button on:click=move |_| ui.fields.update(|f| f.increments = QUICK_INCREMENTS.into())>"Quick size (100,000 each)"</button>
                        <button on:click=move |_| ui.fields.update(|f| f.increments.clear())>"Lesson size (1,000,000 each)"</button>
                    </Show>
                </div>
                <div class="fields">
                    <Show when=is_sum>{field("f-n", "n", ui, |f| f.n.clone(), |f, v| f.n = v, "sum_powers(n), 0 to 50000")}</Show>
                    {field("f-tasks", "tasks", ui, |f| f.tasks.clone(), |f, v| f.tasks = v, "1 to 256")}
                    <Show when=has_workers>{field("f-workers", "workers", ui, |f| f.workers.clone(), |f, v| f.workers = v, "threads or processes, 1 to 64")}</Show>
                    <Show when=is_threads>
                        <label class="field">
                            <span>"GIL"</span>
                            <select id="gil" prop:value=move || ui.fields.with(|f| f.gil.clone())
                                on:change=move |ev| { let v = event_target_value(&ev); ui.fields.update(|f| f.gil = v); }>
                                <option value="">"as the demo says"</option>
                                <option value="classic">"classic (CPython's default)"</option>
                                <option value="free">"free-threaded (3.13t, no GIL)"</option>
                            </select>
                            <small>"one thread at a time, or none"</small>
                        </label>
                        {field("f-interval", "switch interval, ms", ui, |f| f.interval_ms.clone(), |f, v| f.interval_ms = v, "sys.setswitchinterval; default 5")}
                    </Show>
                    <Show when=is_io>
                        {field("f-latency", "server latency, ms", ui, |f| f.latency_ms.clone(), |f, v| f.latency_ms = v, "time to first byte, modelled")}
                        {field("f-bandwidth", "bandwidth, kbit/s", ui, |f| f.bandwidth_kbps.clone(), |f, v| f.bandwidth_kbps = v, "per connection, modelled")}
                    </Show>
                    <Show when=is_hash>
                        {field("f-mib", "buffer, MiB", ui, |f| f.mib.clone(), |f, v| f.mib = v, "1 to 1024; default 48")}
                        {field("f-chunk", "bytes per update()", ui, |f| f.chunk_bytes.clone(), |f, v| f.chunk_bytes = v, "empty: one update; under 2048 the GIL is held")}
                    </Show>
                    <Show when=is_race>{field("f-increments", "increments", ui, |f| f.increments.clone(), |f, v| f.increments = v, "per worker")}</Show>
                    <Show when=move || is_race() || is_threads()>
                        <label class="field">
                            <span>"Python"</span>
                            <select id="python" prop:value=move || ui.fields.with(|f| f.python.clone())
                                on:change=move |ev| { let v = event_target_value(&ev); ui.fields.update(|f| f.python = v); }>
                                <option value="">"as the demo says"</option>
                                {gil_lab::scenario::Python::ALL.map(|p| view! { <option value=p.key()>{p.key()}</option> }).to_vec()}
                            </select>
                            <small>"up to 3.9 the GIL may pass inside counter += 1"</small>
                        </label>
                    </Show>
                </div>
                <p class="defaults">{move || defaults.get().map(|p| format!("Defaults: {}", view::describe_params(&p)))}</p>
                {move || ui.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <div class="buttons">
                    // Stop beside Run: the focus moves between the two, and both stay in the
                    // first screen with the picture.
                    <button id="run" class="primary" disabled=move || ui.running.get() on:click=move |_| ui.run()>"Run"</button>
                    <button id="stop" disabled=move || !ui.running.get() on:click=move |_| ui.stop()>"Stop"</button>
                    <NativeRunButton hooks=ui.hooks/>
                    <Show when=move || scenario().is_some_and(|s| s.baseline.is_some())>
                        <button id="baseline" disabled=move || ui.running.get() on:click=move |_| ui.run_baseline()>"Run the sequential version"</button>
                    </Show>
                </div>
                <BackendControls hooks=ui.hooks/>
                <p class="status" aria-live="polite">{move || ui.status.get()}</p>
                <div class="buttons small">
                    <button id="dl-json" disabled=move || ui.report.with(Option::is_none) on:click=move |_| {
                        if let Some(r) = ui.report.get_untracked() { let _ = files::download(&format!("{}.report.json", r.scenario), "application/json", &r.to_json()); }
                    }>"Download JSON"</button>
                    <button id="dl-svg" disabled=move || ui.report.with(Option::is_none) on:click=move |_| {
                        if let Some(r) = ui.report.get_untracked() { let _ = files::download(&format!("{}.svg", r.scenario), "image/svg+xml", &view::layout(&r).to_svg()); }
                    }>"Download SVG"</button>
                    <button on:click=move |_| { if let Some(i) = file_input.get() { i.click(); } }>"Open a report…"</button>
                    <input id="open-report" type="file" accept=".json,application/json" hidden node_ref=file_input
                        on:change=move |ev| {
                            let input: web_sys::HtmlInputElement = event_target(&ev);
                            if let Some(f) = input.files().and_then(|l| l.get(0)) { open_report(ui, files::read_file(f)); }
                            input.set_value("");
                        }/>
                </div>
                <p class="drop-hint">"…or drop a report written by "<code>"gil-lab run --json"</code>" anywhere on the page."</p>
            </section>
            <section class="pictures">
                <div class="column">
                    <Picture report=current compact=false/>
                </div>
            </section>
            <section class="code">
                <h2>"The Python this runs"</h2>
                // Focusable: a scrolling region must be reachable from the keyboard (axe's
                // scrollable-region-focusable).
                <pre tabindex="0" aria-label="The Python this runs"><code>{move || python.get()}</code></pre>
            </section>
        </main>
        <CompareView hooks=ui.hooks/>
        <footer>{backends::footer()}</footer>
    }
}

/// The compact view for an `<iframe>`: one demo, Run/Stop, the picture, a short summary.
#[component]
fn Embed(ui: Ui) -> impl IntoView {
    keep_focus_on_run_and_stop(ui.running);
    let iso = isolated();
    let current: Signal<Option<RunReport>> = ui.report.into();
    let title = move || {
        form::scenario(&ui.scenario.get())
            .map(|s| s.summary)
            .unwrap_or_default()
    };
    view! {
        <div class="embed">
            <p class="embed-title"><strong>{move || ui.scenario.get()}</strong>": "{title}</p>
            {move || ui.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="buttons">
                <button id="run" class="primary" disabled=move || ui.running.get() on:click=move |_| ui.run()>"Run"</button>
                <button id="stop" disabled=move || !ui.running.get() on:click=move |_| ui.stop()>"Stop"</button>
                <span class="status">{move || ui.status.get()}</span>
            </div>
            <Picture report=current compact=true/>
            <p class="mode small" data-isolated=iso.to_string()>{mode_sentence(iso)}</p>
        </div>
    }
}

/// Mounts the page: the lab, or the embed view with `?embed=<scenario>`.
pub fn mount() {
    console_hook();
    let q = query();
    let embed = get(&q, "embed").map(str::to_owned);
    let name = embed
        .clone()
        .or_else(|| get(&q, "scenario").map(str::to_owned))
        .unwrap_or_else(|| runtime::DEFAULT_DEMO.to_owned());
    let mut fields = Fields::from_query(&q);
    if fields.n.is_empty() && get(&q, "n").is_none() {
        fields.n = QUICK_N.to_owned();
    }
    if name == "race" && fields.increments.is_empty() {
        fields.increments = QUICK_INCREMENTS.to_owned();
    }
    let known = form::scenario(&name);
    let ui_name = if known.is_ok() {
        name.clone()
    } else {
        runtime::DEFAULT_DEMO.to_owned()
    };
    let report_url = get(&q, "report").map(str::to_owned);
    publish("idle", None);
    let body = window()
        .document()
        .and_then(|d| d.body())
        .expect("a page has a body");
    if embed.is_some() {
        let _ = body.class_list().add_1("embedded");
    }
    let is_embed = embed.is_some();
    leptos::mount::mount_to_body(move || {
        let ui = Ui::new(ui_name.clone(), fields.clone());
        if let Err(e) = &known {
            ui.error.set(Some(e.clone()));
        } else if let Err(e) = ui
            .fields
            .with_untracked(|f| f.params(known.as_ref().map(|s| *s).expect("known")))
        {
            ui.error.set(Some(e));
        }
        if let Some(url) = report_url.clone() {
            open_report(ui, async move { files::fetch_report(&url).await });
        }
        install_drop(ui);
        runtime::warm_up();
        if is_embed {
            view! { <Embed ui=ui/> }.into_any()
        } else {
            view! { <Lab ui=ui/> }.into_any()
        }
    });
}

/// Drag and drop of a report anywhere on the page.
fn install_drop(ui: Ui) {
    let Some(body) = window().document().and_then(|d| d.body()) else {
        return;
    };
    let over = Closure::<dyn FnMut(web_sys::DragEvent)>::new(|ev: web_sys::DragEvent| {
        ev.prevent_default()
    });
    let drop = Closure::<dyn FnMut(web_sys::DragEvent)>::new(move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        let file = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|l| l.get(0));
        if let Some(f) = file {
            open_report(ui, files::read_file(f));
        }
    });
    let _ = body.add_event_listener_with_callback("dragover", over.as_ref().unchecked_ref());
    let _ = body.add_event_listener_with_callback("drop", drop.as_ref().unchecked_ref());
    over.forget();
    drop.forget();
}
