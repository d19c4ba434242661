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

// When compiling for web:
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod files;
#[cfg(target_arch = "wasm32")]
mod page;
#[cfg(target_arch = "wasm32")]
mod picture;
#[cfg(target_arch = "wasm32")]
mod runtime;

/// Mounts the page: the lesson (its own entry page, or `?embed=lesson/<section>` on either
/// page), otherwise the lab.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    if lesson::wanted() {
        lesson::mount();
    } else {
        app::mount();
    }
}
