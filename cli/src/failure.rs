//! Exit codes, and the failures that end a command early with one of them.

use std::fmt;
use std::path::PathBuf;

use tarif::{CompileError, QueryError, SnapshotError};

/// The exit codes of `tarif`, stable across versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The command did what was asked (a document with warnings only compiles: 0).
    Ok,
    /// The rules document was rejected: errors, or warnings under `--strict`.
    Rejected,
    /// The command line is wrong: unknown command or flag, missing argument, bad value.
    Usage,
    /// The query has no answer: unknown account or product, hidden price, invalid quantity…
    QueryFailed,
    /// A file could not be read or written, or the lines' input is malformed.
    Io,
}

impl Exit {
    /// The process exit code.
    ///
    /// ```
    /// assert_eq!(tarif_cli::Exit::QueryFailed.code(), 3);
    /// ```
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Rejected => 1,
            Exit::Usage => 2,
            Exit::QueryFailed => 3,
            Exit::Io => 4,
        }
    }
}

/// Why a command stopped.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The document was rejected; the diagnostics were already printed by `check`, or are
    /// printed on stderr here for the other commands.
    Rejected(CompileError),
    /// A query error, printed with its code.
    Query(QueryError),
    /// A value on the command line that clap could not check (an attribute filter, a cursor).
    Usage(String),
    /// A file could not be read or written.
    File {
        path: PathBuf,
        action: &'static str,
        error: std::io::Error,
    },
    /// A snapshot that could not be read or written (its message names the file).
    Snapshot(SnapshotError),
    /// The lines' input or output (CSV or Parquet) failed.
    Lines(String),
    /// Writing to stdout failed (a closed pipe).
    Stdout(std::io::Error),
}

impl Failure {
    /// Prints the failure on stderr and returns its exit code.
    pub fn report(self) -> i32 {
        eprintln!("{self}");
        self.exit().code()
    }

    fn exit(&self) -> Exit {
        match self {
            Failure::Rejected(_) => Exit::Rejected,
            Failure::Query(_) => Exit::QueryFailed,
            Failure::Usage(_) => Exit::Usage,
            Failure::File { .. }
            | Failure::Snapshot(_)
            | Failure::Lines(_)
            | Failure::Stdout(_) => Exit::Io,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Rejected(e) => write!(f, "error[{}]: {e}", e.code()),
            Failure::Query(e) => write!(f, "error[{}]: {e}", e.code()),
            Failure::Usage(message) => write!(f, "error: {message}"),
            Failure::File {
                path,
                action,
                error,
            } => write!(f, "error: cannot {action} `{}`: {error}", path.display()),
            Failure::Snapshot(e) => write!(f, "error[{}]: {e}", e.code()),
            Failure::Lines(message) => write!(f, "error: {message}"),
            Failure::Stdout(error) => write!(f, "error: cannot write the output: {error}"),
        }
    }
}

impl From<QueryError> for Failure {
    fn from(e: QueryError) -> Failure {
        Failure::Query(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Stdout(e)
    }
}
