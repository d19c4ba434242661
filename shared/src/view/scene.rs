//! The picture as plain data: rectangles, lines, polygons and texts in SVG user units.
//!
//! A [`Scene`] knows nothing about SVG or the DOM; [`Scene::to_svg`](super::svg) writes it as
//! SVG and the web page can draw the same shapes itself (with hover and live growth). Every
//! coordinate is in pixels of a [`Scene::width`] × [`Scene::height`] canvas, origin top left.

use serde::Serialize;

/// Everything needed to draw one report: the canvas size, the words a screen reader gets, and
/// the shapes in painting order (later shapes on top).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scene {
    /// Canvas width, px.
    pub width: f64,
    /// Canvas height, px.
    pub height: f64,
    /// One line naming the run (scenario and parameters); the SVG's `<title>` and `aria-label`.
    pub title: String,
    /// The text summary of the run ([`text_summary`](super::text_summary)); the SVG's `<desc>`.
    pub description: String,
    /// Where time lies on the x axis, so that a live view can add bars as spans arrive.
    pub time: TimeMap,
    /// What to paint, in order.
    pub shapes: Vec<Shape>,
}

/// The deterministic mapping from µs since the run began to an x coordinate: `start_us` lands
/// at `x0`, `end_us` at `x0 + width` (a whole run starts at 0; a zoomed window anywhere).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimeMap {
    /// x of `start_us`.
    pub x0: f64,
    /// Width of the plot, px; `end_us` lands at `x0 + width`.
    pub width: f64,
    /// The time at the left edge of the plot, µs.
    pub start_us: u64,
    /// The time at the right edge of the plot (for a whole run, the axis' last tick), µs;
    /// always after `start_us`.
    pub end_us: u64,
}

impl TimeMap {
    /// The x coordinate of `t_us`. Times outside `start_us..end_us` land outside the plot.
    pub fn x(&self, t_us: u64) -> f64 {
        self.x0 + self.width * ((t_us as f64 - self.start_us as f64) / self.span_us() as f64)
    }

    /// The time at `x` (the inverse of [`TimeMap::x`], clamped to the plot), µs: what a
    /// pointer over the picture points at.
    pub fn time_at(&self, x: f64) -> u64 {
        let f = ((x - self.x0) / self.width.max(1.0)).clamp(0.0, 1.0);
        self.start_us + (f * self.span_us() as f64).round() as u64
    }

    /// How many µs one pixel stands for.
    pub fn us_per_px(&self) -> f64 {
        self.span_us() as f64 / self.width.max(1.0)
    }

    /// The time the plot covers, µs (≥ 1).
    fn span_us(&self) -> u64 {
        self.end_us.saturating_sub(self.start_us).max(1)
    }
}

/// One thing to paint.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// A filled rectangle (a span's bar, a lane's background, a legend swatch).
    Rect(Rect),
    /// A straight line (axis, ticks, grid).
    Line(Line),
    /// A filled polygon (a core's utilisation area).
    Polygon(Polygon),
    /// A line of text.
    Text(Text),
}

/// A filled rectangle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width (≥ 0).
    pub w: f64,
    /// Height (≥ 0).
    pub h: f64,
    /// CSS colour (`#0072B2`).
    pub fill: String,
    /// Space-separated class names for styling (`bar running`).
    pub class: String,
    /// Hover text (a span's lane, state, task, start, end and duration), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A straight line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// Start x.
    pub x1: f64,
    /// Start y.
    pub y1: f64,
    /// End x.
    pub x2: f64,
    /// End y.
    pub y2: f64,
    /// CSS colour.
    pub stroke: String,
    /// Stroke width, px.
    pub stroke_width: f64,
    /// Drawn dashed (the end-of-run marker).
    pub dashed: bool,
    /// Class names.
    pub class: String,
}

/// A filled polygon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Polygon {
    /// Corner points `[x, y]`, in order; the last joins the first.
    pub points: Vec<[f64; 2]>,
    /// CSS colour.
    pub fill: String,
    /// Class names.
    pub class: String,
    /// Hover text, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Where a text's `x` lies relative to the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// `x` is the left end.
    Start,
    /// `x` is the middle.
    Middle,
    /// `x` is the right end.
    End,
}

impl Anchor {
    /// The SVG `text-anchor` value.
    pub fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// One line of text; `y` is the baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Text {
    /// Anchor point x.
    pub x: f64,
    /// Baseline y.
    pub y: f64,
    /// The words (plain text, not markup).
    pub text: String,
    /// Font size, px.
    pub size: f64,
    /// Where `x` lies on the text.
    pub anchor: Anchor,
    /// Bold.
    pub bold: bool,
    /// CSS colour.
    pub fill: String,
    /// Class names.
    pub class: String,
    /// Hover text (the full label when the shown one was shortened), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl Scene {
    /// The number of shapes with the given class name (`bar`, `core-area`, …); for tests and
    /// for the web page's "nothing to show yet" checks.
    pub fn count_class(&self, class: &str) -> usize {
        self.shapes
            .iter()
            .filter(|s| s.class().split(' ').any(|c| c == class))
            .count()
    }
}

impl Shape {
    /// The shape's class names.
    pub fn class(&self) -> &str {
        match self {
            Shape::Rect(r) => &r.class,
            Shape::Line(l) => &l.class,
            Shape::Polygon(p) => &p.class,
            Shape::Text(t) => &t.class,
        }
    }
}
