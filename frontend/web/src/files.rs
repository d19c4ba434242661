//! Reports in and out: open a JSON report (file picker, drag and drop, `?report=<url>`),
//! download the current run as JSON or SVG.

use gil_lab::trace::RunReport;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Reads a report from text, with a message a learner understands when it is not one.
pub fn parse_report(text: &str, source: &str) -> Result<RunReport, String> {
    RunReport::from_json(text).map_err(|e| format!("{source} could not be opened: {e}"))
}

/// Reads a picked or dropped file.
pub async fn read_file(file: web_sys::File) -> Result<RunReport, String> {
    let name = file.name();
    let text = JsFuture::from(file.text())
        .await
        .map_err(|_| format!("{name} could not be read"))?;
    parse_report(&text.as_string().unwrap_or_default(), &name)
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
    let text = JsFuture::from(resp.text().map_err(|e| fail(js_error(&e)))?)
        .await
        .map_err(|e| fail(js_error(&e)))?;
    parse_report(&text.as_string().unwrap_or_default(), url)
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
