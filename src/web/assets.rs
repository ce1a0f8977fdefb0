//! Templates and static files, built into the binary (see `build.rs`) so that the binary
//! copied alone onto a host or into a container serves every page with its stylesheet.
//!
//! Two settings read them from disk instead, for working on them without rebuilding:
//! `template_dir` (Rocket's own template setting; debug builds reload edited templates)
//! and `static_dir`.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use rocket::fairing::{self, Fairing, Info};
use rocket::figment::value::magic::RelativePathBuf;
use rocket::figment::Figment;
use rocket::fs::{FileServer, Options};
use rocket::http::uri::fmt::Path;
use rocket::http::uri::Segments;
use rocket::http::{ContentType, Header, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Responder, Response};
use rocket::{get, routes, Build, Data, Orbit, Rocket, Route};
use rocket_dyn_templates::Template;
use sha2::{Digest, Sha256};

use crate::web::views;

/// What `build.rs` found under `templates/` and `static/`: (relative path, contents).
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_assets.rs"));
}

const TEMPLATE_DIR: &str = "template_dir";
const STATIC_DIR: &str = "static_dir";

/// A directory setting as Rocket resolves paths: relative to `Rocket.toml` when set
/// there, to the working directory when set by a variable. `Ok(None)` when unset.
fn configured_dir(figment: &Figment, key: &str) -> Result<Option<PathBuf>, String> {
    match figment.extract_inner::<RelativePathBuf>(key) {
        Ok(path) => Ok(Some(path.relative())),
        Err(error) if error.missing() => Ok(None),
        Err(error) => Err(format!("invalid setting `{key}`: {error}")),
    }
}

/// The routes under `/static`: the built-in files, or Rocket's file server over
/// `static_dir` when it is set. A `static_dir` that is not a directory is reported by
/// [`templates`] at start-up, not here.
pub fn static_routes(figment: &Figment) -> Vec<Route> {
    match configured_dir(figment, STATIC_DIR) {
        Ok(None) => routes![built_in_static_file],
        // `Missing`: a wrong path must stop the start with a message, not panic here.
        Ok(Some(dir)) => FileServer::new(dir, Options::Index | Options::Missing).into(),
        Err(_) => Vec::new(),
    }
}

/// The template engine (rocket_dyn_templates), over the built-in templates or, when
/// `template_dir` is set, the templates there; pages render from what it loaded
/// ([`views::Engine`], managed here). Also stops the start with a message when
/// `template_dir` or `static_dir` is set to something that is not a directory.
pub fn templates() -> impl Fairing {
    let unpacked = Arc::new(Mutex::new(None));
    let loaded = unpacked.clone();
    let views = views::Engine::default();
    let reloaded = views.clone();
    let engine = Template::try_custom(move |engines| {
        // The engine has read every template by now: remove the unpacked copy (a few
        // small files, once, at start-up) before its debug-build watcher looks at it.
        drop(loaded.lock().take());
        reloaded.replace(&engines.tera);
        Ok(())
    });
    BuiltInTemplates {
        unpacked,
        engine: Box::new(engine),
        views,
    }
}

/// Why the built-in templates go through a directory at all: rocket_dyn_templates takes a
/// page's Content-Type and Tera's HTML escaping from the template's *file* name
/// (`index.html.tera` -> text/html, escaped). Templates registered from strings under the
/// names the routes render (`index`, `base`) would be served as text/plain and rendered
/// unescaped. So they are written into a private directory (mode 0700, random name), the
/// engine loads them exactly as it loads `templates/` in development, and the directory
/// is removed as soon as they are loaded.
struct BuiltInTemplates {
    unpacked: Arc<Mutex<Option<tempfile::TempDir>>>,
    engine: Box<dyn Fairing>,
    views: views::Engine,
}

