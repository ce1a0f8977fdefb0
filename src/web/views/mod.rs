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
use rocket::response::{self, Body, Responder, Response};
use rocket::Request;
use rocket_dyn_templates::tera::{Context, Tera};
use serde::ser::Impossible;
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
                // (and copying what it holds) as the page is written.
                let mut html = Vec::with_capacity(PAGE_CAPACITY);
                engine.current().render_to(self.name, &context, &mut html)?;
                String::from_utf8(html).map_err(|error| {
                    TeraError::utf8_conversion_error(error, format!("rendering {}", self.name))
                })
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

/// Serializes a page's context (a struct, or a map when a part is `#[serde(flatten)]`ed)
/// field by field into Tera's context, instead of building a JSON object first and then
/// moving every entry into the context's own map.
fn context_of(value: impl Serialize) -> Result<Context, TeraError> {
    let mut fields = Fields {
        context: Context::new(),
        key: None,
    };
    value.serialize(&mut fields).map_err(TeraError::json)?;
    Ok(fields.context)
}

type TeraError = rocket_dyn_templates::tera::Error;
/// What serializing a field can fail with (serde needs an error type of its own kind).
type FieldError = serde_json::Error;

struct Fields {
    context: Context,
    /// A map's key, until its value arrives.
    key: Option<String>,
}

fn not_a_struct<T>() -> Result<T, FieldError> {
    Err(serde::ser::Error::custom(
        "a page context must be a struct or a map",
    ))
}

impl serde::ser::SerializeStruct for &mut Fields {
    type Ok = ();
    type Error = FieldError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), FieldError> {
        self.context
            .try_insert(key, value)
            .map_err(serde::ser::Error::custom)
    }

    fn end(self) -> Result<(), FieldError> {
        Ok(())
    }
}

impl serde::ser::SerializeMap for &mut Fields {
    type Ok = ();
    type Error = FieldError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), FieldError> {
        match serde_json::to_value(key)? {
            serde_json::Value::String(key) => {
                self.key = Some(key);
                Ok(())
            }
            _ => Err(serde::ser::Error::custom(
                "a page context's keys must be strings",
            )),
        }
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), FieldError> {
        match self.key.take() {
            Some(key) => self
                .context
                .try_insert(key, value)
                .map_err(serde::ser::Error::custom),
            None => Err(serde::ser::Error::custom(
                "a map value came without its key",
            )),
        }
    }

    fn end(self) -> Result<(), FieldError> {
        Ok(())
    }
}

/// Only a struct or a map can be a page's context; every other kind is refused.
impl<'a> serde::Serializer for &'a mut Fields {
    type Ok = ();
    type Error = FieldError;
    type SerializeSeq = Impossible<(), FieldError>;
    type SerializeTuple = Impossible<(), FieldError>;
    type SerializeTupleStruct = Impossible<(), FieldError>;
    type SerializeTupleVariant = Impossible<(), FieldError>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), FieldError>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, FieldError> {
        Ok(self)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self, FieldError> {
        Ok(self)
    }

    fn serialize_bool(self, _: bool) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_i8(self, _: i8) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_i16(self, _: i16) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_i32(self, _: i32) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_i64(self, _: i64) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_u8(self, _: u8) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_u16(self, _: u16) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_u32(self, _: u32) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_u64(self, _: u64) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_f32(self, _: f32) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_f64(self, _: f64) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_char(self, _: char) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_str(self, _: &str) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_none(self) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_unit(self) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), FieldError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), FieldError> {
        not_a_struct()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, FieldError> {
        not_a_struct()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, FieldError> {
        not_a_struct()
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, FieldError> {
        not_a_struct()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, FieldError> {
        not_a_struct()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, FieldError> {
        not_a_struct()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Page<'a> {
        title: &'a str,
        count: u32,
        missing: Option<&'a str>,
    }

    #[derive(Serialize)]
    struct Layout<'a> {
        #[serde(flatten)]
        page: Page<'a>,
        viewer: Option<&'a str>,
    }

    #[test]
    fn a_context_holds_what_tera_would_make_of_it() {
        let layout = Layout {
            page: Page {
                title: "<Profile>",
                count: 3,
                missing: None,
            },
            viewer: Some("ada@example.com"),
        };
        let direct = context_of(&layout).expect("a struct").into_json();
        let through_json = Context::from_serialize(&layout)
            .expect("a struct")
            .into_json();
        assert_eq!(direct, through_json);
        assert_eq!(direct["title"], "<Profile>");
        assert_eq!(direct["count"], 3);
        assert!(direct["missing"].is_null());
    }

    #[test]
    fn only_a_struct_or_a_map_can_be_a_context() {
        assert!(context_of("just text").is_err());
        assert!(context_of([1, 2, 3]).is_err());
        assert!(context_of(std::collections::BTreeMap::from([(1, "a")])).is_err());
    }
}
