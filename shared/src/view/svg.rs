//! Writes a [`Scene`] as a self-contained SVG document.
//!
//! The output is byte-for-byte stable: shapes are written in scene order, numbers with at most
//! two decimals (trailing zeros dropped), attributes in a fixed order, and nothing depends on
//! the clock, the platform or hash-map order. That is what lets golden files be compared
//! exactly.

use std::fmt::Write as _;

use super::palette;
use super::scene::{Line, Polygon, Rect, Scene, Shape, Text};

/// The fonts the picture asks for: whatever the system uses, no downloads.
const FONT: &str = "system-ui, sans-serif";

/// A coordinate with at most two decimals and no trailing zeros (`12`, `12.5`, `0.25`).
pub(super) fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_owned();
    }
    let mut s = format!("{v:.2}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".to_owned() } else { s }
}

/// Escapes text for XML content and attribute values, dropping the control characters XML
/// 1.0 forbids.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

impl Scene {
    /// The scene as a standalone SVG document: `role="img"`, an `aria-label` and `<title>`
    /// naming the run, a `<desc>` holding the text summary, hover `<title>`s on bars. The same
    /// scene always gives the same bytes.
    pub fn to_svg(&self) -> String {
        self.document(|out| {
            for shape in &self.shapes {
                write_shape(out, shape);
            }
        })
    }

    /// The same picture for a run that is still growing: every bar of one colour and class
    /// is one `<path>`, without hover titles. A page parses and styles each element of a
    /// redrawn picture anew; a lesson-size run has thousands of bars (and as many titles), and
    /// redrawing them twice a second as `<rect>`s kept the page's main thread busy for
    /// 100–400 ms at a time (`tests/e2e/long-tasks.mjs`). Bars of one colour and class never
    /// overlap one another, so each path takes the place of its first bar; everything else
    /// is written as [`Scene::to_svg`] writes it.
    pub fn to_svg_merged(&self) -> String {
        let mut groups: Vec<(&str, &str, String)> = Vec::new();
        // Which group each shape joined (`None`: written as it is).
        let mut joined: Vec<Option<usize>> = Vec::with_capacity(self.shapes.len());
        for shape in &self.shapes {
            let Shape::Rect(r) = shape else {
                joined.push(None);
                continue;
            };
            if r.title.is_none() {
                joined.push(None);
                continue;
            }
            let g = match groups
                .iter()
                .position(|(f, c, _)| *f == r.fill && *c == r.class)
            {
                Some(g) => g,
                None => {
                    groups.push((&r.fill, &r.class, String::new()));
                    groups.len() - 1
                }
            };
            let d = &mut groups[g].2;
            let _ = write!(
                d,
                "M{} {}h{}v{}h-{}z",
                num(r.x),
                num(r.y),
                num(r.w.max(0.0)),
                num(r.h.max(0.0)),
                num(r.w.max(0.0))
            );
            joined.push(Some(g));
        }
        let mut written = vec![false; groups.len()];
        self.document(|out| {
            for (shape, g) in self.shapes.iter().zip(&joined) {
                match g {
                    None => write_shape(out, shape),
                    Some(g) if !written[*g] => {
                        written[*g] = true;
                        let (fill, class, d) = &groups[*g];
                        let _ = writeln!(
                            out,
                            "<path d=\"{d}\" fill=\"{}\" class=\"{}\"/>",
                            escape_xml(fill),
                            escape_xml(class)
                        );
                    }
                    Some(_) => {}
                }
            }
        })
    }

    /// The document around the shapes `body` writes.
    fn document(&self, body: impl FnOnce(&mut String)) -> String {
        let mut out = String::with_capacity(256 + self.shapes.len() * 160);
        let title = escape_xml(&self.title);
        let (w, h) = (num(self.width), num(self.height));
        // `write!` into a String cannot fail; the results are ignored on purpose.
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{title}\" \
             font-family=\"{FONT}\">"
        );
        let _ = writeln!(out, "<title>{title}</title>");
        let _ = writeln!(out, "<desc>{}</desc>", escape_xml(&self.description));
        let _ = writeln!(
            out,
            "<rect width=\"{w}\" height=\"{h}\" fill=\"{}\"/>",
            palette::BACKGROUND
        );
        body(&mut out);
        out.push_str("</svg>\n");
        out
    }
}