#[rocket::async_trait]
impl Fairing for BuiltInTemplates {
    fn info(&self) -> Info {
        Info {
            name: "Templates",
            kind: self.engine.info().kind,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        for key in [TEMPLATE_DIR, STATIC_DIR] {
            match configured_dir(rocket.figment(), key) {
                Ok(Some(dir)) if !dir.is_dir() => {
                    let reason = format!(
                        "invalid setting `{key}`: {} is not a directory",
                        dir.display()
                    );
                    return crate::startup_failure(rocket, reason);
                }
                Err(reason) => return crate::startup_failure(rocket, reason),
                Ok(_) => {}
            }
        }
        let rocket = rocket.manage(self.views.clone());
        if configured_dir(rocket.figment(), TEMPLATE_DIR).is_ok_and(|dir| dir.is_some()) {
            return self.engine.on_ignite(rocket).await;
        }
        let unpacked = match rocket::tokio::task::spawn_blocking(unpack_templates).await {
            Ok(Ok(unpacked)) => unpacked,
            Ok(Err(error)) => {
                let reason = format!(
                    "cannot unpack the built-in templates into {} ({error}): point TMPDIR at \
                     a writable directory, or set `template_dir`",
                    std::env::temp_dir().display()
                );
                return crate::startup_failure(rocket, reason);
            }
            Err(error) => return crate::startup_failure(rocket, error),
        };
        let figment = rocket
            .figment()
            .clone()
            .merge((TEMPLATE_DIR, unpacked.path()));
        *self.unpacked.lock() = Some(unpacked);
        let result = self.engine.on_ignite(rocket.configure(figment)).await;
        // Already gone unless the engine failed before loading them.
        drop(self.unpacked.lock().take());
        if result.is_ok() {
            tracing::info!(
                "templates: built into the binary (set template_dir to read them from disk, \
                 reloaded on change in debug builds)"
            );
        }
        result
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        self.engine.on_liftoff(rocket).await;
    }

    async fn on_request(&self, request: &mut Request<'_>, data: &mut Data<'_>) {
        self.engine.on_request(request, data).await;
    }
}

fn unpack_templates() -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("latchkey-templates-")
        .tempdir()?;
    for (name, contents) in embedded::TEMPLATES {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, contents)?;
    }
    Ok(dir)
}

/// One built-in static file, with what its responses carry.
struct StaticFile {
    body: &'static [u8],
    content_type: ContentType,
    /// A strong validator from the contents: the same file has the same tag in every
    /// build and on every instance, so a browser revalidates with `If-None-Match` and
    /// gets a bodiless 304. (No `Last-Modified`: file times differ between checkouts and
    /// would make builds differ; the tag says everything a cache needs.)
    etag: String,
}

fn static_files() -> &'static HashMap<&'static str, StaticFile> {
    static FILES: OnceLock<HashMap<&'static str, StaticFile>> = OnceLock::new();
    FILES.get_or_init(|| {
        embedded::STATIC_FILES
            .iter()
            .map(|&(name, body)| {
                let extension = name.rsplit_once('.').map_or("", |(_, ext)| ext);
                let content_type =
                    ContentType::from_extension(extension).unwrap_or(ContentType::Binary);
                let digest = Sha256::digest(body);
                let etag = format!("\"{}\"", hex::encode(&digest[..16]));
                let file = StaticFile {
                    body,
                    content_type,
                    etag,
                };
                (name, file)
            })
            .collect()
    })
}

/// The request's `If-None-Match`, if any.
struct IfNoneMatch<'r>(Option<&'r str>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IfNoneMatch<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        request::Outcome::Success(Self(request.headers().get_one("If-None-Match")))
    }
}

impl IfNoneMatch<'_> {
    /// RFC 9110 §13.1.2: `*` or any listed tag equal to ours under weak comparison.
    fn matches(&self, etag: &str) -> bool {
        self.0.is_some_and(|tags| {
            tags.split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
        })
    }
}

/// Same rank as Rocket's `FileServer`, which it stands in for; an unknown path is a 404.
#[get("/<path..>", rank = 10)]
fn built_in_static_file(path: Segments<'_, Path>, validators: IfNoneMatch<'_>) -> Option<Served> {
    let name = path.collect::<Vec<_>>().join("/");
    let file = static_files().get(name.as_str())?;
    Some(Served {
        file,
        not_modified: validators.matches(&file.etag),
    })
}

/// A built-in static file, or a 304 when the browser's copy is current. Caching rules
/// (`Cache-Control`) come from the security headers fairing, as for every response.
struct Served {
    file: &'static StaticFile,
    not_modified: bool,
}

impl<'r> Responder<'r, 'static> for Served {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        response.header(Header::new("ETag", self.file.etag.as_str()));
        if self.not_modified {
            response.status(Status::NotModified);
        } else {
            response
                .header(self.file.content_type.clone())
                .sized_body(self.file.body.len(), Cursor::new(self.file.body));
        }
        response.ok()
    }
}
