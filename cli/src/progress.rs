//! Spinners and progress bars on stderr. indicatif draws nothing when stderr is not a terminal,
//! so pipes, files and tests see only the command's own output.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether to draw, decided once from `--quiet`.
pub(crate) struct Progress {
    quiet: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        Progress { quiet }
    }

    fn target(&self) -> ProgressDrawTarget {
        if self.quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        }
    }

    /// A spinner with the elapsed time, for work of unknown length (compiling a document).
    pub fn spinner(&self, message: String) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(None, self.target())
            .with_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            )
            .with_message(message);
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    /// A bar over `total` bytes of input; the caller writes the lines done so far in its prefix.
    pub fn bytes(&self, total: u64, message: &'static str) -> ProgressBar {
        ProgressBar::with_draw_target(Some(total), self.target())
            .with_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {elapsed} (eta {eta}) {prefix}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            )
            .with_message(message)
    }
}