fn write_shape(out: &mut String, shape: &Shape) {
    match shape {
        Shape::Rect(r) => rect(out, r),
        Shape::Line(l) => line(out, l),
        Shape::Polygon(p) => polygon(out, p),
        Shape::Text(t) => text(out, t),
    }
}

/// Closes an element, with a hover `<title>` child when there is one.
fn close(out: &mut String, tag: &str, title: Option<&String>) {
    match title {
        Some(t) => {
            let _ = writeln!(out, "><title>{}</title></{tag}>", escape_xml(t));
        }
        None => out.push_str("/>\n"),
    }
}

fn rect(out: &mut String, r: &Rect) {
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" class=\"{}\"",
        num(r.x),
        num(r.y),
        num(r.w.max(0.0)),
        num(r.h.max(0.0)),
        escape_xml(&r.fill),
        escape_xml(&r.class)
    );
    close(out, "rect", r.title.as_ref());
}

fn line(out: &mut String, l: &Line) {
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"",
        num(l.x1),
        num(l.y1),
        num(l.x2),
        num(l.y2),
        escape_xml(&l.stroke),
        num(l.stroke_width)
    );
    if l.dashed {
        out.push_str(" stroke-dasharray=\"4 3\"");
    }
    let _ = writeln!(out, " class=\"{}\"/>", escape_xml(&l.class));
}

fn polygon(out: &mut String, p: &Polygon) {
    out.push_str("<polygon points=\"");
    for (i, [x, y]) in p.points.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{},{}", num(*x), num(*y));
    }
    let _ = write!(
        out,
        "\" fill=\"{}\" class=\"{}\"",
        escape_xml(&p.fill),
        escape_xml(&p.class)
    );
    close(out, "polygon", p.title.as_ref());
}

fn text(out: &mut String, t: &Text) {
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\"",
        num(t.x),
        num(t.y),
        num(t.size),
        t.anchor.svg()
    );
    if t.bold {
        out.push_str(" font-weight=\"bold\"");
    }
    let _ = write!(
        out,
        " fill=\"{}\" class=\"{}\">{}",
        escape_xml(&t.fill),
        escape_xml(&t.class),
        escape_xml(&t.text)
    );
    if let Some(title) = &t.title {
        let _ = write!(out, "<title>{}</title>", escape_xml(title));
    }
    out.push_str("</text>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(0.254), "0.25");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn a_merged_picture_has_one_path_per_bar_colour_and_the_same_everything_else() {
        let scene = crate::view::layout(&crate::view::fixtures::cpu_threads_lesson());
        let (full, merged) = (scene.to_svg(), scene.to_svg_merged());
        let bars = scene
            .shapes
            .iter()
            .filter(|s| matches!(s, Shape::Rect(r) if r.title.is_some()))
            .count();
        assert!(bars > 20, "{bars} bars");
        let kinds: std::collections::BTreeSet<(String, String)> = scene
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Rect(r) if r.title.is_some() => Some((r.fill.clone(), r.class.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(merged.matches("<path ").count(), kinds.len());
        assert_eq!(
            full.matches("<rect ").count() - bars,
            merged.matches("<rect ").count()
        );
        // Every bar is still drawn, as a sub-path.
        let subpaths: usize = merged
            .split("<path d=\"")
            .skip(1)
            .map(|p| p.split('"').next().unwrap_or("").matches('M').count())
            .sum();
        assert_eq!(subpaths, bars);
        for tag in ["<text ", "<line ", "<polygon "] {
            assert_eq!(
                full.matches(tag).count(),
                merged.matches(tag).count(),
                "{tag}"
            );
        }
        assert!(merged.len() * 2 < full.len());
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape_xml("<b>&\"x\u{1}"), "&lt;b&gt;&amp;&quot;x");
    }
}
