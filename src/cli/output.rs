//! Standard output and standard error for the commands. A reader that goes away (`casa-build
//! check 2>&1 | head -3`) ends the output, not the command: a write to a closed pipe (EPIPE;
//! Rust ignores SIGPIPE, so it arrives as an error) is dropped as if written, and the command
//! finishes with the exit code it would have had. Without this, whichever write met the
//! closed pipe first turned the run into "cannot write" (exit 3), on some runs and not others.
//!
//! Every write of `cli/` goes through [`stdout`] and [`stderr`]; `clippy.toml` forbids
//! `std::io::stdout`/`stderr` elsewhere.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicU8, Ordering};

use super::args::ColorChoice;

/// `--color`, set once by `cli::run` before anything is printed.
static COLOR: AtomicU8 = AtomicU8::new(0);

pub(crate) fn set_color(choice: ColorChoice) {
    let v = match choice {
        ColorChoice::Auto => 0,
        ColorChoice::Always => 1,
        ColorChoice::Never => 2,
    };
    COLOR.store(v, Ordering::Relaxed);
}

/// Which stream a coloured text goes to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Whether to colour what goes to `stream`: `--color always|never` decide; `auto` colours a
/// terminal unless `NO_COLOR` is set to anything but the empty string (no-color.org: a flag
/// overrides the variable) or `TERM=dumb`.
#[allow(clippy::disallowed_methods)]
pub(crate) fn color(stream: Stream) -> bool {
    let terminal = match stream {
        Stream::Stdout => io::stdout().is_terminal(),
        Stream::Stderr => io::stderr().is_terminal(),
    };
    decide(
        COLOR.load(Ordering::Relaxed),
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        std::env::var_os("TERM").is_some_and(|t| t == "dumb"),
        terminal,
    )
}

/// A text report with its unified diffs coloured as git colours them: removed lines red,
/// added green, hunk headers cyan, file headers and object titles bold.
pub(crate) fn paint_diff(text: &str) -> String {
    use anstyle::{AnsiColor, Style};
    let red = AnsiColor::Red.on_default();
    let green = AnsiColor::Green.on_default();
    let cyan = AnsiColor::Cyan.on_default();
    let bold = Style::new().bold();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut in_diff = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let style = if body.starts_with("--- ") || body.starts_with("+++ ") {
            in_diff = true;
            Some(bold)
        } else if body.starts_with("@@") {
            Some(cyan)
        } else if in_diff && body.starts_with('-') {
            Some(red)
        } else if in_diff && body.starts_with('+') {
            Some(green)
        } else if body.ends_with(']') && !body.starts_with(' ') && body.contains(" [") {
            // An object's title line, `~ ConfigMap ns/name [unit]`: a new object's diff follows.
            in_diff = false;
            Some(bold)
        } else {
            None
        };
        match style {
            Some(st) if !body.is_empty() => {
                out.push_str(&format!("{}{body}{}", st.render(), st.render_reset()));
                out.push_str(&line[body.len()..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

fn decide(choice: u8, no_color: bool, dumb: bool, terminal: bool) -> bool {
    match choice {
        1 => true,
        2 => false,
        _ => terminal && !no_color && !dumb,
    }
}

/// A writer that treats a closed pipe as a reader that wants nothing more.
pub(crate) struct Quiet<W>(W);

impl<W: Write> Write for Quiet<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

#[allow(clippy::disallowed_methods)]
pub(crate) fn stdout() -> Quiet<io::StdoutLock<'static>> {
    Quiet(io::stdout().lock())
}

#[allow(clippy::disallowed_methods)]
pub(crate) fn stderr() -> Quiet<io::StderrLock<'static>> {
    Quiet(io::stderr().lock())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn diffs_are_painted_line_by_line_and_keep_their_text() {
        let text = "a -> b: 1 object change (1 changed)\n\n~ ConfigMap ns/x [unit]\n--- a/x.yaml\n+++ b/x.yaml\n@@ -1 +1 @@\n-old\n+new\n same\n";
        let painted = paint_diff(text);
        assert!(painted.contains("\u{1b}[31m-old\u{1b}[0m\n"), "{painted:?}");
        assert!(painted.contains("\u{1b}[32m+new\u{1b}[0m\n"), "{painted:?}");
        assert!(painted.contains("\u{1b}[36m@@ -1 +1 @@"), "{painted:?}");
        assert!(painted.contains("\n same\n"), "{painted:?}");
        let plain: String = anstream::adapter::strip_str(&painted).to_string();
        assert_eq!(plain, text);
    }

    #[test]
    fn colour_follows_the_flag_then_no_color_then_the_terminal() {
        assert!(decide(1, true, true, false), "always wins over NO_COLOR");
        assert!(!decide(2, false, false, true), "never wins over a terminal");
        assert!(decide(0, false, false, true));
        assert!(!decide(0, true, false, true), "NO_COLOR");
        assert!(!decide(0, false, true, true), "TERM=dumb");
        assert!(!decide(0, false, false, false), "not a terminal");
    }

    #[test]
    fn a_closed_pipe_swallows_writes_and_other_errors_stay_errors() {
        let mut closed = Quiet(Closed);
        assert!(writeln!(closed, "{}", "x".repeat(100_000)).is_ok());
        assert!(closed.flush().is_ok());
        let mut full = Quiet(Full);
        assert!(writeln!(full, "x").is_err());
    }
}
