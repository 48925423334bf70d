//! The shape of the code, checked: the top-level modules form the layers written in `src/lib.rs`
//! (a module imports only modules on lower lines, so the graph is acyclic), the files of one
//! layer import one another without a cycle, a few crates stay out of the layers that must not
//! touch them, no function in `src/` runs past 80 lines and no file past 400.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Crates a top-level module must not use: the domain stays free of I/O and of the edges' types,
/// the edges (graphql/, http/) never touch diesel, and the backends never touch the edges' crates.
/// Services hold diesel's connection type only to run their transaction.
const FORBIDDEN_CRATES: &[(&str, &[&str])] = &[
    (
        "domain",
        &[
            "axum",
            "async_graphql",
            "diesel",
            "diesel_async",
            "redis",
            "tokio",
            "hyper",
        ],
    ),
    ("graphql", &["diesel", "diesel_async", "axum", "hyper"]),
    ("http", &["diesel", "diesel_async"]),
    ("service", &["axum", "async_graphql", "hyper"]),
    (
        "cache",
        &["diesel", "diesel_async", "axum", "async_graphql"],
    ),
    (
        "events",
        &["diesel", "diesel_async", "axum", "async_graphql"],
    ),
    (
        "reports",
        &["diesel", "diesel_async", "axum", "async_graphql"],
    ),
];

/// Lower layers an upper one still must not reach past the layer between: the edges go through
/// the services, never straight to SQL.
const FORBIDDEN_MODULES: &[(&str, &str)] = &[("graphql", "db"), ("http", "db")];

const MAX_FUNCTION_LINES: usize = 80;
const MAX_FILE_LINES: usize = 400;

/// This crate's `src/`, or `ARCHITECTURE_SRC` (to run the checks on another tree, an old commit's
/// say).
fn src() -> PathBuf {
    std::env::var_os("ARCHITECTURE_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

/// The layers in `lib.rs`'s ```text block, top first: the words before the first double space.
pub fn layers(lib_rs: &str) -> Vec<Vec<String>> {
    let block = lib_rs
        .split("//! ```text\n")
        .nth(1)
        .and_then(|rest| rest.split("//! ```").next())
        .expect("lib.rs documents the layers in a ```text block");
    block
        .lines()
        .map(|l| l.trim_start_matches("//!").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let names = l.split("  ").next().unwrap_or("");
            names.split_whitespace().map(str::to_owned).collect()
        })
        .collect()
}

/// Top-level module → the `.rs` files that make it.
fn modules(root: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            out.entry(name).or_default().extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            out.entry(name).or_default().push(path);
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Code without comments (line comments and doc comments; enough for this crate's style).
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .filter(|l| !l.trim().is_empty())
}

/// Top-level modules named by `crate::x` paths, and crates named by `use x::` or `x::` paths.
fn references(text: &str, known: &BTreeSet<String>) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut modules = BTreeSet::new();
    let mut crates = BTreeSet::new();
    for line in code_lines(text) {
        for (i, _) in line.match_indices("crate::") {
            let before = line[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `async_graphql_crate::` and the like
            }
            let rest = &line[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if known.contains(&name) {
                modules.insert(name);
            }
        }
        let trimmed = line.trim_start();
        for word in trimmed
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .filter(|w| w.contains("::"))
        {
            let first = word.split("::").next().unwrap_or("");
            if !first.is_empty() && first.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                crates.insert(first.to_owned());
            }
        }
    }
    (modules, crates)
}

/// Every import that breaks the layers, as readable lines.
pub fn violations(root: &Path) -> Vec<String> {
    let lib = std::fs::read_to_string(root.join("lib.rs")).unwrap();
    let layers = layers(&lib);
    let rank: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, names)| names.iter().map(move |n| (n.as_str(), i)))
        .collect();
    let modules = modules(root);
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    let mut out = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, files) in &modules {
        let Some(&mine) = rank.get(module.as_str()) else {
            out.push(format!("{module} is not in lib.rs's layers"));
            continue;
        };
        for file in files {
            let text = std::fs::read_to_string(file).unwrap();
            let (uses, crates) = references(&text, &known);
            let shown = file.strip_prefix(root).unwrap().display();
            for used in uses.iter().filter(|u| *u != module) {
                graph
                    .entry(module.clone())
                    .or_default()
                    .insert(used.clone());
                match rank.get(used.as_str()) {
                    Some(&theirs) if theirs <= mine => out.push(format!(
                        "{shown}: {module} imports {used}, which is not below it"
                    )),
                    _ => {}
                }
                if FORBIDDEN_MODULES.contains(&(module.as_str(), used.as_str())) {
                    out.push(format!("{shown}: {module} must not import {used}"));
                }
            }
            for (_, banned) in FORBIDDEN_CRATES.iter().filter(|(m, _)| m == module) {
                for c in banned.iter().filter(|c| crates.contains(**c)) {
                    out.push(format!("{shown}: {module} must not use the {c} crate"));
                }
            }
        }
    }
    out.extend(cycle(&graph).map(|c| format!("cycle: {}", c.join(" → "))));
    out
}

