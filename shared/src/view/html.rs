//! A standalone HTML report: title, the SVG inline, the text summary, the Python the scenario
//! stands for, and the report itself as JSON for tools (and the web page) to read back.
//!
//! No external resources: the page works from a file, offline, in any browser.

use super::describe::title;
use super::layout::layout;
use crate::scenario;
use crate::trace::{RunReport, Source};

/// Page style: system fonts, readable line length, the SVG scaled to the page width.
const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#1a1a1a;background:#fff;\
margin:0 auto;max-width:1000px;padding:16px;line-height:1.45}\
svg{max-width:100%;height:auto}\
pre{background:#f4f4f4;padding:12px;overflow-x:auto;font-size:14px}\
.lesson{font-size:1.05em}";

/// Escapes text for HTML content and attribute values: the XML rules serve HTML too
/// (`&apos;` is valid HTML5), so there is one escaper.
pub fn escape_html(text: &str) -> String {
    super::escape_xml(text)
}

/// JSON made safe inside `<script type="application/json">`: `</` becomes `<\/` (so no
/// `</script>` can end the element early) and `<!--` becomes `<\u0021--`. Both are the same
/// JSON once parsed, since `<` can only occur inside strings.
pub fn script_safe_json(json: &str) -> String {
    json.replace("</", "<\\/").replace("<!--", "<\\u0021--")
}

/// A standalone HTML page for the report (see the module docs for what it holds).
pub fn html_page(report: &RunReport) -> String {
    let scene = layout(report);
    let heading = escape_html(&title(report));
    let found = scenario::find(&report.scenario);
    let mut out = String::with_capacity(scene.shapes.len() * 200 + 4096);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>GIL Lab · {heading}</title>\n"));
    out.push_str(&format!(
        "<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
    ));
    // The picture carries the full title; the page heading names the scenario only, and
    // says when nothing ran.
    let simulated = if report.source == Source::Simulated {
        " (simulated)"
    } else {
        ""
    };
    out.push_str(&format!(
        "<h1>GIL Lab · {}{simulated}</h1>\n",
        escape_html(&report.scenario)
    ));
    if let Some(s) = found {
        out.push_str(&format!(
            "<p class=\"lesson\">{}</p>\n",
            escape_html(s.lesson)
        ));
    }
    out.push_str(&scene.to_svg());
    out.push_str("<h2>Summary</h2>\n<pre class=\"summary\">");
    out.push_str(&escape_html(&scene.description));
    out.push_str("</pre>\n");
    if let Some(s) = found {
        out.push_str("<h2>The Python this run stands for</h2>\n<pre class=\"python\"><code>");
        out.push_str(&escape_html(&s.python_for(&report.params)));
        out.push_str("</code></pre>\n");
    }
    out.push_str("<script type=\"application/json\" id=\"report\">\n");
    out.push_str(&script_safe_json(&report.to_json()));
    out.push_str("\n</script>\n</main>\n</body>\n</html>\n");
    out
}
