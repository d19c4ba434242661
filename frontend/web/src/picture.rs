//! The picture of one report — the core's `Scene` as inline SVG — and its text summary, shared
//! by the lab page and the lesson. The chart is one `role="img"` named by the run's title and
//! described by the summary printed under it (`aria-describedby`).
//!
//! It zooms: a wheel turn over the timeline (or a trackpad pinch, a wheel with ctrl) zooms
//! around the pointer, and so does a two-finger pinch on a touch screen (`js/pinch.js` makes
//! it the same wheel); a drag moves it, a tap or click on a bar reads it out, a brush on the
//! whole-run strip above it picks a window, and the focused timeline
//! takes `+` `-` `←` `→` `0`, with `[` `]` stepping through its bars and reading each one out
//! (hover shows the same words). Every redraw is the core's [`view::layout_window`], at most
//! one per [`REDRAW_MS`]; the window arithmetic is [`crate::zoom`], the DOM side
//! [`crate::chart_input`]. Zoom state belongs to each picture and resets with a new report.

use std::cell::Cell;
use std::time::Duration;

use gil_lab::trace::{CpuSource, RunReport};
use gil_lab::view::{self, TimeAxis};
use leptos::prelude::*;

use crate::chart_input::{self as input, time_map};
use crate::zoom::{self, KEY_FACTOR, PAN_SHARE, Window};

/// Shortest time between two redraws while a wheel or a drag keeps moving the window: the
/// words above the picture follow at once, the drawing a frame or two later.
const REDRAW_MS: u64 = 40;

thread_local! {
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
}

/// A page-unique id stem for a picture's summary and help, so its chart can point at them.
fn fresh_id() -> String {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        format!("picture-{id}")
    })
}

/// The picture's markup: while a run grows live, its bars merged into a few paths (see
/// [`Scene::to_svg_merged`]); once it has ended, a bar per span with its hover text.
fn svg_of(scene: &gil_lab::view::Scene) -> String {
    if crate::runtime::running() {
        scene.to_svg_merged()
    } else {
        scene.to_svg()
    }
}

/// Which run a report is: a new one resets the zoom, the same run growing live keeps it.
fn identity(r: &RunReport) -> String {
    format!(
        "{}|{}|{:?}|{}",
        r.scenario,
        r.machine.platform,
        r.params,
        r.lanes.len()
    )
}

/// The words under the picture on where its numbers come from, when some are not measured.
fn estimate_words(r: &RunReport) -> Option<&'static str> {
    // A simulated report says "simulated" in its title and summary already; nothing ran, so
    // "estimated from what the workers were doing" would be wrong.
    if r.source == gil_lab::trace::Source::Simulated {
        return None;
    }
    let cores = r.machine.core_source == "estimated";
    match (cores, r.cpu_source) {
        (true, CpuSource::Estimated) => Some(
            "Per-core load and CPU times here are estimated from what the workers were doing: browsers expose neither.",
        ),
        (true, _) => Some(
            "Per-core load here is estimated from what the workers were doing: browsers do not expose per-core load.",
        ),
        (false, CpuSource::Estimated) => {
            Some("CPU times here are estimated from running time, not measured.")
        }
        _ => None,
    }
}

thread_local! {
    static WARM: Cell<bool> = const { Cell::new(false) };
}

/// Once per page, soon after it starts: lays out a tiny report and throws it away. The first
/// layout a page runs costs several times a later one (the browser compiles and optimises the
/// drawing code on first use); paying that while the page is idle keeps the first real picture
/// (a run's, or an opened report's) from blocking the page for it.
fn warm_up_once() {
    if WARM.with(|w| w.replace(true)) {
        return;
    }
    warm_up_step(0);
}

/// One of [`WARM_STEPS`] small pieces of the warm-up, [`WARM_GAP_MS`] apart: each stays far
/// under a long task, and the browser optimises the code in the background between them.
fn warm_up_step(k: u32) {
    set_timeout(
        move || {
            let Some(r) = warm_up_report() else { return };
            let end = r.wall_us;
            let _ = view::layout(&r).to_svg().len()
                + view::layout_window(&r, end / 3, end / 2).to_svg().len()
                + view::overview(&r).to_svg().len()
                + view::text_summary(&r).len();
            if k + 1 < WARM_STEPS {
                warm_up_step(k + 1);
            }
        },
        Duration::from_millis(if k == 0 { 400 } else { WARM_GAP_MS }),
    );
}

