//! What the zoomable picture asks of the DOM: where a pointer is in the scene's units, the
//! wheel listener (attached by hand: a delegated one would be passive and could not stop the
//! page from scrolling), the bars a keyboard user steps through and their hover words, and a
//! clock for measuring redraws. The arithmetic lives in [`crate::zoom`]; the component in
//! [`crate::picture`].

use gil_lab::view::{PLOT_W, PLOT_X0, TimeMap, WIDTH};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::page::window;
use crate::zoom::Window;

/// Bars a keyboard user can step through and read: lane spans and GIL holds.
const STEPPABLE: &str = "svg rect.bar, svg rect.gil-hold";

/// The time map of a picture showing `w` (the same one the core's layout builds for it).
pub fn time_map(w: Window) -> TimeMap {
    TimeMap {
        x0: PLOT_X0,
        width: PLOT_W,
        start_us: w.0,
        end_us: w.1,
    }
}

/// `client_x` in the scene's units (0..[`WIDTH`]) of the first `<svg>` inside `host`: the
/// picture scales with the page, the scene does not.
pub fn scene_x(host: &web_sys::Element, client_x: f64) -> Option<f64> {
    let svg = host.query_selector("svg").ok().flatten()?;
    let rect = svg.get_bounding_client_rect();
    (rect.width() > 0.0).then(|| (client_x - rect.left()) * WIDTH / rect.width())
}

/// How many µs one CSS pixel of `host`'s picture stands for, showing `w`.
pub fn us_per_css_px(host: &web_sys::Element, w: Window) -> f64 {
    let scale = host
        .query_selector("svg")
        .ok()
        .flatten()
        .map(|s| s.get_bounding_client_rect().width())
        .filter(|w| *w > 0.0)
        .map_or(1.0, |css| WIDTH / css);
    time_map(w).us_per_px() * scale
}

/// Calls `f` on every wheel turn over `el`, with the page's scrolling stopped there.
pub fn on_wheel(el: &web_sys::Element, f: impl FnMut(web_sys::WheelEvent) + 'static) {
    let cb = Closure::<dyn FnMut(web_sys::WheelEvent)>::new(f);
    let opts = web_sys::AddEventListenerOptions::new();
    opts.set_passive(false);
    let _ = el.add_event_listener_with_callback_and_add_event_listener_options(
        "wheel",
        cb.as_ref().unchecked_ref(),
        &opts,
    );
    // The listener lives as long as its element; a picture is mounted a handful of times.
    cb.forget();
}

/// Focuses `el` (so its keys work after a click or tap) without scrolling the page: the
/// picture must not move under the pointer or the finger.
pub fn focus_quietly(el: &web_sys::HtmlElement) {
    let options = web_sys::FocusOptions::new();
    options.set_prevent_scroll(true);
    let _ = el.focus_with_options(&options);
}

/// The hover words (`<title>`) of the drawn shape at or above `target`, if it has any.
pub fn hover_words(target: Option<web_sys::EventTarget>) -> Option<String> {
    let el: web_sys::Element = target?.dyn_into().ok()?;
    let shape = el.closest("rect, polygon, text").ok().flatten()?;
    let title = shape.query_selector(":scope > title").ok().flatten()?;
    title.text_content()
}

/// Marks the `k`-th steppable bar inside `host` (clamped to those there are) and returns its
/// index and words; clears the previous mark.
pub fn step_to(host: &web_sys::Element, k: isize) -> Option<(usize, String)> {
    if let Ok(Some(old)) = host.query_selector(".inspected") {
        let _ = old.class_list().remove_1("inspected");
    }
    let bars = host.query_selector_all(STEPPABLE).ok()?;
    let n = bars.length() as isize;
    if n == 0 {
        return None;
    }
    let k = k.clamp(0, n - 1) as usize;
    let el: web_sys::Element = bars.item(k as u32)?.dyn_into().ok()?;
    let _ = el.class_list().add_1("inspected");
    let words = el
        .query_selector(":scope > title")
        .ok()
        .flatten()
        .and_then(|t| t.text_content())?;
    Some((k, words))
}

/// Milliseconds on the page's clock.
pub fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// Records how long one redraw took, for the browser test and `bench-web`
/// (`window.__gilLabRedraws`, the last 200).
pub fn note_redraw(ms: f64) {
    let w = window();
    let key = JsValue::from_str("__gilLabRedraws");
    let list = js_sys::Reflect::get(&w, &key)
        .ok()
        .and_then(|v| v.dyn_into::<js_sys::Array>().ok())
        .unwrap_or_else(|| {
            let a = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&w, &key, &a);
            a
        });
    list.push(&JsValue::from_f64((ms * 10.0).round() / 10.0));
    if list.length() > 200 {
        list.shift();
    }
}
