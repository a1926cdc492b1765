//! The last lines of the worker's log, kept in memory for the dashboard while the log still goes
//! to stderr.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A bounded buffer of log lines (colour codes removed).
#[derive(Default)]
pub struct LogTail {
    state: Mutex<TailState>,
}

#[derive(Default)]
struct TailState {
    lines: VecDeque<String>,
    partial: Vec<u8>,
}

/// Lines kept for the dashboard.
pub const TAIL_LINES: usize = 500;

impl LogTail {
    pub fn new() -> Arc<LogTail> {
        Arc::new(LogTail::default())
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> Vec<String> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.lines.iter().cloned().collect()
    }

    fn push_bytes(&self, bytes: &[u8]) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.partial.extend_from_slice(bytes);
        while let Some(end) = state.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = state.partial.drain(..=end).collect();
            let text = strip_ansi(&String::from_utf8_lossy(&line[..line.len() - 1]));
            if state.lines.len() == TAIL_LINES {
                state.lines.pop_front();
            }
            state.lines.push_back(text);
        }
    }
}

/// Removes ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A `tracing` writer: stderr, and a copy into the tail.
#[derive(Clone)]
pub struct TeeWriter {
    pub tail: Arc<LogTail>,
}

impl Write for TeeWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tail.push_bytes(buf);
        std::io::stderr().write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for TeeWriter {
    type Writer = TeeWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_without_colour() {
        let tail = LogTail::new();
        let mut w = TeeWriter { tail: tail.clone() };
        w.write_all(b"\x1b[32mINFO\x1b[0m first\nsec").unwrap();
        w.write_all(b"ond\n").unwrap();
        assert_eq!(tail.lines(), ["INFO first", "second"]);
        for i in 0..TAIL_LINES + 5 {
            w.write_all(format!("{i}\n").as_bytes()).unwrap();
        }
        let lines = tail.lines();
        assert_eq!(lines.len(), TAIL_LINES);
        assert_eq!(lines.last().unwrap(), &(TAIL_LINES + 4).to_string());
    }
}
