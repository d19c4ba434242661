//! Small reads of the page's DOM events that the lesson's components share.

use wasm_bindgen::JsCast;

/// The radio button a `change` event came from: `(group name, value)`.
pub(super) fn changed_radio(ev: &leptos::ev::Event) -> Option<(String, String)> {
    let input: web_sys::HtmlInputElement = ev.target()?.dyn_into().ok()?;
    Some((input.name(), input.value()))
}
