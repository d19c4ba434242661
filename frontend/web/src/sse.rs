//! Server-sent events, parsed from the bytes of a streamed response as they arrive (the page
//! reads `POST /api/run` with `fetch`, which `EventSource` cannot do: it only GETs).
//!
//! Only what `gil-lab serve` sends is needed — `event:` and `data:` lines, events ended by a
//! blank line, `:` comments (keep-alives) — but the rules are the standard's: a chunk may end
//! anywhere (inside a line, or inside a UTF-8 character), lines may end in `\r\n`, and several
//! `data:` lines join with `\n`.

/// One event: its name (`message` when the stream named none) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field.
    pub name: String,
    /// The `data:` lines, joined by `\n`.
    pub data: String,
}

/// Bytes in, whole events out.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    name: String,
    data: Vec<String>,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk; returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        let mut start = 0;
        while let Some(k) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let mut line = &self.buf[start..start + k];
            start += k + 1;
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            // A whole line is whole UTF-8 (a character never contains `\n`).
            let line = String::from_utf8_lossy(line).into_owned();
            if let Some(e) = self.line(&line) {
                out.push(e);
            }
        }
        self.buf.drain(..start);
        out
    }

    fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            if self.data.is_empty() {
                self.name.clear();
                return None;
            }
            let name = std::mem::take(&mut self.name);
            return Some(Event {
                name: if name.is_empty() {
                    "message".to_owned()
                } else {
                    name
                },
                data: std::mem::take(&mut self.data).join("\n"),
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.name = value.to_owned(),
            "data" => self.data.push(value.to_owned()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let stream = "event: started\ndata: {\"id\":\"1\"}\n\n: keep-alive\n\nevent: span\r\ndata: {\"x\":\"é\"}\r\n\r\ndata: a\ndata: b\n\n";
        let bytes = stream.as_bytes();
        // Every way of cutting the stream in two gives the same events.
        for cut in 0..bytes.len() {
            let mut p = Parser::new();
            let mut got = p.push(&bytes[..cut]);
            got.extend(p.push(&bytes[cut..]));
            assert_eq!(
                got,
                vec![
                    Event {
                        name: "started".into(),
                        data: "{\"id\":\"1\"}".into()
                    },
                    Event {
                        name: "span".into(),
                        data: "{\"x\":\"é\"}".into()
                    },
                    Event {
                        name: "message".into(),
                        data: "a\nb".into()
                    },
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_unfinished_event_waits_for_its_blank_line() {
        let mut p = Parser::new();
        assert!(p.push(b"event: report\ndata: {}\n").is_empty());
        assert_eq!(p.push(b"\n").len(), 1);
    }
}
