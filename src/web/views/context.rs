//! A page's context straight into Tera's: the context struct (or map, when a part is
//! `#[serde(flatten)]`ed) is serialized field by field with `Context::try_insert`.

use rocket_dyn_templates::tera::Context;
use serde::ser::Impossible;
use serde::Serialize;

use super::TeraError;

/// Serializes a page's context (a struct, or a map when a part is `#[serde(flatten)]`ed)
/// field by field into Tera's context, instead of building a JSON object first and then
/// moving every entry into the context's own map.
pub(super) fn context_of(value: impl Serialize) -> Result<Context, TeraError> {
    let mut fields = Fields {
        context: Context::new(),
        key: None,
    };
    value.serialize(&mut fields).map_err(TeraError::json)?;
    Ok(fields.context)
}

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
impl serde::Serializer for &mut Fields {
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
    use rocket_dyn_templates::tera::Context;

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