/// One cycle of the graph, if any (depth-first search).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut c = path[at..].to_vec();
            c.push(node.to_owned());
            return Some(c);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

/// Functions longer than the limit: `file:line name (n lines)`. A function runs from its `fn`
/// line to the line that closes its body's brace (strings and comments are skipped).
pub fn long_functions(root: &Path, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for file in rust_files(root) {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(name) = fn_name(line) else { continue };
            if let Some(end) = body_end(&lines, i) {
                let n = end - i + 1;
                if n > max {
                    let shown = file.strip_prefix(root).unwrap().display();
                    out.push(format!("{shown}:{} {name} ({n} lines)", i + 1));
                }
            }
        }
    }
    out
}

fn fn_name(line: &str) -> Option<String> {
    let code = line.split("//").next()?.trim_start();
    let at = code.find("fn ")?;
    let head = &code[..at];
    let allowed = head.split_whitespace().all(|w| {
        matches!(w, "pub" | "async" | "const" | "unsafe" | "extern") || w.starts_with("pub(")
    });
    if !allowed {
        return None;
    }
    let name: String = code[at + 3..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The index of the line closing the body that opens at or after `start`; `None` for a
/// declaration without a body.
fn body_end(lines: &[&str], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut opened = false;
    let mut in_string = false;
    for (i, line) in lines.iter().enumerate().skip(start) {
        let mut chars = line.chars().peekable();
        let mut prev = ' ';
        while let Some(c) = chars.next() {
            if in_string {
                if c == '\\' {
                    chars.next();
                } else if c == '"' {
                    in_string = false;
                }
                continue;
            }
            match c {
                '/' if chars.peek() == Some(&'/') => break,
                '"' => in_string = true,
                // a char literal such as '{' (a lifetime has no closing quote right after)
                '\'' if prev != '\\' => {
                    let rest: String = chars.clone().take(3).collect();
                    if rest.chars().nth(1) == Some('\'') {
                        chars.next();
                        chars.next();
                    }
                }
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if opened && depth == 0 {
                        return Some(i);
                    }
                }
                ';' if !opened && depth == 0 => return None,
                _ => {}
            }
            prev = c;
        }
    }
    None
}

/// Files longer than the limit: `file (n lines)`.
pub fn long_files(root: &Path, max: usize) -> Vec<String> {
    rust_files(root)
        .into_iter()
        .filter_map(|file| {
            let n = std::fs::read_to_string(&file).unwrap().lines().count();
            let shown = file.strip_prefix(root).unwrap().display().to_string();
            (n > max).then(|| format!("{shown} ({n} lines)"))
        })
        .collect()
}

/// A file's module path: `http/ws.rs` → `http::ws`, `http/mod.rs` → `http`.
fn module_path(root: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The paths a file names from `super::`, `self::` or `crate::`, one `{a, b::c}` group deep
/// (nested groups are read as one path each), as segments after the anchor.
fn anchored_paths(text: &str) -> Vec<(String, Vec<String>)> {
    let code: String = code_lines(text).collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    for anchor in ["super::", "self::", "crate::"] {
        for (i, _) in code.match_indices(anchor) {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[i + anchor.len()..];
            let mut prefix = Vec::new();
            let mut rest = rest;
            // `super::super::x`
            let mut anchor_name = anchor.trim_end_matches(':').to_owned();
            while let Some(r) = rest.strip_prefix("super::") {
                anchor_name.push_str("::super");
                rest = r;
            }
            loop {
                let seg: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if seg.is_empty() {
                    break;
                }
                prefix.push(seg.clone());
                rest = &rest[seg.len()..];
                match rest.strip_prefix("::") {
                    Some(r) => rest = r,
                    None => break,
                }
            }
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let mut path = prefix.clone();
                    path.extend(
                        item.split("::")
                            .map(|s| s.trim().trim_start_matches('{').to_owned())
                            .filter(|s| !s.is_empty()),
                    );
                    out.push((anchor_name.clone(), path));
                }
            } else {
                out.push((anchor_name, prefix));
            }
        }
    }
    out
}

