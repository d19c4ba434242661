//! The report's outputs that `run` and `simulate` share: `--json`, `--svg`, `--html`,
//! `--trace` and the terminal chart's `--width`. Paths are checked before any work starts (a
//! run may take minutes), files are written as their kind calls for (`files::write_output`:
//! whole or not at all for a regular file, in place for a device or a pipe), and every file
//! asked for is written whatever happens to the chart on the terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;

use gil_lab::trace::RunReport;
use gil_lab::view;

use crate::cli::OutputArgs;
use crate::files::{check_output, check_stdout, write_output, write_stdout};

impl OutputArgs {
    fn json_to_stdout(&self) -> bool {
        self.json.as_deref() == Some("-")
    }

    fn json_path(&self) -> Option<&Path> {
        self.json.as_deref().filter(|j| *j != "-").map(Path::new)
    }

    /// Refuses an output path that cannot be written, naming its flag.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.json_to_stdout() {
            check_stdout("json")?;
        }
        for (flag, p) in [
            ("json", self.json_path()),
            ("svg", self.svg.as_deref()),
            ("html", self.html.as_deref()),
            ("trace", self.trace.as_deref()),
        ] {
            if let Some(p) = p {
                check_output(flag, p)?;
            }
        }
        Ok(())
    }

    /// Where the chart and summary go (standard error when the JSON takes standard output),
    /// whether to colour them, and the chart's width.
    pub fn chart(&self) -> (Box<dyn Write>, bool, usize) {
        let (out, is_tty): (Box<dyn Write>, bool) = if self.json_to_stdout() {
            (Box::new(std::io::stderr()), std::io::stderr().is_terminal())
        } else {
            (Box::new(std::io::stdout()), std::io::stdout().is_terminal())
        };
        let color = is_tty && std::env::var_os("NO_COLOR").is_none();
        let width = self
            .width
            .map(|w| w as usize)
            .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
            .unwrap_or(100)
            .clamp(40, 400);
        (out, color, width)
    }

    /// Writes the chart and the `%%time`-style summary to `out`.
    pub fn write_chart(
        out: &mut dyn Write,
        report: &RunReport,
        color: bool,
        width: usize,
    ) -> std::io::Result<()> {
        writeln!(
            out,
            "{}",
            view::terminal(report, width.saturating_sub(16), color)
        )?;
        writeln!(out, "{}", view::text_summary(report))
    }

    /// Draws the chart with `chart` (given the chart's writer, colour and width), then writes
    /// every file asked for. The files are written even when the chart cannot be (a closed
    /// pipe, a full disk behind standard output): a report the user asked for must not depend
    /// on the terminal. The chart's error, if any, is returned after that.
    pub fn deliver(
        &self,
        report: &RunReport,
        chart: impl FnOnce(&mut dyn Write, bool, usize) -> std::io::Result<()>,
    ) -> anyhow::Result<()> {
        let (mut out, color, width) = self.chart();
        let drawn = chart(&mut *out, color, width).and_then(|()| out.flush());
        self.write_files(report)?;
        drawn.map_err(|e| anyhow::Error::new(e).context("cannot print the chart"))
    }

    /// Writes every file asked for (and the JSON to standard output for `--json -`).
    pub fn write_files(&self, report: &RunReport) -> anyhow::Result<()> {
        if self.json_to_stdout() {
            write_stdout((report.to_json() + "\n").as_bytes())?;
        }
        if let Some(p) = self.json_path() {
            write_output("json", p, report.to_json().as_bytes())?;
        }
        if let Some(p) = &self.svg {
            write_output("svg", p, view::layout(report).to_svg().as_bytes())?;
        }
        if let Some(p) = &self.html {
            write_output("html", p, view::html_page(report).as_bytes())?;
        }
        if let Some(p) = &self.trace {
            write_output("trace", p, gil_lab::export::chrome_trace(report).as_bytes())?;
        }
        Ok(())
    }
}
