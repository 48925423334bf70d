//! Build facts the binary reports: the commit it was built from (`/health`, `--version`), and
//! the down migrations' SQL (`migrate --to` reads what each step would drop before it runs).

use std::path::Path;
use std::process::Command;

fn main() {
    commit();
    down_migrations();
}

/// `GIT_COMMIT` when the builder gives it (an image built without `.git`), else `git`'s HEAD.
fn commit() {
    println!("cargo:rerun-if-env-changed=GIT_COMMIT");
    let from_git = || {
        let out = Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let commit = std::env::var("GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(from_git)
        .filter(|c| {
            c.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        })
        // a full SHA (CI gives 40 digits) reads as git's short one
        .map(|c| c.chars().take(12).collect::<String>())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=BUILD_COMMIT={commit}");
    // a new commit is a new value: HEAD, and the branch file it names
    let git = Path::new(".git");
    if git.join("HEAD").exists() {
        println!("cargo:rerun-if-changed=.git/HEAD");
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD")) {
            if let Some(branch) = head.trim().strip_prefix("ref: ") {
                if git.join(branch).exists() {
                    println!("cargo:rerun-if-changed=.git/{branch}");
                }
            }
        }
    }
}

/// `(name, down.sql)` for every migration, in order, as Rust source in OUT_DIR.
fn down_migrations() {
    println!("cargo:rerun-if-changed=migrations");
    let mut names: Vec<String> = std::fs::read_dir("migrations")
        .expect("migrations/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("down.sql").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let mut out = String::from("&[\n");
    for name in names {
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            format!("{root}/migrations/{name}/down.sql")
        ));
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("down_migrations.rs");
    std::fs::write(dest, out).unwrap();
}
