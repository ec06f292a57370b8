//! Output files that appear whole or not at all.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// Creates a file beside `target` under a temporary name, lets `fill` write it, and renames it
/// over `target` only when `fill` succeeded; on any failure the temporary file is removed, so
/// that a run that fails leaves `target` as it was and nothing half-written behind.
pub(crate) fn write_atomically<T>(
    target: &Path,
    fill: impl FnOnce(File) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let partial = partial_path(target);
    let failure = |action, error| Failure::File {
        path: target.to_path_buf(),
        action,
        error,
    };
    let written = File::create(&partial)
        .map_err(|error| failure("create", error))
        .and_then(fill)
        .and_then(|value| {
            std::fs::rename(&partial, target)
                .map(|()| value)
                .map_err(|error| failure("write", error))
        });
    if written.is_err() {
        // Nothing to keep from a write that failed; the error says why.
        let _ = std::fs::remove_file(&partial);
    }
    written
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn a_failed_write_leaves_the_target_as_it_was_and_no_partial_file() {
        let dir = std::env::temp_dir().join(format!("tarif-output-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.csv");
        std::fs::write(&target, "before").unwrap();
        let failed = write_atomically(&target, |mut file| {
            file.write_all(b"half").unwrap();
            Err::<(), _>(Failure::Lines("boom".into()))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "before");
        assert!(!partial_path(&target).exists());
        write_atomically(&target, |mut file| {
            file.write_all(b"after").map_err(|error| Failure::File {
                path: target.clone(),
                action: "write",
                error,
            })
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "after");
        assert!(!partial_path(&target).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
