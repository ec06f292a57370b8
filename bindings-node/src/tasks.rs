//! Work that runs on the libuv thread pool: loading a document and pricing a batch. Both honour
//! an `AbortSignal` and turn panics into rejected promises.

use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use napi::bindgen_prelude::{
    FnArgs, FromNapiValue, Function, JsObjectValue, JsValue, Object, Unknown,
};
use napi::UnknownRef;
use napi::{Env, Task};
use tarif::{BatchAt, CompileOptions, Decimal, Engine as Core, Instant, Status};

use crate::error::{panic_failure, Failure};
use crate::output::BatchOutput;
use crate::progress::RowProgress;
use crate::Engine;

/// Set from the JS thread when the caller's signal aborts; read by the pool thread.
type AbortFlag = Arc<AtomicBool>;

/// `EventTarget.addEventListener(type, listener, options)`.
type AddEventListener<'a> =
    Function<'a, FnArgs<(&'a str, Function<'a, Unknown<'a>, ()>, Object<'a>)>, ()>;
/// `EventTarget.removeEventListener(type, listener)`.
type RemoveEventListener<'a> = Function<'a, FnArgs<(&'a str, Unknown<'a>)>, ()>;

/// An optional `AbortSignal`, listened to while a task runs. The listener is removed when the
/// task settles, so a long-lived signal shared by many calls does not pile up listeners.
pub struct Watch {
    flag: AbortFlag,
    /// The signal and the listener added to it.
    listening: Option<(UnknownRef, UnknownRef)>,
}

impl Watch {
    /// Listens to `signal`; an already aborted signal sets the flag at once.
    pub fn new(env: &Env, signal: Option<Object<'_>>) -> napi::Result<Watch> {
        let flag = AbortFlag::default();
        let Some(signal) = signal else {
            return Ok(Watch {
                flag,
                listening: None,
            });
        };
        if signal.get_named_property::<bool>("aborted")? {
            flag.store(true, Ordering::Relaxed);
            return Ok(Watch {
                flag,
                listening: None,
            });
        }
        let on_abort = {
            let flag = flag.clone();
            env.create_function_from_closure("onAbort", move |_| {
                flag.store(true, Ordering::Relaxed);
                Ok(())
            })?
        };
        let mut once = Object::new(env)?;
        once.set_named_property("once", true)?;
        let add: AddEventListener<'_> = signal.get_named_property("addEventListener")?;
        add.apply(signal, ("abort", on_abort, once).into())?;
        let listening = Some((
            signal.to_unknown().create_ref()?,
            on_abort.to_unknown().create_ref()?,
        ));
        Ok(Watch { flag, listening })
    }

    fn check(&self) -> Result<(), Failure> {
        if self.flag.load(Ordering::Relaxed) {
            Err(Failure::Aborted)
        } else {
            Ok(())
        }
    }

    /// Removes the listener; called on the JS thread once the task has settled.
    pub fn release(&mut self, env: &Env) -> napi::Result<()> {
        let Some((signal, listener)) = self.listening.take() else {
            return Ok(());
        };
        let target = Object::from_unknown(signal.get_value(env)?)?;
        let remove: RemoveEventListener<'_> = target.get_named_property("removeEventListener")?;
        remove.apply(target, ("abort", listener.get_value(env)?).into())?;
        signal.unref(env)?;
        listener.unref(env)
    }
}

pub fn guarded<T>(work: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|p| Err(panic_failure(p)))
}

/// Reads and compiles a rules file (or opens a snapshot) on the pool; with a target, swaps it in
/// once loaded.
pub struct Load {
    pub path: String,
    pub options: CompileOptions,
    pub watch: Watch,
    pub target: Option<Arc<ArcSwap<Core>>>,
}

pub fn compile_file(path: &str, options: &CompileOptions) -> Result<Core, Failure> {
    let bytes = std::fs::read(path).map_err(|error| Failure::Io {
        path: path.to_string(),
        error,
    })?;
    // A snapshot opens without compiling, so a service reloads from either.
    if tarif::snapshot::is_snapshot(&bytes) {
        return Ok(Core::from_snapshot_bytes(&bytes)?);
    }
    let text = tarif::wire::document_text(bytes)?;
    Ok(Core::compile(&text, options)?.engine)
}

