//! Draws a saved report (`gil-lab run … --json r.json`) again, whole or zoomed into a window:
//! the terminal picture on stdout, and on request the SVG and the overview strip.
//!
//! ```text
//! cargo run -p gil-lab --example render -- r.json [--window FROM_US TO_US] [--width CELLS]
//!     [--svg OUT.svg] [--overview OUT.svg] [--color]
//! ```

use std::error::Error;

use gil_lab::trace::RunReport;
use gil_lab::view;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let mut input = None;
    let mut window = None;
    let mut width = 100usize;
    let mut svg = None;
    let mut strip = None;
    let mut color = false;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--window" => {
                let from: u64 = value("--window")?.parse()?;
                let to: u64 = value("--window")?.parse()?;
                window = Some((from, to));
            }
            "--width" => width = value("--width")?.parse()?,
            "--svg" => svg = Some(value("--svg")?),
            "--overview" => strip = Some(value("--overview")?),
            "--color" => color = true,
            _ if input.is_none() => input = Some(a),
            _ => return Err(format!("unexpected argument {a}").into()),
        }
    }
    let input = input.ok_or("usage: render REPORT.json [--window FROM_US TO_US] [--width CELLS] [--svg OUT] [--overview OUT] [--color]")?;
    let report = RunReport::from_json(&std::fs::read_to_string(&input)?)?;
    let opts = view::TerminalOptions {
        width,
        color,
        window,
    };
    print!("{}", view::terminal_with(&report, &opts));
    if let Some(path) = svg {
        let scene = view::layout_with(
            &report,
            &view::LayoutOptions {
                window,
                span_us: None,
            },
        );
        std::fs::write(path, scene.to_svg())?;
    }
    if let Some(path) = strip {
        std::fs::write(path, view::overview(&report).to_svg())?;
    }
    Ok(())
}
