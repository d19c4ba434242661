//! # GIL Lab — the web page
//!
//! A Leptos CSR app: pick a lesson scenario, see its Python, press Run, watch the per-lane
//! timeline and the per-core chart grow, read the `%%time` summary and the speed-up. The
//! picture is the shared core's [`gil_lab::view::layout`] `Scene`, written by
//! `Scene::to_svg()` — the same bytes the native `gil-lab run --svg` writes for the same report.
//!
//! All engine work happens in Web Workers (`frontend/js/host.js`, `frontend/engine`); this crate
//! only draws and keeps the books.

pub mod form;

// When compiling for web:
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod files;
#[cfg(target_arch = "wasm32")]
mod runtime;

/// Mounts the app on the page (called by `index.html`).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    app::mount();
}
