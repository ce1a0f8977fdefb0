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
use rocket::request::FlashMessage;
use rocket::response::{self, Body, Responder, Response};
use rocket::Request;
use rocket_dyn_templates::tera::{Context, Tera};
use serde::Serialize;

use crate::web::guards::CurrentUser;

mod context;
mod parts;

use context::context_of;
pub use parts::{
    escaped_or, signed_in_header, FlashView, TimeTag, Timestamp, UtcDigits, ViewerView, WithLayout,
};

type TeraError = rocket_dyn_templates::tera::Error;

/// The templates as last loaded: replaced when rocket_dyn_templates reloads them (debug
/// builds with `template_dir`), read by every page.
#[derive(Clone, Default)]
pub struct Engine(Arc<RwLock<Tera>>);

impl Engine {
    /// Takes the templates rocket_dyn_templates has just (re)loaded.
    pub fn replace(&self, tera: &Tera) {
        *self.0.write() = tera.clone();
    }

    /// Renders with the current templates, under the read lock (which only a reload
    /// waits for) rather than through a clone of the `Arc`: two fewer atomic operations
    /// on a counter every worker thread shares.
    fn render_to(&self, name: &str, context: &Context, out: &mut Vec<u8>) -> Result<(), TeraError> {
        self.0.read().render_to(name, context, out)
    }
}

/// Every page fits in this much when rendered (the largest, the inspector, is about 6 KB).
const PAGE_CAPACITY: usize = 8 * 1024;

/// Pages up to this size are sent in one piece.
const MAX_PAGE_CHUNK: usize = 64 * 1024;

/// A page to render: the template's name (`profile` for `templates/profile.html.tera`)
/// and its context, rendered when the response is sent. Served as `text/html`.
pub struct View {
    name: &'static str,
    context: Result<Context, TeraError>,
}

impl View {
    pub fn render(name: &'static str, context: impl Serialize) -> Self {
        Self {
            name,
            context: context_of(context),
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
            .and_then(|context| {
                // Room for a whole page from the start, instead of Tera's buffer growing
                // (and copying what it holds) as the page is written. Tera writes only
                // `&str`s, so the bytes go out as they are, not checked again as UTF-8.
                let mut html = Vec::with_capacity(PAGE_CAPACITY);
                engine.render_to(self.name, &context, &mut html)?;
                Ok(html)
            })
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
        // replace it, two header-map writes (each hashing the name) instead of one. A
        // page goes out as one chunk (Rocket's default is 4 KiB chunks, each handed to
        // the connection separately); the cap bounds the buffer for unusually large pages.
        let chunk = html.len().clamp(Body::DEFAULT_MAX_CHUNK, MAX_PAGE_CHUNK);
        Response::build()
            .header(ContentType::HTML)
            .sized_body(html.len(), Cursor::new(html))
            .max_chunk_size(chunk)
            .ok()
    }
}

/// Renders a page with what the base layout needs: who is logged in (with the CSRF token
/// for the header's logout button) and the flash message, if any.
pub fn render(
    name: &'static str,
    viewer: Option<&CurrentUser>,
    flash: Option<FlashMessage<'_>>,
    context: impl Serialize,
) -> View {
    View::render(name, WithLayout::new(context, viewer, flash.as_ref()))
}
