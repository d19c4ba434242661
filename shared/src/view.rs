//! From a report to a picture: `layout(&RunReport) -> Scene` (pure geometry), then SVG.
//!
//! The same report always gives the same [`Scene`] and the same SVG bytes, on every platform:
//! that is what lets the native report, the terminal and the web page show *matching*
//! pictures, and what the golden files under `tests/golden/` check.
//!
//! | function | gives |
//! |---|---|
//! | [`layout`] | the [`Scene`]: title, legend, lane rows, time axis, per-core chart |
//! | [`Scene::to_svg`] | a self-contained, accessible SVG document |
//! | [`text_summary`] | the `%%time`-style words every picture carries |
//! | [`terminal`] | the timeline as (optionally coloured) terminal text |
//! | [`html_page`] | a standalone HTML report: SVG, summary, Python, report JSON |
//!
//! Dense traces are simplified only when the picture would get too large; the rule is in
//! `bars.rs` (spans closer than a quarter pixel join; beyond 4000 bars dense lanes are
//! resampled).
//!
//! ```
//! use gil_lab::view;
//! # fn report() -> gil_lab::trace::RunReport {
//! #     let text = include_str!("../../tests/golden/cpu-threads.report.json");
//! #     gil_lab::trace::RunReport::from_json(text).expect("golden report")
//! # }
//! let report = report();
//! let svg = view::layout(&report).to_svg();
//! assert!(svg.starts_with("<svg"));
//! assert_eq!(view::max_concurrent(&report, gil_lab::trace::SpanState::Running), 1);
//! ```

mod axis;
mod bars;
mod cores;
mod describe;
mod html;
mod layout;
mod palette;
mod scene;
mod summary;
mod svg;
mod terminal;

#[cfg(test)]
mod fixtures;

