//! The picture of one report — the core's `Scene` as inline SVG — and its text summary, shared
//! by the lab page and the lesson. Moved out of `app.rs`; what changed on the way is that the
//! chart now carries its text alternative: the drawing is one `role="img"` named by the run's
//! title and described by the summary printed under it (`aria-describedby`).

use std::cell::Cell;

use gil_lab::trace::RunReport;
use gil_lab::view;
use leptos::prelude::*;

thread_local! {
    static NEXT_ID: Cell<u32> = const { Cell::new(0) };
}

/// A page-unique id for a picture's summary, so its chart can point at it.
fn fresh_id() -> String {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        format!("picture-summary-{id}")
    })
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
) -> impl IntoView {
    let summary_id = fresh_id();
    let svg = Memo::new(move |_| report.with(|r| r.as_ref().map(|r| view::layout(r).to_svg())));
    let title = Memo::new(move |_| report.with(|r| r.as_ref().map(view::title)));
    let summary = Memo::new(move |_| report.with(|r| r.as_ref().map(view::text_summary)));
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
    let empty = move || {
        placeholder.get().unwrap_or_else(|| {
            "Press Run: the timeline appears here and grows as the workers report.".to_owned()
        })
    };
    let described_by = summary_id.clone();
    view! {
        <div class="picture">
            {move || match svg.get() {
                Some(s) => view! {
                    <div class="svg" role="img" aria-label=move || title.get().unwrap_or_default()
                        aria-describedby=described_by.clone() inner_html=s></div>
                }.into_any(),
                None => view! { <div class="svg empty">{empty}</div> }.into_any(),
            }}
            <p class="estimate">"Per-core load in a browser is estimated from what the workers were doing: browsers do not expose per-core load."</p>
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
