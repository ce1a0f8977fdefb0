//! The layers point one way. Reads `src/**/*.rs` (no application is built), maps each
//! file to its top-level module, collects its `crate::<module>` references and checks
//! them against the layer table below: a module may use its own layer and the layers
//! under it, never one above, and the top-level modules form no import cycle.
//!
//! A new top-level module must be placed in the table, so its room is decided the day
//! it is added.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Highest first. Each layer may use itself and everything after it.
const LAYERS: &[(&str, &[&str])] = &[
    // Settings read once, backends opened once, Rocket built.
    ("wiring", &["lib", "main", "cli", "backends"]),
    // Routes, guards, CSRF, flash, headers, exchange log, readiness, assets, the HTTP side
    // of errors.
    ("web", &["web"]),
    // The front door for every security operation.
    ("auth", &["auth", "tokens"]),
    // Policies over stores and repositories.
    ("policies", &["sessions", "users", "throttle"]),
    // SQLite, PostgreSQL, Redis connector, SQL error classifier, private files.
    (
        "storage",
        &[
            "store_error",
            "redis_connector",
            "sql_errors",
            "sqlite",
            "postgres_pool",
            "private_files",
            "secret_key",
        ],
    ),
    // Leaves: settings, time, logs and metric counters, the failure type.
    (
        "leaves",
        &[
            "config",
            "clock",
            "telemetry",
            "metrics",
            "errors",
            "fd_limit",
        ],
    ),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `src/web/routes/pages.rs` -> `web`, `src/config.rs` -> `config`.
fn top_module(src: &Path, file: &Path) -> String {
    let first = file
        .strip_prefix(src)
        .expect("under src")
        .components()
        .next()
        .expect("non-empty path");
    let name = first.as_os_str().to_string_lossy();
    name.strip_suffix(".rs").unwrap_or(&name).to_owned()
}

/// The code without `//` comments (prose mentioning a path is no dependency).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Every top-level module named after `crate::`, grouped imports included.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        found.insert(identifier(&group[i..]));
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(identifier(rest));
        }
    }
    found
}

/// Top-level module -> the top-level modules it references (itself excluded).
fn dependency_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| top_module(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = top_module(&src, file);
        let code = without_comments(&fs::read_to_string(file).expect("read source"));
        let targets = graph.entry(from.clone()).or_default();
        for to in crate_references(&code) {
            if to != from && modules.contains(&to) {
                targets.insert(to);
            }
        }
    }
    graph
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, members)| members.contains(&module))
}

#[test]
fn every_top_level_module_has_a_layer() {
    let unplaced: Vec<String> = dependency_graph()
        .into_keys()
        .filter(|module| layer_of(module).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "top-level modules missing from the layer table in tests/architecture.rs: {unplaced:?}"
    );
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let mut upward = Vec::new();
    for (from, targets) in dependency_graph() {
        let Some(from_layer) = layer_of(&from) else {
            continue;
        };
        for to in targets {
            if let Some(to_layer) = layer_of(&to) {
                if to_layer < from_layer {
                    upward.push(format!(
                        "{from} ({}) uses {to} ({})",
                        LAYERS[from_layer].0, LAYERS[to_layer].0
                    ));
                }
            }
        }
    }
    assert!(upward.is_empty(), "references pointing up: {upward:#?}");
}

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = dependency_graph();
    // Depth-first search; a module met again while still on the path closes a cycle.
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module.to_owned());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let cycle = visit(module, &graph, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "import cycle: {}",
            cycle.unwrap().join(" -> ")
        );
    }
}

#[test]
fn the_reader_sees_grouped_and_plain_references() {
    let code = "use crate::{config::{A, B}, clock::Clock};\nlet x = crate::errors::f();";
    let found = crate_references(code);
    let expected: BTreeSet<String> = ["config", "clock", "errors"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expected);
}