pub use axis::{TimeAxis, Unit};
pub use describe::{describe_params, format_duration, group_digits, title};
pub use html::{escape_html, html_page, script_safe_json};
pub use layout::layout;
pub use palette::{state_color, state_glyph};
pub use scene::{Anchor, Line, Polygon, Rect, Scene, Shape, Text, TimeMap};
pub use summary::{max_concurrent, text_summary};
pub use svg::escape_xml;
pub use terminal::terminal;

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::trace::{RunReport, Span, SpanState};

    /// A reference picture: the report it is drawn from and the SVG it must give.
    struct Golden {
        name: &'static str,
        json: &'static str,
        svg: &'static str,
        build: fn() -> RunReport,
    }

    const GOLDENS: [Golden; 3] = [
        Golden {
            name: "cpu-threads",
            json: include_str!("../../tests/golden/cpu-threads.report.json"),
            svg: include_str!("../../tests/golden/cpu-threads.svg"),
            build: fixtures::cpu_threads,
        },
        Golden {
            name: "race",
            json: include_str!("../../tests/golden/race.report.json"),
            svg: include_str!("../../tests/golden/race.svg"),
            build: fixtures::race,
        },
        Golden {
            name: "io-threads",
            json: include_str!("../../tests/golden/io-threads.report.json"),
            svg: include_str!("../../tests/golden/io-threads.svg"),
            build: fixtures::io_threads,
        },
    ];

    const BLESS: &str = "GIL_LAB_BLESS=1 cargo test -p gil-lab view::";

    fn golden_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
    }

    /// Where a failing comparison leaves the actual pictures (and a side-by-side page).
    fn actual_dir() -> PathBuf {
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
            PathBuf::from,
        );
        target.join("golden-actual")
    }

    /// typst's habit: reference outputs checked in, regenerated only on purpose
    /// (`GIL_LAB_BLESS=1`), and on a mismatch the actual output is written beside a page
    /// showing both.
    #[test]
    fn golden_pictures() {
        let bless = std::env::var("GIL_LAB_BLESS").is_ok_and(|v| v == "1");
        let mut failures = Vec::new();
        for g in &GOLDENS {
            let fresh = (g.build)();
            let fresh_json = fresh.to_json() + "\n";
            if bless {
                let dir = golden_dir();
                std::fs::create_dir_all(&dir).expect("create tests/golden");
                std::fs::write(dir.join(format!("{}.report.json", g.name)), &fresh_json)
                    .expect("write golden report");
                std::fs::write(dir.join(format!("{}.svg", g.name)), layout(&fresh).to_svg())
                    .expect("write golden svg");
                continue;
            }
            if g.json != fresh_json {
                failures.push(format!(
                    "{}.report.json differs from fixtures::{}() (fixture or report format changed)",
                    g.name,
                    g.name.replace('-', "_")
                ));
            }
            // Draw from the checked-in JSON, as any other reader of the file would.
            let report = RunReport::from_json(g.json).expect("golden report parses");
            let svg = layout(&report).to_svg();
            if svg != g.svg {
                let dir = actual_dir();
                std::fs::create_dir_all(&dir).expect("create golden-actual");
                let actual = dir.join(format!("{}.svg", g.name));
                std::fs::write(&actual, &svg).expect("write actual svg");
                let expected = golden_dir().join(format!("{}.svg", g.name));
                let page = format!(
                    "<!DOCTYPE html><meta charset=\"utf-8\"><title>{0}</title>\
                     <h1>{0}: expected (top) and actual (bottom)</h1>\
                     <img src=\"file://{1}\"><hr><img src=\"{0}.svg\">",
                    g.name,
                    expected.display()
                );
                std::fs::write(dir.join(format!("{}.html", g.name)), page)
                    .expect("write diff page");
                failures.push(format!(
                    "{}.svg differs; actual picture written to {}",
                    g.name,
                    actual.display()
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "golden pictures differ:\n  {}\nIf the change is intended, regenerate them with `{BLESS}` and review the diff.",
            failures.join("\n  ")
        );
    }

    #[test]
    fn layout_is_deterministic() {
        for build in [fixtures::cpu_threads, fixtures::race, fixtures::io_threads] {
            let r = build();
            assert_eq!(layout(&r), layout(&r));
            assert_eq!(layout(&r).to_svg(), layout(&r.clone()).to_svg());
        }
    }

    fn report_with(spans: &[(u32, SpanState, u64, u64)]) -> RunReport {
        let mut r = fixtures::cpu_threads();
        r.spans = spans
            .iter()
            .map(|&(lane, state, start_us, end_us)| Span {
                lane,
                task: None,
                state,
                start_us,
                end_us,
            })
            .collect();
        r
    }

    #[test]
    fn max_concurrent_counts_half_open_overlaps() {
        use SpanState::{GilWait, Running};
        assert_eq!(max_concurrent(&report_with(&[]), Running), 0);
        // Touching spans do not overlap.
        let touching = report_with(&[(0, Running, 0, 10), (1, Running, 10, 20)]);
        assert_eq!(max_concurrent(&touching, Running), 1);
        let overlapping = report_with(&[
            (0, Running, 0, 10),
            (1, Running, 5, 20),
            (2, Running, 9, 12),
            (3, GilWait, 0, 30),
        ]);
        assert_eq!(max_concurrent(&overlapping, Running), 3);
        assert_eq!(max_concurrent(&overlapping, GilWait), 1);
        // Empty spans count for nothing.
        let empty = report_with(&[(0, Running, 0, 10), (1, Running, 5, 5)]);
        assert_eq!(max_concurrent(&empty, Running), 1);
        // The GIL's signature in the fixtures.
        assert_eq!(max_concurrent(&fixtures::cpu_threads(), Running), 1);
        assert_eq!(max_concurrent(&fixtures::io_threads(), Running), 1);
    }

    #[test]
    fn summary_reads_like_percent_percent_time() {
        let s = text_summary(&fixtures::cpu_threads());
        assert!(s.starts_with("CPU times: user "), "{s}");
        assert!(s.contains("\nWall time: "), "{s}");
        assert!(s.contains("(about one core busy)"), "{s}");
        assert!(s.contains("Speed-up vs sequential: "), "{s}");
        assert!(s.contains("Thread-1: running "), "{s}");
        assert!(s.contains("At most 1 lane ran at a time"), "{s}");
        let race = text_summary(&fixtures::race());
        assert!(race.contains("[threads, plain loop, GIL]"), "{race}");
        assert!(race.contains("200,000"), "{race}");
        let io = text_summary(&fixtures::io_threads());
        assert!(io.contains("failed: connection reset by peer"), "{io}");
    }

    #[test]
    fn terminal_has_one_row_per_lane() {
        for build in [fixtures::cpu_threads, fixtures::race, fixtures::io_threads] {
            let r = build();
            for color in [false, true] {
                let text = terminal(&r, 60, color);
                let lane_rows = text
                    .lines()
                    .filter(|l| l.starts_with("Thread-") || l.starts_with("Process-"))
                    .count();
                assert_eq!(lane_rows, r.lanes.len(), "{text}");
                assert_eq!(text.contains('\x1b'), color);
            }
        }
        let plain = terminal(&fixtures::cpu_threads(), 60, false);
        assert!(plain.contains('█') && plain.contains('░'), "{plain}");
        assert!(plain.contains("core 1"), "{plain}");
        let race = terminal(&fixtures::race(), 60, false);
        assert!(race.contains("not measured"), "{race}");
    }

    #[test]
    fn html_escapes_labels_and_embeds_the_report() {
        let mut r = fixtures::cpu_threads();
        r.lanes[0].label = "<script>alert(1)</script>".to_owned();
        let page = html_page(&r);
        let marker = "<script type=\"application/json\" id=\"report\">";
        let block = page.find(marker).expect("report block");
        assert!(
            !page[..block].contains("<script>alert"),
            "label not escaped"
        );
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // The JSON block must not be closed early by a `</script>` inside a string.
        assert!(page[block..].contains("alert(1)<\\/script>"));
        let json_start = block + marker.len();
        let json_end = page[json_start..].find("</script>").expect("block end") + json_start;
        let back: RunReport = serde_json::from_str(&page[json_start..json_end]).expect("json");
        assert_eq!(back, r);
        assert!(page.contains("def sum_powers(n):"));
    }

    #[test]
    fn dense_traces_stay_small_and_moderate_ones_exact() {
        let moderate = fixtures::dense(2_000, 3_000);
        let scene = layout(&moderate);
        assert_eq!(
            scene.count_class("bar"),
            2_000,
            "a 2000-span run is drawn span by span"
        );
        let big = layout(&fixtures::dense(10_000, 700)).to_svg();
        assert!(big.len() < 1_000_000, "{} bytes", big.len());
    }

    #[test]
    fn core_chart_says_where_numbers_come_from() {
        let svg = layout(&fixtures::io_threads()).to_svg();
        assert!(svg.contains("estimated from worker activity"));
        let svg = layout(&fixtures::race()).to_svg();
        assert!(svg.contains("Per-core load was not measured"));
        let scene = layout(&fixtures::cpu_threads());
        assert_eq!(scene.count_class("core-area"), 2);
        assert!(serde_json::to_string(&scene).is_ok());
    }
}
