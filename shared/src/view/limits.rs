//! The largest report the page opens and draws. A file someone opens may be hand-edited or
//! written by another tool, and a picture of a million rows would freeze the tab, so the page
//! refuses anything bigger (`frontend/web/src/report_check.rs`); the simulator refuses to make
//! a report bigger than these before it starts (`sim::budget`), so everything it writes can be
//! opened. One set of numbers, here, for both.
//!
//! The caps are sized so that reading, checking and drawing the biggest report they let through
//! stays well under 200 ms of main-thread work in Chromium (the e2e test `view.mjs` measures it
//! with a `longtask` observer); a report the lab writes itself is far below all of them.

/// Largest report text the page reads, bytes. Parsing is one uninterrupted task (about 20 ms
/// per MB in Chromium's wasm on an idle core, several times that on a busy one); a lesson-size
/// run (`n = 10000`, 4 threads, pretty-printed by `gil-lab run --json`) is about 0.4 MB.
pub const MAX_REPORT_BYTES: u64 = 3 * 1024 * 1024;
/// Most lanes (rows) a picture can hold and still be read; the lab itself draws at most 65.
pub const MAX_LANES: usize = 256;
/// Most spans; the lesson-size run has about 1,600, the same run at `n = 50000` about 8,000.
/// Drawing the whole run is one task, and its cost grows with the spans.
pub const MAX_SPANS: usize = 10_000;
/// Most GIL events (hand-offs and drop requests); the lesson-size run has about 1,600.
pub const MAX_GIL_EVENTS: usize = 40_000;
/// Most core samples and tasks.
pub const MAX_SAMPLES: usize = 40_000;
/// Latest time a report may mention, µs since its run began: one day. Anything later is a
/// corrupt number (or a clock in the wrong unit), not a run.
pub const MAX_TIME_US: u64 = 24 * 3_600 * 1_000_000;

/// Bytes of `value` as pretty JSON (what `gil-lab run --json` writes), counted without
/// building the text.
pub fn pretty_json_len<T: serde::Serialize>(value: &T) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail, and a report's fields all serialise.
    let _ = serde_json::to_writer_pretty(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_the_pretty_texts_length() {
        let v = serde_json::json!({"a": [1, 2, {"b": "ü"}]});
        let text = serde_json::to_string_pretty(&v).expect("serialises");
        assert_eq!(pretty_json_len(&v), text.len() as u64);
    }
}
