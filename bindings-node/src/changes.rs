//! `engine.apply(changes)` and `engine.diff(other)` on the libuv pool: a change recompiles the
//! merged document and a diff reads both documents, seconds of work on a large catalog.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use napi::bindgen_prelude::{Function, JsObjectValue, Object, Unknown};
use napi::{Env, Task, ValueType};
use napi_derive::napi;
use tarif::Engine as Core;

use crate::error::Failure;
use crate::input;
use crate::tasks::guarded;
use crate::Engine;

/// A changes document given as JSON text, or as a plain object (written with `JSON.stringify`;
/// money must be strings there too, as in a document).
pub fn changes_text(env: &Env, changes: Unknown<'_>) -> Result<String, Failure> {
    if changes.get_type().ok() == Some(ValueType::Object) {
        let failed = |e: napi::Error| input::type_error(format!("`changes`: {}", e.reason));
        let json: Object = env
            .get_global()
            .and_then(|g| g.get_named_property("JSON"))
            .map_err(failed)?;
        let stringify: Function<Unknown, Unknown> =
            json.get_named_property("stringify").map_err(failed)?;
        let text = stringify.call(changes).map_err(failed)?;
        return input::text(text, "changes");
    }
    input::text(changes, "changes")
}

/// Where an applied change goes: nowhere (a plain `engine.apply`), or into a handle, applied
/// to its current engine while holding its writer lock so that concurrent changes apply one
/// after another instead of overwriting each other.
pub enum Base {
    Engine(Arc<Core>),
    Handle {
        current: Arc<ArcSwap<Core>>,
        writer: Arc<Mutex<()>>,
    },
}

/// Applies a change on the pool.
pub struct Apply {
    pub base: Base,
    /// The changes and the options to compile them with, or why they cannot be applied.
    pub changes: Result<(String, tarif::CompileOptions), Option<Failure>>,
}

impl Task for Apply {
    type Output = Result<Arc<Core>, Failure>;
    type JsValue = Engine;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let (changes, options) = match &mut self.changes {
            Ok((text, options)) => (std::mem::take(text), options.clone()),
            Err(failure) => {
                return Ok(Err(failure.take().unwrap_or(Failure::Aborted)));
            }
        };
        Ok(guarded(|| match &self.base {
            Base::Engine(engine) => Ok(Arc::new(engine.apply(&changes, &options)?.engine)),
            Base::Handle { current, writer } => {
                // A poisoned lock only means another change panicked; the engine it guards
                // was never half-written (it is swapped whole), so the lock is still good.
                let _one_at_a_time = writer.lock().unwrap_or_else(|p| p.into_inner());
                let base = current.load_full();
                let next = Arc::new(base.apply(&changes, &options)?.engine);
                // A `swap` or `reload` may have replaced the base meanwhile (they do not wait
                // for a change, so as never to block the event loop): then this change was
                // made against an engine no longer served, and storing it would undo theirs.
                let previous = current.compare_and_swap(&base, next.clone());
                if !Arc::ptr_eq(&previous, &base) {
                    return Err(Failure::Compile(swapped_meanwhile(&base)));
                }
                Ok(next)
            }
        }))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Engine> {
        output
            .map(|inner| Engine { inner })
            .map_err(|f| f.into_js(&env))
    }
}

fn swapped_meanwhile(base: &Core) -> tarif::CompileError {
    tarif::CompileError {
        diagnostics: vec![tarif::Diagnostic {
            code: tarif::DiagnosticCode::VersionMismatch,
            path: String::new(),
            message: format!(
                "the handle's engine was swapped while the change was applied to `{}`; apply it to the engine it serves now",
                base.engine_version()
            ),
            ids: Vec::new(),
        }],
    }
}

/// One entity that differs between two engines' documents.
#[napi(object)]
pub struct EntityChange {
    /// `products`, `price_lists`, `prices` (a product's entries in one list), `rules`,
    /// `settings`, ...
    pub section: String,
    /// The price list of a `prices` change, the contract of a `rules` change.
    pub parent: Option<String>,
    /// The entity's id (a SKU for `products` and `prices`).
    pub id: String,
    /// `added`, `removed` or `modified`.
    #[napi(ts_type = "'added' | 'removed' | 'modified'")]
    pub kind: String,
}

/// Compares two engines' documents on the pool.
pub struct Diff {
    pub old: Arc<Core>,
    pub new: Arc<Core>,
}

impl Task for Diff {
    type Output = Result<Vec<tarif::EntityChange>, Failure>;
    type JsValue = Vec<EntityChange>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guarded(|| Ok(self.old.diff(&self.new)?.changes)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Vec<EntityChange>> {
        output
            .map(|changes| {
                changes
                    .into_iter()
                    .map(|c| EntityChange {
                        section: c.section.to_string(),
                        parent: c.parent,
                        id: c.id,
                        kind: c.kind.as_str().to_string(),
                    })
                    .collect()
            })
            .map_err(|f| f.into_js(&env))
    }
}
