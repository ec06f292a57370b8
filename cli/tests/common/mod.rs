//! What the command tests share: the sample document on disk, its showcase names, and a way to
//! run the built `tarif` binary.

// Helpers of tests fail loudly, as the tests themselves may (clippy.toml).
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

// The tests' one tie to where the sample generator lives: its document and showcase names.
use tarif_sample as sample;

pub use sample::showcase::{
    AT, CABLE, DRILL, INSTALLER_BRANCH, KEY_ACCOUNT_ALIAS, KEY_ACCOUNT_SITE, RESELLER,
};

/// A temporary folder holding the sample document as `rules.json`.
pub struct Workspace {
    pub dir: TempDir,
}

impl Workspace {
    pub fn with_sample() -> Workspace {
        let workspace = Workspace::empty();
        workspace.write("rules.json", &sample::distributor_json());
        workspace
    }

    pub fn empty() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("temporary folder"),
        }
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("write a test file");
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn rules(&self) -> PathBuf {
        self.path("rules.json")
    }
}

/// Runs `tarif` with these arguments in `dir`, stdin closed.
pub fn tarif<S: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[S]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_tarif"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the tarif binary");
    Run(output)
}

/// A finished run of the binary.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().expect("exited, not killed")
    }

    pub fn stdout(&self) -> String {
        String::from_utf8(self.0.stdout.clone()).expect("utf-8 stdout")
    }

    pub fn stderr(&self) -> String {
        String::from_utf8(self.0.stderr.clone()).expect("utf-8 stderr")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout()).expect("one JSON document on stdout")
    }

    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code(),
            code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}
