//! From a report to a picture: `layout(&RunReport) -> Scene` (pure geometry), then SVG.
//!
//! The same report always gives the same [`Scene`] and the same SVG bytes, on every platform:
//! that is what lets the native report, the terminal and the web page show *matching*
//! pictures, and what the golden files under `tests/golden/` check.
//!
//! | function | gives |
//! |---|---|
//! | [`layout`] | the [`Scene`]: title, legend, GIL tracks, lane rows, time axis, per-core chart |
//! | [`layout_window`], [`layout_with`] | the same for any time window (zooming in) |
//! | [`overview`] | a thin whole-run miniature on the same x scale (the strip under a zoom brush) |
//! | [`Scene::to_svg`] | a self-contained, accessible SVG document |
//! | [`text_summary`] | the `%%time`-style words every picture carries |
//! | [`terminal`], [`terminal_with`] | the timeline as (optionally coloured) terminal text |
//! | [`html_page`] | a standalone HTML report: SVG, summary, Python, report JSON |
//!
//! # Reading at every scale
//!
//! A whole lesson-sized run is thousands of 5 ms turns on a plot 770 px wide, each turn
//! narrower than a pixel or a terminal cell. So every row is drawn by *share*: time is cut
//! into slices (4 px of SVG, one terminal cell), and each slice shows how much of it each
//! state filled — side by side in the order they happened in SVG, as a block of that height
//! in the terminal. Wide spans come out exactly; thin alternations keep their true
//! proportions (a thread that ran a quarter of the time covers a quarter of its row). The
//! rule is in `bars.rs` and `slices.rs`; the per-core chart averages its samples into pixel
//! columns the same way (`cores.rs`). A GIL track above each group of threads sharing a
//! classic GIL shows who held it, with hand-offs and drop requests marked (`timeline.rs`,
//! `holders.rs`). Pictures stay under ~4000 rectangles however long the run.
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
mod frame;
mod holders;
mod html;
mod layout;
pub mod limits;
mod palette;
mod scene;
mod slices;
mod summary;
mod svg;
mod terminal;
mod timeline;
mod window;

#[cfg(test)]
pub(crate) mod fixtures;

pub use axis::{TimeAxis, Unit};
pub use describe::{describe_params, format_duration, group_digits, simulation_words, title};
pub use frame::{PLOT_W, PLOT_X0, WIDTH, data_end_us};
pub use html::{escape_html, html_page, script_safe_json};
pub use layout::{LayoutOptions, layout, layout_window, layout_with, overview, overview_spanning};
pub use palette::{state_color, state_glyph};
pub use scene::{Anchor, Line, Polygon, Rect, Scene, Shape, Text, TimeMap};
pub use summary::{max_concurrent, text_summary};
pub use svg::escape_xml;
pub use terminal::{TerminalOptions, terminal, terminal_with};

#[cfg(test)]
mod tests;
