//! # GIL Lab — the web page
//!
//! A Leptos CSR app: pick a lesson scenario, see its Python, press Run, watch the per-lane
//! timeline and the per-core chart grow, read the `%%time` summary and the speed-up. The
//! picture is the shared core's [`gil_lab::view::layout`] `Scene`, written by
//! `Scene::to_svg()` — the same bytes the native `gil-lab run --svg` writes for the same report.
//!
//! The same module also holds the lesson explorer ([`lesson`], the page at `lesson/`): the
//! lesson's arc in sections, each with a guess before the run, the live demos and an
//! explanation read from the run's own numbers, plus the "Be the scheduler" game.
//!
//! All engine work happens in Web Workers (`frontend/js/host.js`, `frontend/engine`); this crate
//! only draws and keeps the books.

pub mod form;
pub mod lesson;
pub mod report_check;
pub mod sse;
pub mod zoom;

// When compiling for web (the lab's own modules stay out of the lesson's build):
#[cfg(all(target_arch = "wasm32", not(feature = "lesson-page")))]
mod app;
#[cfg(all(target_arch = "wasm32", not(feature = "lesson-page")))]
mod backends;
#[cfg(target_arch = "wasm32")]
mod chart_input;
#[cfg(all(target_arch = "wasm32", not(feature = "lesson-page")))]
mod files;
#[cfg(all(target_arch = "wasm32", not(feature = "lesson-page")))]
mod native_run;
#[cfg(target_arch = "wasm32")]
mod page;
#[cfg(target_arch = "wasm32")]
mod picture;
#[cfg(target_arch = "wasm32")]
mod runtime;
#[cfg(target_arch = "wasm32")]
mod simulate;

/// Mounts the page. The lab's module (default features) mounts the lab, and sends
/// `?embed=lesson/<section>` on to the lesson's page; the lesson's module (feature
/// `lesson-page`, loaded by `lesson/index.html`) mounts the lesson.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    #[cfg(feature = "lesson-page")]
    lesson::mount();
    #[cfg(not(feature = "lesson-page"))]
    if !lesson::redirect_embed() {
        app::mount();
    }
}
