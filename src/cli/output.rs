//! Standard output and standard error for the commands. A reader that goes away (`casa-build
//! check 2>&1 | head -3`) ends the output, not the command: a write to a closed pipe (EPIPE;
//! Rust ignores SIGPIPE, so it arrives as an error) is dropped as if written, and the command
//! finishes with the exit code it would have had. Without this, whichever write met the
//! closed pipe first turned the run into "cannot write" (exit 3), on some runs and not others.
//!
//! Every write of `cli/` goes through [`stdout`] and [`stderr`]; `clippy.toml` forbids
//! `std::io::stdout`/`stderr` elsewhere.

use std::io::{self, Write};

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
    fn a_closed_pipe_swallows_writes_and_other_errors_stay_errors() {
        let mut closed = Quiet(Closed);
        assert!(writeln!(closed, "{}", "x".repeat(100_000)).is_ok());
        assert!(closed.flush().is_ok());
        let mut full = Quiet(Full);
        assert!(writeln!(full, "x").is_err());
    }
}
