//! Builds every file under `templates/` and `static/` into the binary, so the binary
//! alone serves every page (src/web/assets.rs). The lists are made here rather than by hand
//! so a new template or static file is picked up without touching any code; watching the
//! two directories makes cargo rebuild when a file is added, removed or edited.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    // sqlx::migrate! embeds the migrations at compile time; a new one must rebuild.
    println!("cargo:rerun-if-changed=migrations");
    let mut code = String::new();
    for (constant, dir) in [("TEMPLATES", "templates"), ("STATIC_FILES", "static")] {
        println!("cargo:rerun-if-changed={dir}");
        let base = root.join(dir);
        let mut files = Vec::new();
        collect(&base, &base, &mut files);
        files.sort();
        writeln!(code, "pub static {constant}: &[(&str, &[u8])] = &[").unwrap();
        for (name, path) in files {
            writeln!(code, "    ({name:?}, include_bytes!({path:?})),").unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    fs::write(out.join("embedded_assets.rs"), code).expect("write embedded_assets.rs");
}

/// Every regular file under `dir` as (path relative to `base` with `/` separators,
/// absolute path). Dotfiles (editor swap files, `.gitkeep`) are left out, as Rocket's
/// `FileServer` leaves them out.
fn collect(base: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let file_name = path.file_name().and_then(|name| name.to_str());
        if file_name.is_none_or(|name| name.starts_with('.')) {
            continue;
        }
        if path.is_dir() {
            collect(base, &path, files);
        } else if path.is_file() {
            let relative = path.strip_prefix(base).expect("under base");
            let name = relative
                .components()
                .map(|part| part.as_os_str().to_str().expect("UTF-8 file name"))
                .collect::<Vec<_>>()
                .join("/");
            let absolute = path.to_str().expect("UTF-8 path").to_owned();
            files.push((name, absolute));
        }
    }
}
