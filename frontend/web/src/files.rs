//! Reports in and out: open a JSON report (file picker, drag and drop, `?report=<url>`),
//! download the current run as JSON or SVG. Every report opened is size-capped before it is
//! read and checked after ([`crate::report_check`]), so a broken or huge file gives one line
//! saying what is wrong instead of a wrong picture or a frozen tab.

use gil_lab::trace::RunReport;

use crate::report_check;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Reads and checks a report from text, with a message a learner understands when it is not
/// one.
pub fn parse_report(text: &str, source: &str) -> Result<RunReport, String> {
    report_check::parse(text, source)
}

/// Parses in a task of its own, and lets the page breathe before the picture is drawn: reading,
/// parsing and drawing a big report in one go would block the page for their sum.
async fn parse_apart(text: String, source: &str) -> Result<RunReport, String> {
    next_task().await;
    let parsed = parse_report(&text, source);
    next_task().await;
    parsed
}

/// Resolves in a later task of the event loop (a zero timeout).
async fn next_task() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// Reads a picked or dropped file (its size is checked before a byte is read).
pub async fn read_file(file: web_sys::File) -> Result<RunReport, String> {
    let name = file.name();
    report_check::check_size(file.size() as u64, &name)?;
    let text = JsFuture::from(file.text())
        .await
        .map_err(|_| format!("{name} could not be read"))?;
    parse_apart(text.as_string().unwrap_or_default(), &name).await
}

/// Fetches `url` (the `?report=` parameter).
pub async fn fetch_report(url: &str) -> Result<RunReport, String> {
    let window = web_sys::window().ok_or("no window")?;
    let fail = |why: String| format!("the report at {url} could not be loaded: {why}");
    let resp = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| fail(js_error(&e)))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|_| fail("no response".into()))?;
    if !resp.ok() {
        return Err(fail(format!("HTTP {}", resp.status())));
    }
    // A declared length over the cap is refused before the body is read.
    let declared = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared {
        report_check::check_size(n, url)?;
    }
    let text = JsFuture::from(resp.text().map_err(|e| fail(js_error(&e)))?)
        .await
        .map_err(|e| fail(js_error(&e)))?;
    parse_apart(text.as_string().unwrap_or_default(), url).await
}

fn js_error(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "network error".into())
}

/// Offers `content` as a download called `name`.
pub fn download(name: &str, mime: &str, content: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(content));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}