/// Pieces of the warm-up.
const WARM_STEPS: u32 = 6;
/// Time between two pieces, ms.
const WARM_GAP_MS: u64 = 120;

/// Eight threads taking turns on a classic GIL in 50 µs slices for 0.2 s: every part of the
/// picture is drawn for it, exact bars and GIL turns as well as the slices that share a pixel.
fn warm_up_report() -> Option<RunReport> {
    use gil_lab::trace::{GilEvent, Lane, LaneKind, Machine, Span, SpanState};
    const LANES: u32 = 8;
    const TURNS: u64 = 4_000;
    let sc = gil_lab::scenario::find("cpu-threads")?;
    let mut r = RunReport::new(
        sc.name,
        sc.defaults(),
        Machine {
            cores: 2,
            platform: "warm-up".into(),
            core_source: "estimated".into(),
        },
    );
    r.wall_us = TURNS * 50;
    r.lanes = (0..LANES)
        .map(|id| Lane {
            id,
            label: format!("Thread-{}", id + 1),
            kind: LaneKind::Thread,
            group: None,
        })
        .collect();
    for k in 0..TURNS {
        let run = (k % u64::from(LANES)) as u32;
        let (a, b) = (k * 50, k * 50 + 50);
        for lane in 0..LANES {
            let state = if lane == run {
                SpanState::Running
            } else {
                SpanState::GilWait
            };
            if lane == run || k % 16 == 0 {
                r.spans.push(Span {
                    lane,
                    task: Some(lane),
                    state,
                    start_us: a,
                    end_us: if lane == run {
                        b
                    } else {
                        a + 50 * u64::from((lane + LANES - run) % LANES)
                    },
                });
            }
        }
        r.gil_events.push(GilEvent::Handoff {
            at_us: a,
            from: (k > 0).then(|| ((k - 1) % u64::from(LANES)) as u32),
            to: run,
        });
    }
    r.spans.sort_by_key(|s| (s.start_us, s.lane));
    Some(r)
}

