//! What both pages (the lab and the lesson) ask of the browser they run in: the window, its
//! isolation, cores and name, the page's own image files, the URL's query, the test hooks on
//! `window`, and a panic hook that shows a bug on the page. Moved out of `app.rs` unchanged so
//! the lesson can use them too.

use gil_lab::trace::RunReport;
use wasm_bindgen::JsCast;

/// The page's window (every page has one).
pub(crate) fn window() -> web_sys::Window {
    web_sys::window().expect("a page has a window")
}

/// Whether the page is cross-origin isolated (shared memory for threads).
pub(crate) fn isolated() -> bool {
    js_sys::Reflect::get(&window(), &"crossOriginIsolated".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Logical cores the browser reports (at least 1).
pub(crate) fn cores() -> u32 {
    (window().navigator().hardware_concurrency() as u32).max(1)
}

/// The browser's name and major version, for the report's machine line.
pub(crate) fn browser() -> String {
    let ua = window().navigator().user_agent().unwrap_or_default();
    for (key, name) in [
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chromium"),
        ("Version/", "Safari"),
    ] {
        if let Some(i) = ua.find(key) {
            let v: String = ua[i + key.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            return format!("{name} {v}");
        }
    }
    "a browser".to_owned()
}

/// The page's own image files, which the I/O demos download.
pub(crate) fn image_urls() -> Vec<String> {
    let base = window()
        .document()
        .and_then(|d| d.base_uri().ok().flatten())
        .unwrap_or_default();
    (1..=gil_lab::scenario::IMAGES)
        .filter_map(|k| {
            web_sys::Url::new_with_base(&format!("img/photo-{k}.jpg"), &base)
                .ok()
                .map(|u| u.href())
        })
        .collect()
}

/// One sentence on how threads run on this page, isolated or not.
pub(crate) fn mode_sentence(isolated: bool) -> &'static str {
    if isolated {
        "This page is cross-origin isolated, so threads here share one memory and take turns on a real GIL, just as in CPython; processes are separate workers."
    } else {
        "This page is not cross-origin isolated (its host sends no COOP/COEP headers), so each thread runs in its own worker and the GIL is passed between them by messages, with CPython's rules; processes are separate workers either way."
    }
}

/// Test and embedding hooks: the last finished report and the run state, on `window`.
pub(crate) fn publish(state: &str, report: Option<&RunReport>) {
    let w = window();
    let _ = js_sys::Reflect::set(&w, &"__gilLabState".into(), &state.into());
    if let Some(r) = report {
        let _ = js_sys::Reflect::set(&w, &"__gilLabLastReport".into(), &r.to_json().into());
    }
}

/// The URL's query pairs, in order.
pub(crate) fn query() -> Vec<(String, String)> {
    let search = window().location().search().unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let entries = js_sys::try_iter(&params).ok().flatten();
    if let Some(it) = entries {
        for pair in it.flatten() {
            let arr: js_sys::Array = pair.unchecked_into();
            out.push((
                arr.get(0).as_string().unwrap_or_default(),
                arr.get(1).as_string().unwrap_or_default(),
            ));
        }
    }
    out
}

/// The first value of `key` in `q`.
pub(crate) fn get<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A Rust panic becomes a message on the page, never a silent blank page.
pub(crate) fn console_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = format!("GIL Lab hit a bug: {info}");
        web_sys::console::error_1(&msg.clone().into());
        if let Some(doc) = window().document()
            && let Ok(p) = doc.create_element("p")
        {
            p.set_class_name("error fatal");
            p.set_text_content(Some(&msg));
            if let Some(b) = doc.body() {
                let _ = b.prepend_with_node_1(&p);
            }
        }
    }));
}

/// Whether the reader's system asks for reduced motion: then nothing on the page moves by
/// itself (no live-growing picture; it appears when the run ends). The lesson has its own
/// (`lesson::runs::reduced_motion`), so the lesson's module does not call this one.
#[cfg_attr(feature = "lesson-page", allow(dead_code))]
pub(crate) fn reduced_motion() -> bool {
    window()
        .match_media("(prefers-reduced-motion: reduce)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}
