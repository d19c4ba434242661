//! `gil-lab bench --html`: one page with every scenario's picture as the lab ran it and, under
//! it, as CPython itself ran it on the same machine in the same bench, drawn by the same
//! renderer so the two can be compared at a glance.

use gil_lab::trace::RunReport;
use gil_lab::view::{self, escape_html};
use gil_lab::workload::TaskOutcome;

const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#1a1a1a;background:#fff;\
margin:0 auto;max-width:1100px;padding:16px;line-height:1.45}\
svg{max-width:100%;height:auto}h3{margin-bottom:4px}\
pre{background:#f4f4f4;padding:10px;white-space:pre-wrap;font-size:13px}\
section{border-top:1px solid #ccc;margin-top:24px}";

/// Whether the lab and CPython computed the same results (the `sum_powers` digests, task by
/// task; other outcomes are not compared).
pub fn same_results(lab: &RunReport, py: &RunReport) -> bool {
    lab.tasks.iter().all(|t| {
        let other = py.tasks.iter().find(|p| p.id == t.id).map(|p| &p.outcome);
        match (&t.outcome, other) {
            (TaskOutcome::Sum(a), Some(TaskOutcome::Sum(b))) => a == b,
            _ => true,
        }
    })
}

fn figure(out: &mut String, heading: &str, report: &RunReport) {
    let scene = view::layout(report);
    out.push_str(&format!("<h3>{}</h3>\n", escape_html(heading)));
    out.push_str(&scene.to_svg());
    out.push_str("\n<pre>");
    out.push_str(&escape_html(&view::text_summary(report)));
    out.push_str("</pre>\n");
}

/// The page: for each of the lab's reports, its picture, then CPython's for the same scenario
/// when there is one.
pub fn page(lab: &[RunReport], py: &[RunReport]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>GIL Lab bench: the lab and CPython side by side</title>\n",
    );
    out.push_str(&format!(
        "<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
    ));
    out.push_str("<h1>GIL Lab bench: the lab and CPython side by side</h1>\n");
    out.push_str(
        "<p>Each scenario ran twice on this machine in one bench: natively in GIL Lab, and as \
         the same Python program in CPython. Both timelines are measured; CPython's states come \
         from timestamps its threads took (see the notes under each picture).</p>\n",
    );
    for r in lab {
        out.push_str(&format!(
            "<section>\n<h2>{}</h2>\n",
            escape_html(&r.scenario)
        ));
        figure(&mut out, "GIL Lab (native)", r);
        if let Some(p) = py.iter().find(|p| p.scenario == r.scenario) {
            figure(&mut out, &format!("measured in {}", p.machine.platform), p);
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}
