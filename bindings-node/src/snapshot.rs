//! `engine.save(path)` / `Engine.open(path)`: the compiled engine written to a snapshot file and
//! read back without compiling. The promise-returning pair runs on the libuv pool; `saveSync` /
//! `openSync` block, as `fromFile` does next to `load`.

use std::path::Path;
use std::sync::Arc;

use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, Task};
use napi_derive::napi;
use tarif::Engine as Core;

use crate::error::Failure;
use crate::tasks::guarded;
use crate::{input, js, Engine};

fn open(path: &str) -> Result<Core, Failure> {
    Ok(Core::open(Path::new(path))?)
}

fn save(engine: &Core, path: &str) -> Result<(), Failure> {
    Ok(engine.save(Path::new(path))?)
}

/// Opens a snapshot on the pool.
pub struct Open {
    path: String,
}

impl Task for Open {
    type Output = Result<Core, Failure>;
    type JsValue = Engine;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guarded(|| open(&self.path)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Engine> {
        output
            .map(|engine| Engine {
                inner: Arc::new(engine),
            })
            .map_err(|f| f.into_js(&env))
    }
}

/// Saves an engine on the pool.
pub struct Save {
    engine: Arc<Core>,
    path: String,
}

impl Task for Save {
    type Output = Result<(), Failure>;
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(guarded(|| save(&self.engine, &self.path)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<()> {
        output.map_err(|f| f.into_js(&env))
    }
}

#[napi]
impl Engine {
    /// Opens a snapshot written by `save` (in any binding) on the libuv pool, without
    /// compiling. Rejects with `SNAPSHOT_CORRUPT` (damaged, truncated or not a snapshot),
    /// `SNAPSHOT_VERSION` (another format version) or `IO_ERROR`.
    #[napi(ts_return_type = "Promise<Engine>")]
    pub fn open(
        env: &Env,
        #[napi(ts_arg_type = "string")] path: Unknown<'_>,
    ) -> napi::Result<AsyncTask<Open>> {
        js(env, input::text(path, "path")).map(|path| AsyncTask::new(Open { path }))
    }

    /// Opens a snapshot, blocking; prefer `Engine.open` in a service.
    #[napi(factory, catch_unwind)]
    pub fn open_sync(
        env: &Env,
        #[napi(ts_arg_type = "string")] path: Unknown<'_>,
    ) -> napi::Result<Self> {
        let engine = input::text(path, "path").and_then(|path| open(&path));
        js(env, engine).map(|engine| Engine {
            inner: Arc::new(engine),
        })
    }

    /// Writes the compiled engine to `path` as a snapshot on the libuv pool, atomically: a
    /// failed save (rejected with `IO_ERROR`) leaves whatever was at `path` untouched.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn save(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] path: Unknown<'_>,
    ) -> napi::Result<AsyncTask<Save>> {
        js(env, input::text(path, "path")).map(|path| {
            AsyncTask::new(Save {
                engine: self.inner.clone(),
                path,
            })
        })
    }

    /// Writes the snapshot, blocking; prefer `save` in a service.
    #[napi(catch_unwind)]
    pub fn save_sync(
        &self,
        env: &Env,
        #[napi(ts_arg_type = "string")] path: Unknown<'_>,
    ) -> napi::Result<()> {
        js(
            env,
            input::text(path, "path").and_then(|path| save(&self.inner, &path)),
        )
    }
}
