//! Which release this is: the crate's version and the commit it was built from (build.rs reads
//! `GIT_COMMIT` or git's HEAD), answered by `/health` and `--version`.

/// The crate's version, `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit built, 12 hex digits, or `unknown` when built without git or `GIT_COMMIT`.
pub const COMMIT: &str = env!("BUILD_COMMIT");
/// `0.1.0 (commit 91a5028c1f2e)`, for `--version`.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("BUILD_COMMIT"),
    ")"
);
