//! Errors as the four binaries print them: one line, `error: ` and the cause chain once.

use std::error::Error;

/// The error and its causes joined by `: `, leaving out a cause whose text the line already ends
/// with (error types that print their source in their own message would otherwise repeat it).
pub fn one_line(error: &(dyn Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.is_empty() && !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = e.source();
    }
    line
}

/// `error: …` on stderr.
pub fn print(error: &(dyn Error + 'static)) {
    eprintln!("error: {}", one_line(error));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading the key: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("starting")]
    struct Outer(#[source] Repeats);

    #[test]
    fn causes_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Outer(Repeats(io));
        assert_eq!(one_line(&e), "starting: reading the key: no such file");
    }
}