/// Every cycle of imports between files of one top-level module (a file using its own parent's
/// or child's items is the module tree itself, not a cycle).
pub fn file_cycles(root: &Path) -> Vec<String> {
    let files = rust_files(root);
    let known: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(root, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let me = module_path(root, file);
        let text = std::fs::read_to_string(file).unwrap();
        for (anchor, segments) in anchored_paths(&text) {
            let mut base = match anchor.split("::").next() {
                Some("crate") => Vec::new(),
                _ => me.clone(),
            };
            for _ in anchor.matches("super") {
                base.pop();
            }
            let mut at = base;
            for seg in segments {
                let mut next = at.clone();
                next.push(seg);
                if !known.contains(&next) {
                    break;
                }
                at = next;
            }
            let same_layer = !at.is_empty() && !me.is_empty() && at[0] == me[0];
            let related = at.starts_with(&me) || me.starts_with(&at);
            if same_layer && !related {
                graph
                    .entry(me.join("::"))
                    .or_default()
                    .insert(at.join("::"));
            }
        }
    }
    let mut out = Vec::new();
    // one cycle at a time: report it, cut its first edge, look again
    while let Some(c) = cycle(&graph) {
        out.push(format!("file cycle: {}", c.join(" → ")));
        if let Some(edges) = graph.get_mut(&c[0]) {
            edges.remove(&c[1]);
        }
    }
    out
}

#[test]
fn no_file_in_src_runs_past_400_lines() {
    let found = long_files(&src(), MAX_FILE_LINES);
    assert!(found.is_empty(), "split these:\n{}", found.join("\n"));
}

#[test]
fn files_of_one_layer_import_each_other_without_a_cycle() {
    let found = file_cycles(&src());
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn top_level_modules_import_only_lower_layers() {
    let found = violations(&src());
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

#[test]
fn no_function_in_src_runs_past_80_lines() {
    let found = long_functions(&src(), MAX_FUNCTION_LINES);
    assert!(found.is_empty(), "split these:\n{}", found.join("\n"));
}

/// The checks can fail: a module graph with a back edge and a long function are caught.
#[test]
fn the_checks_catch_what_they_are_for() {
    let dir = std::env::temp_dir().join(format!("layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("domain")).unwrap();
    std::fs::write(
        dir.join("lib.rs"),
        "//! ```text\n//! http  top\n//! domain  bottom\n//! ```\n",
    )
    .unwrap();
    std::fs::write(dir.join("http.rs"), "use crate::domain::Thing;\n").unwrap();
    std::fs::write(
        dir.join("domain/mod.rs"),
        "use crate::http::Router;\nuse axum::Json;\n",
    )
    .unwrap();
    let found = violations(&dir);
    assert!(
        found.iter().any(|v| v.contains("domain imports http")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|v| v.contains("the axum crate")),
        "{found:?}"
    );
    assert!(found.iter().any(|v| v.starts_with("cycle:")), "{found:?}");

    let body = "    let x = \"}\";\n".repeat(81);
    std::fs::write(dir.join("http.rs"), format!("fn long() {{\n{body}}}\n")).unwrap();
    let long = long_functions(&dir, MAX_FUNCTION_LINES);
    assert_eq!(long, ["http.rs:1 long (83 lines)"]);
    assert_eq!(long_files(&dir, 80), ["http.rs (83 lines)"]);

    // two files of one layer that import each other; a parent and its child do not count
    std::fs::create_dir_all(dir.join("http")).unwrap();
    std::fs::write(dir.join("http.rs"), "").unwrap();
    std::fs::write(dir.join("http/mod.rs"), "mod a;\nmod b;\nuse self::a::X;\n").unwrap();
    std::fs::write(dir.join("http/a.rs"), "use super::{b::Y, App};\n").unwrap();
    std::fs::write(
        dir.join("http/b.rs"),
        "fn f() { crate::http::a::x(); super::App; }\n",
    )
    .unwrap();
    let cycles = file_cycles(&dir);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert!(
        cycles[0].contains("http::a") && cycles[0].contains("http::b"),
        "{cycles:?}"
    );
    std::fs::write(dir.join("http/b.rs"), "fn f() { super::App; }\n").unwrap();
    assert_eq!(file_cycles(&dir), Vec::<String>::new());
    std::fs::remove_dir_all(&dir).unwrap();
}
