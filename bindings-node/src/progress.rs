//! `onProgress` of the compile and batch options: the core's progress reports, called on the JS
//! thread.

use std::sync::{mpsc, Arc};

use napi::bindgen_prelude::FnArgs;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use tarif::{CompileOptions, CompileProgress};

use crate::error::{panic_failure, Failure};
use crate::input::{self, LoadOptions, QuoteManyOptions};

/// The arguments of `onProgress`.
type Report = FnArgs<(String, u32, u32)>;

fn report(phase: &str, done: usize, total: usize) -> Report {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (phase.to_string(), count(done), count(total)).into()
}

fn strict(options: Option<&LoadOptions<'_>>) -> bool {
    options.and_then(|o| o.strict).unwrap_or(false)
}

/// The options of a compile that runs on the pool: `onProgress` is queued to the event loop.
pub fn pooled(options: Option<&LoadOptions<'_>>) -> Result<CompileOptions, Failure> {
    let progress = match options.and_then(|o| o.on_progress.as_ref()) {
        Some(callback) => {
            let callback = callback
                .build_threadsafe_function::<Report>()
                .build()
                .map_err(|e| input::type_error(format!("`onProgress`: {}", e.reason)))?;
            Some(CompileProgress::new(move |phase, done, total| {
                callback.call(
                    report(phase, done, total),
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            }))
        }
        None => None,
    };
    Ok(CompileOptions {
        strict: strict(options),
        progress,
        ..CompileOptions::default()
    })
}

/// Runs `work`, a compile, blocking the JS thread as the synchronous calls do; with an
/// `onProgress`, `work` runs on a scoped thread while this one calls `onProgress` with each
/// phase as it begins. A callback that throws is called no more, and its error is thrown once
/// the compile is over (a compile cannot stop half-way).
pub fn blocking<T: Send>(
    options: Option<&LoadOptions<'_>>,
    work: impl FnOnce(&CompileOptions) -> Result<T, Failure> + Send,
) -> napi::Result<Result<T, Failure>> {
    let Some(callback) = options.and_then(|o| o.on_progress.as_ref()) else {
        return Ok(work(&CompileOptions {
            strict: strict(options),
            ..CompileOptions::default()
        }));
    };
    let (sender, reports) = mpsc::channel();
    let compile = CompileOptions {
        strict: strict(options),
        progress: Some(CompileProgress::new(move |phase, done, total| {
            // The receiver outlives the compile.
            let _ = sender.send(report(phase, done, total));
        })),
        ..CompileOptions::default()
    };
    std::thread::scope(|scope| {
        // The JS thread's own stack size, for the compile that would have run on it.
        let worker = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn_scoped(scope, move || work(&compile))
            .map_err(|e| napi::Error::from_reason(format!("cannot start the compile: {e}")))?;
        let mut thrown = None;
        // Ends when the compile is over and its options, holding the sender, are dropped.
        for args in reports {
            if thrown.is_none() {
                thrown = callback.call(args).err();
            }
        }
        let outcome = worker.join().unwrap_or_else(|p| Err(panic_failure(p)));
        match thrown {
            Some(error) => Err(error),
            None => Ok(outcome),
        }
    })
}

/// A batch's progress: `(rows priced, rows)`, from the pool.
pub type RowProgress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// The `onProgress` of `quoteMany`, queued to the event loop from the pool.
pub fn rows(options: Option<&QuoteManyOptions<'_>>) -> Result<Option<RowProgress>, Failure> {
    let Some(callback) = options.and_then(|o| o.on_progress.as_ref()) else {
        return Ok(None);
    };
    let callback = callback
        .build_threadsafe_function::<FnArgs<(u32, u32)>>()
        .build()
        .map_err(|e| input::type_error(format!("`onProgress`: {}", e.reason)))?;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok(Some(Arc::new(move |done, total| {
        callback.call(
            (count(done), count(total)).into(),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    })))
}