impl Task for Load {
    type Output = Result<Arc<Core>, Failure>;
    type JsValue = Engine;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guarded(|| {
            self.watch.check()?;
            Ok(Arc::new(compile_file(&self.path, &self.options)?))
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Engine> {
        let swapped = output.and_then(|engine| {
            // Checked and swapped on the JS thread: JavaScript sees the old engine until the
            // promise settles, and an abort that came during compilation still wins.
            self.watch.check()?;
            if let Some(target) = &self.target {
                target.store(engine.clone());
            }
            Ok(engine)
        });
        swapped
            .map(|inner| Engine { inner })
            .map_err(|f| f.into_js(&env))
    }

    fn finally(mut self, env: Env) -> napi::Result<()> {
        self.watch.release(&env)
    }
}

/// The instants of a batch, parsed on the JS thread.
pub enum Instants {
    One(Instant),
    PerRow(Vec<Instant>),
}

/// A batch to price, or why it cannot be: input errors reject the promise like any other
/// failure instead of throwing from a function that returns a promise.
pub struct QuoteMany(pub Result<Batch, Option<Failure>>);

/// Columns for `Engine::quote_many`.
pub struct Batch {
    pub engine: Arc<Core>,
    pub accounts: Texts,
    pub refs: Texts,
    pub qtys: Vec<Decimal>,
    pub at: Instants,
    pub currency: Option<String>,
    pub watch: Watch,
    pub progress: Option<RowProgress>,
}

/// A column of strings packed in one buffer: a million rows are two allocations, not a million.
/// Millions of small blocks allocated on the JS thread and freed on the pool would later cost
/// the JS thread a pause of tens of milliseconds while the allocator consolidates them.
#[derive(Debug, Default)]
pub struct Texts {
    buffer: String,
    ends: Vec<usize>,
}

impl Texts {
    pub fn push(&mut self, text: &str) {
        self.buffer.push_str(text);
        self.ends.push(self.buffer.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Rows `range` (clamped to the column) as string slices.
    pub fn rows(&self, range: std::ops::Range<usize>) -> Vec<&str> {
        let end = range.end.min(self.ends.len());
        let start = range.start.min(end);
        let mut from = match start.checked_sub(1) {
            Some(previous) => self.ends.get(previous).copied().unwrap_or(0),
            None => 0,
        };
        self.ends
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|&to| {
                let text = self.buffer.get(from..to).unwrap_or_default();
                from = to;
                text
            })
            .collect()
    }
}

impl FromIterator<String> for Texts {
    fn from_iter<I: IntoIterator<Item = String>>(texts: I) -> Self {
        let mut column = Texts::default();
        for text in texts {
            column.push(&text);
        }
        column
    }
}

impl Batch {
    /// Prices the batch (the core runs it on a thread of its own and its pool), this thread
    /// checking the abort flag and reporting the rows priced every time the core looks.
    pub fn price(&self) -> Result<tarif::BatchResult, Failure> {
        self.watch.check()?;
        let at = match &self.at {
            Instants::PerRow(list) => BatchAt::PerRow(list),
            Instants::One(i) => BatchAt::One(*i),
        };
        let rows = self.accounts.len();
        let mut reported = None;
        let between = |done| {
            if let Some(progress) = &self.progress {
                if reported != Some(done) {
                    reported = Some(done);
                    progress(done, rows);
                }
            }
            match self.watch.check() {
                Ok(()) => ControlFlow::Continue(()),
                Err(_) => ControlFlow::Break(()),
            }
        };
        self.engine
            .quote_many_in_steps(
                &self.accounts.rows(0..self.accounts.len()),
                &self.refs.rows(0..self.refs.len()),
                &self.qtys,
                at,
                self.currency.as_deref(),
                between,
            )?
            .ok_or(Failure::Aborted)
    }

    /// The whole answer as strings.
    pub fn run(&self) -> Result<BatchOutput, Failure> {
        let rows = self.accounts.len();
        let codes: Vec<&str> = self.engine.currencies().collect();
        let mut out = BatchOutput {
            status: Vec::with_capacity(rows),
            unit_price: Vec::with_capacity(rows),
            line_total: Vec::with_capacity(rows),
            currency: Vec::with_capacity(rows),
            buyable: Vec::with_capacity(rows),
        };
        let priced = self.price()?;
        for ((((status, unit), line), currency), buyable) in priced
            .status
            .iter()
            .zip(&priced.unit_price)
            .zip(&priced.line_total)
            .zip(&priced.currency)
            .zip(&priced.buyable)
        {
            out.status.push(status.code().to_string());
            // A failed row's amounts and currency index are placeholders, not values.
            let ok = *status == Status::Ok;
            out.unit_price.push(ok.then(|| unit.to_string()));
            out.line_total.push(ok.then(|| line.to_string()));
            out.buyable.push(ok.then_some(*buyable));
            out.currency.push(if ok {
                codes
                    .get(usize::from(*currency))
                    .copied()
                    .unwrap_or_default()
                    .to_string()
            } else {
                String::new()
            });
        }
        Ok(out)
    }
}

impl Task for QuoteMany {
    type Output = Result<BatchOutput, Failure>;
    type JsValue = BatchOutput;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(match &mut self.0 {
            Ok(batch) => guarded(|| batch.run()),
            Err(failure) => Err(failure.take().unwrap_or(Failure::Aborted)),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<BatchOutput> {
        output.map_err(|f| f.into_js(&env))
    }

    fn finally(mut self, env: Env) -> napi::Result<()> {
        match &mut self.0 {
            Ok(batch) => batch.watch.release(&env),
            Err(_) => Ok(()),
        }
    }
}
