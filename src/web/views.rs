//! Rendering pages. rocket_dyn_templates loads the templates (built in, or from
//! `template_dir` with reloading in debug builds); pages are rendered here, from a copy of
//! the Tera instance it loaded, straight from the page's context.
//!
//! Why not `Template::render`: it serializes the context into figment's value tree, which
//! is turned into Tera's JSON context when the response is sent: two trees per page,
//! about as much work as rendering the page itself. A [`View`] goes to Tera's context in
//! one pass.

use std::io::Cursor;
use std::sync::Arc;

use parking_lot::RwLock;
use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder, Response};
use rocket::Request;
use rocket_dyn_templates::tera::{Context, Tera};
use serde::Serialize;

/// The templates as last loaded: replaced when rocket_dyn_templates reloads them (debug
/// builds with `template_dir`), read by every page.
#[derive(Clone, Default)]
pub struct Engine(Arc<RwLock<Arc<Tera>>>);

impl Engine {
    /// Takes the templates rocket_dyn_templates has just (re)loaded.
    pub fn replace(&self, tera: &Tera) {
        *self.0.write() = Arc::new(tera.clone());
    }

    fn current(&self) -> Arc<Tera> {
        self.0.read().clone()
    }
}

/// A page to render: the template's name (`profile` for `templates/profile.html.tera`)
/// and its context, rendered when the response is sent. Served as `text/html`.
pub struct View {
    name: &'static str,
    context: Result<Context, rocket_dyn_templates::tera::Error>,
}

impl View {
    pub fn render(name: &'static str, context: impl Serialize) -> Self {
        Self {
            name,
            context: Context::from_serialize(context),
        }
    }
}

impl<'r> Responder<'r, 'static> for View {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let engine = request.rocket().state::<Engine>().ok_or_else(|| {
            tracing::error!("no template engine: the templates fairing is not attached");
            Status::InternalServerError
        })?;
        // Templates are part of the program: a failure here is a bug, logged with Tera's
        // whole explanation (which names the template and the variable, never a value).
        let html = self
            .context
            .and_then(|context| engine.current().render(self.name, &context))
            .map_err(|error| {
                let mut reason = error.to_string();
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    reason.push_str(": ");
                    reason.push_str(&cause.to_string());
                    source = cause.source();
                }
                tracing::error!(template = self.name, "rendering failed: {reason}");
                Status::InternalServerError
            })?;
        // Built directly: `(ContentType, String)` would set a text/plain type first and
        // replace it, two header-map writes (each hashing the name) instead of one.
        Response::build()
            .header(ContentType::HTML)
            .sized_body(html.len(), Cursor::new(html))
            .ok()
    }
}