/// The picture and summary of one report.
///
/// `compact` keeps the summary to its `%%time` lines and leaves out the speed-up hint (the
/// embed view, the lesson). `placeholder` replaces the words shown before there is a report.
#[component]
pub fn Picture(
    #[prop(into)] report: Signal<Option<RunReport>>,
    compact: bool,
    #[prop(optional, into)] placeholder: MaybeProp<String>,
    /// The time scale, µs, when several runs are drawn side by side (the compare view): each
    /// whole-run picture then spans this long, so a shorter run ends part-way across.
    #[prop(optional, into)]
    axis_us: MaybeProp<u64>,
) -> impl IntoView {
    let id = fresh_id();
    let summary_id = format!("{id}-summary");
    let help_id = format!("{id}-help");

    // The window asked for (at once) and the one drawn (at most every REDRAW_MS).
    let asked = RwSignal::new(None::<Window>);
    let drawn = RwSignal::new(None::<Window>);
    let pending = StoredValue::new(false);
    let details = RwSignal::new(None::<String>);
    let stepped = StoredValue::new(None::<usize>);
    let drag = StoredValue::new(None::<(f64, Window)>);
    let brushing = RwSignal::new(None::<(u64, u64)>);
    let chart = NodeRef::<leptos::html::Div>::new();
    let strip = NodeRef::<leptos::html::Div>::new();

    let run_id = Memo::new(move |_| report.with(|r| r.as_ref().map(identity)));
    Effect::new(move |prev: Option<Option<String>>| {
        let now = run_id.get();
        // Only what is set changes: a needless `set` would redraw the new report twice.
        if prev.is_some_and(|p| p != now) {
            if asked.get_untracked().is_some() {
                asked.set(None);
            }
            if drawn.get_untracked().is_some() {
                drawn.set(None);
            }
            if details.get_untracked().is_some() {
                details.set(None);
            }
        }
        now
    });
    warm_up_once();

    let over = Memo::new(move |_| {
        report.with(|r| {
            r.as_ref().map(|r| {
                let s = view::overview_spanning(r, axis_us.get());
                (svg_of(&s), s.time)
            })
        })
    });
    let whole = move || over.with(|o| o.as_ref().map_or(1, |o| o.1.end_us));
    let scene = Memo::new(move |_| {
        let w = drawn.get();
        report.with(|r| {
            r.as_ref().map(|r| {
                let t0 = input::now_ms();
                let s = match w {
                    Some(w) => {
                        let (a, b) = zoom::clamp(w, whole());
                        view::layout_window(r, a, b)
                    }
                    None => view::layout_with(
                        r,
                        &view::LayoutOptions {
                            window: None,
                            span_us: axis_us.get(),
                        },
                    ),
                };
                let svg = svg_of(&s);
                input::note_redraw(input::now_ms() - t0);
                svg
            })
        })
    });
    let title = Memo::new(move |_| report.with(|r| r.as_ref().map(view::title)));
    let summary = Memo::new(move |_| report.with(|r| r.as_ref().map(view::text_summary)));
    let estimate = Memo::new(move |_| report.with(|r| r.as_ref().and_then(estimate_words)));
    let hint = Memo::new(move |_| {
        report.with(|r| {
            r.as_ref().and_then(|r| {
                let wants = gil_lab::scenario::find(&r.scenario).and_then(|s| s.baseline);
                (wants.is_some() && r.baseline_wall_us.is_none()).then(|| {
                    format!(
                        "No speed-up yet: run {} with the same settings first (the button above does), then this one again.",
                        wants.unwrap_or_default()
                    )
                })
            })
        })
    });

    // Asks for a window; `None` (or the whole run) un-zooms. The drawing follows within
    // REDRAW_MS: one timer at a time, which draws whatever was asked last.
    let ask = move |w: Option<Window>| {
        let all = whole();
        let w = w.map(|w| zoom::clamp(w, all)).filter(|w| w.1 - w.0 < all);
        asked.set(w);
        if !pending.get_value() {
            pending.set_value(true);
            set_timeout(
                move || {
                    pending.set_value(false);
                    drawn.set(asked.get_untracked());
                },
                Duration::from_millis(REDRAW_MS),
            );
        }
    };
    let current = move || asked.get_untracked().unwrap_or((0, whole()));
    let zoom_by = move |factor: f64, at: Option<u64>| {
        let w = current();
        let at = at.unwrap_or((w.0 + w.1) / 2);
        ask(zoom::zoom_at(w, whole(), at, factor));
    };
    let pan_by = move |share: f64| {
        let w = current();
        let delta = ((w.1 - w.0) as f64 * share) as i64;
        ask(Some(zoom::pan(w, whole(), delta)));
    };
    let step = move |by: isize| {
        let Some(el) = chart.get_untracked() else {
            return;
        };
        let k = stepped.get_value().map_or(0, |k| k as isize + by);
        let found = input::step_to(&el, k);
        stepped.set_value(found.as_ref().map(|f| f.0));
        details.set(found.map(|f| f.1));
    };

    // The wheel: zoom around the pointer (a pinch arrives as a wheel with ctrl held, in
    // smaller steps: a trackpad's from the browser, a touch screen's from js/pinch.js); a
    // sideways turn moves the window.
    Effect::new(move |_| {
        let Some(el) = chart.get() else { return };
        let target = el.clone();
        input::on_wheel(&target, move |ev: web_sys::WheelEvent| {
            ev.prevent_default();
            let (dx, dy) = (ev.delta_x(), ev.delta_y());
            let w = current();
            if dx.abs() > dy.abs() {
                let us = input::us_per_css_px(&el, w);
                ask(Some(zoom::pan(w, whole(), (dx * us) as i64)));
                return;
            }
            let per = if ev.ctrl_key() { 100.0 } else { 300.0 };
            let factor = 2f64.powf((-dy / per).clamp(-2.0, 2.0));
            let at = input::scene_x(&el, f64::from(ev.client_x())).map(|x| time_map(w).time_at(x));
            zoom_by(factor, at);
        });
    });

    let on_key = move |ev: web_sys::KeyboardEvent| {
        match ev.key().as_str() {
            "+" | "=" => zoom_by(KEY_FACTOR, None),
            "-" | "_" => zoom_by(1.0 / KEY_FACTOR, None),
            "ArrowLeft" => pan_by(-PAN_SHARE),
            "ArrowRight" => pan_by(PAN_SHARE),
            "0" | "Escape" => ask(None),
            "]" => step(1),
            "[" => step(-1),
            _ => return,
        }
        ev.prevent_default();
    };
    let on_down = move |ev: web_sys::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        // No text selection or native drag of the drawing's words while panning.
        ev.prevent_default();
        // A tap (or a click) on a bar reads it out, as hovering does: a finger has no hover.
        if let Some(words) = input::hover_words(ev.target()) {
            details.set(Some(words));
        }
        let Some(el) = chart.get_untracked() else {
            return;
        };
        let _ = el.set_pointer_capture(ev.pointer_id());
        // Without scrolling: a tap must not move the page under the finger.
        input::focus_quietly(&el);
        drag.set_value(Some((f64::from(ev.client_x()), current())));
    };
    let on_move = move |ev: web_sys::PointerEvent| {
        let Some(el) = chart.get_untracked() else {
            return;
        };
        match drag.get_value() {
            Some((x0, start)) if ev.buttons() & 1 == 1 => {
                let us = input::us_per_css_px(&el, start);
                let delta = -(f64::from(ev.client_x()) - x0) * us;
                if delta.abs() >= 1.0 && start.1 - start.0 < whole() {
                    ask(Some(zoom::pan(start, whole(), delta as i64)));
                }
            }
            _ => {
                if let Some(words) = input::hover_words(ev.target()) {
                    details.set(Some(words));
                }
            }
        }
    };
    let on_up = move |_| drag.set_value(None);

    // The brush on the whole-run strip: press, drag, release; a click re-centres the window.
    let strip_time = move |ev: &web_sys::PointerEvent| {
        let el = strip.get_untracked()?;
        let x = input::scene_x(&el, f64::from(ev.client_x()))?;
        over.with_untracked(|o| o.as_ref().map(|o| o.1.time_at(x)))
    };
    let brush_down = move |ev: web_sys::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        if let Some(el) = strip.get_untracked() {
            let _ = el.set_pointer_capture(ev.pointer_id());
        }
        brushing.set(strip_time(&ev).map(|t| (t, t)));
    };
    let brush_move = move |ev: web_sys::PointerEvent| {
        if let (Some((a, _)), Some(t)) = (brushing.get_untracked(), strip_time(&ev)) {
            brushing.set(Some((a, t)));
        }
    };
    let brush_up = move |ev: web_sys::PointerEvent| {
        let Some((a, _)) = brushing.get_untracked() else {
            return;
        };
        brushing.set(None);
        let Some(b) = strip_time(&ev) else { return };
        let px = over.with_untracked(|o| o.as_ref().map_or(1.0, |o| o.1.us_per_px()));
        if (a.abs_diff(b) as f64) < 2.0 * px {
            if asked.get_untracked().is_some() {
                ask(Some(zoom::centre_on(current(), whole(), b)));
            }
        } else {
            ask(zoom::brush(a, b, whole()));
        }
    };
    // The brush's box over the strip, in % of its width (the strip scales with the page).
    let brush_box = move || {
        let w = brushing.get().or_else(|| asked.get())?;
        let (a, b) = (w.0.min(w.1), w.0.max(w.1));
        over.with(|o| {
            o.as_ref().map(|o| {
                let pct = |t: u64| o.1.x(t) / view::WIDTH * 100.0;
                (pct(a), (pct(b) - pct(a)).max(0.3))
            })
        })
    };

    let range = move || {
        // The run's own length, as the axis title words it (the strip's axis ends at a tick).
        let all = report.with(|r| r.as_ref().map_or(0, |r| r.wall_us));
        match asked.get() {
            None => format!("Whole run shown ({}).", view::format_duration(all)),
            Some((a, b)) => {
                let axis = TimeAxis::window(a, b, 10);
                format!(
                    "Showing {} → {} ({}) of {}.",
                    axis.instant(a),
                    axis.instant(b),
                    view::format_duration(b - a),
                    view::format_duration(all)
                )
            }
        }
    };
    let empty = move || {
        placeholder.get().unwrap_or_else(|| {
            "Press Run: the timeline appears here and grows as the workers report.".to_owned()
        })
    };
    let has = move || report.with(Option::is_some);
    let described_by = summary_id.clone();
    view! {
        <div class="picture">
            <Show when=has fallback=move || view! { <div class="svg empty">{empty}</div> }>
                <div class="zoom-bar" role="toolbar" aria-label="Zoom the timeline">
                    <button class="zoom-in" on:click=move |_| zoom_by(KEY_FACTOR, None)>"Zoom in"</button>
                    <button class="zoom-out" disabled=move || asked.get().is_none() on:click=move |_| zoom_by(1.0 / KEY_FACTOR, None)>"Zoom out"</button>
                    <button class="earlier" disabled=move || asked.get().is_none_or(|w| w.0 == 0) on:click=move |_| pan_by(-PAN_SHARE)>"← Earlier"</button>
                    <button class="later" disabled=move || asked.get().is_none_or(|w| w.1 >= whole()) on:click=move |_| pan_by(PAN_SHARE)>"Later →"</button>
                    <button class="reset-zoom" disabled=move || asked.get().is_none() on:click=move |_| ask(None)>"Reset zoom"</button>
                    <span class="range" aria-live="polite">{range}</span>
                </div>
                <div class="overview" node_ref=strip aria-hidden="true"
                    on:pointerdown=brush_down on:pointermove=brush_move on:pointerup=brush_up
                    on:pointercancel=move |_| brushing.set(None)>
                    <div class="strip" inner_html=move || over.with(|o| o.as_ref().map(|o| o.0.clone()).unwrap_or_default())></div>
                    {move || brush_box().map(|(left, width)| view! {
                        <div class="brush" style:left=format!("{left:.3}%") style:width=format!("{width:.3}%")></div>
                    })}
                </div>
                <div class="chart" tabindex="0" node_ref=chart role="group"
                    aria-label="Timeline: focus it and use + and − to zoom, ← and → to move, 0 to reset, [ and ] to read bar by bar"
                    aria-describedby=help_id.clone()
                    data-window=move || asked.get().map(|w| format!("{}-{}", w.0, w.1)).unwrap_or_default()
                    data-drawn=move || drawn.get().map(|w| format!("{}-{}", w.0, w.1)).unwrap_or_default()
                    data-whole=move || whole().to_string()
                    on:keydown=on_key on:pointerdown=on_down on:pointermove=on_move
                    on:pointerup=on_up on:pointercancel=on_up>
                    <div class="svg" role="img" aria-label=move || title.get().unwrap_or_default()
                        aria-describedby=described_by.clone() inner_html=move || scene.get().unwrap_or_default()></div>
                </div>
                // Both helps are there; the page's CSS shows the one for the pointer in use.
                <p class="zoom-help" id=help_id.clone()>
                    <span class="for-fine">"Scroll over the timeline to zoom, drag it to move, or drag across the whole-run strip above it to pick a window. Keys on the focused timeline: + − ← → 0, and [ ] to read bar by bar."</span>
                    <span class="for-coarse">"Pinch the timeline to zoom, drag it sideways to move, or drag across the whole-run strip above it to pick a window."</span>
                </p>
                // Empty until a bar is read: the page's CSS says how to, for the pointer in use.
                <p class="details" aria-live="polite">{move || details.get()}</p>
            </Show>
            {move || estimate.get().map(|e| view! { <p class="estimate">{e}</p> })}
            {move || (!compact).then(|| hint.get().map(|h| view! { <p class="hint">{h}</p> }))}
            {
                let id = summary_id.clone();
                move || summary.get().map(|s| {
                    let text = if compact {
                        s.lines().take(4).collect::<Vec<_>>().join("\n")
                    } else {
                        s
                    };
                    view! { <pre class="summary" id=id.clone()>{text}</pre> }
                })
            }
        </div>
    }
}
