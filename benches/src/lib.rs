//! Shared helpers for the workspace benchmarks (`cargo bench -p benches`).
//!
//! Benchmarks read third-party data from `../shared/corpus` (never copied into the repository).

use std::path::PathBuf;

/// Directory of the firmware image pairs used by the delta benchmarks, if present.
///
/// `FOTA_CORPUS` overrides the default `<workspace>/../shared/corpus`.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FOTA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    dir.is_dir().then_some(dir)
}
