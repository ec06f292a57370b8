//! Spinners and progress bars on stderr. indicatif draws nothing when stderr is not a terminal,
//! so pipes, files and tests see only the command's own output.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tarif::CompileProgress;

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

    /// A spinner with the elapsed time, for work of unknown length (importing, saving).
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

    /// A bar over the phases of a compile, the running phase as its message.
    pub fn phases(&self, prefix: String) -> ProgressBar {
        let total = u64::try_from(CompileProgress::PHASES).unwrap_or(u64::MAX);
        let bar = ProgressBar::with_draw_target(Some(total), self.target())
            .with_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix} [{bar:20}] {pos}/{len} {msg} {elapsed}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            )
            .with_prefix(prefix);
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    /// A bar over `total` bytes of input; the caller writes the lines done so far in its prefix.
    pub fn bytes(&self, total: u64, message: &'static str) -> ProgressBar {
        self.input(total, message, BYTES)
    }

    /// A bar over `total` rows of input; the caller writes the lines done so far in its prefix.
    pub fn rows(&self, total: u64, message: &'static str) -> ProgressBar {
        self.input(total, message, ROWS)
    }

    /// A bar over the input, its position shown as `amount`.
    fn input(&self, total: u64, message: &'static str, amount: &str) -> ProgressBar {
        ProgressBar::with_draw_target(Some(total), self.target())
            .with_style(
                // The templates are constants, which a test parses: the fallback never shows.
                input_style(amount)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            )
            .with_message(message)
    }
}

/// How far a bar over bytes has come.
const BYTES: &str = "{bytes}/{total_bytes}";
/// How far a bar over rows has come.
const ROWS: &str = "{human_pos}/{human_len} rows";

fn input_style(amount: &str) -> Result<ProgressStyle, indicatif::style::TemplateError> {
    ProgressStyle::with_template(&format!(
        "{{msg}} [{{bar:30}}] {amount} {{elapsed}} (eta {{eta}}) {{prefix}}"
    ))
}

/// The compile callback that moves `bar` along [`Progress::phases`].
pub(crate) fn compile_progress(bar: &ProgressBar) -> CompileProgress {
    let bar = bar.clone();
    CompileProgress::new(move |phase, done, _| {
        bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
        bar.set_message(phase.to_string());
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_bar_templates_parse() {
        for amount in [BYTES, ROWS] {
            assert!(input_style(amount).is_ok(), "{amount}");
        }
    }

    #[test]
    fn a_compile_moves_the_bar_through_every_phase() {
        let bar = Progress::new(true).phases("compiling".into());
        let options = tarif::CompileOptions {
            progress: Some(compile_progress(&bar)),
            ..tarif::CompileOptions::default()
        };
        assert_eq!(bar.position(), 0);
        tarif::Engine::compile(&tarif_sample::distributor_json(), &options).unwrap();
        assert_eq!(bar.position(), bar.length().unwrap());
        assert_eq!(bar.message(), "done");
    }
}
