//! The parts of page contexts: a page's context is a struct of borrowed, preformatted
//! values that [`View::render`](super::View::render) serializes once into Tera's context,
//! instead of a `json!` tree built first and converted after. Times are formatted by hand
//! on the stack.

use rocket::request::FlashMessage;
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;
use std::borrow::Cow;
use time::{OffsetDateTime, UtcOffset};

use crate::web::guards::CurrentUser;

/// `YYYY-MM-DDTHH:MM:SS` of an instant in UTC, kept on the stack. Years are clamped to
/// 0000-9999 (every time Latchkey shows is "now" plus hours).
#[derive(Clone, Copy)]
pub struct UtcDigits([u8; 19]);

impl UtcDigits {
    pub fn of(at: OffsetDateTime) -> Self {
        let utc = at.to_offset(UtcOffset::UTC);
        let mut out = *b"0000-00-00T00:00:00";
        let mut put = |at: usize, width: usize, mut value: u32| {
            for slot in out[at..at + width].iter_mut().rev() {
                *slot = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, utc.year().clamp(0, 9999) as u32);
        put(5, 2, u8::from(utc.month()).into());
        put(8, 2, utc.day().into());
        put(11, 2, utc.hour().into());
        put(14, 2, utc.minute().into());
        put(17, 2, utc.second().into());
        Self(out)
    }

    /// `2026-11-23T17:55:02`, as the course API writes times.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    fn date(&self) -> &str {
        &self.as_str()[..10]
    }

    fn clock(&self) -> &str {
        &self.as_str()[11..]
    }
}

/// An instant as the pages show it: `text` ("2026-11-23 17:55:02 UTC") and `iso`
/// ("2026-11-23T17:55:02Z", for `<time datetime>`).
#[derive(Clone, Copy)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// "2026-11-23 17:55:02 UTC" and "2026-11-23T17:55:02Z", on the stack.
    fn forms(&self) -> ([u8; 23], [u8; 20]) {
        let digits = UtcDigits::of(self.0);
        let mut text = [0u8; 23];
        text[..10].copy_from_slice(digits.date().as_bytes());
        text[10] = b' ';
        text[11..19].copy_from_slice(digits.clock().as_bytes());
        text[19..].copy_from_slice(b" UTC");
        let mut iso = [0u8; 20];
        iso[..19].copy_from_slice(&digits.0);
        iso[19] = b'Z';
        (text, iso)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (text, iso) = self.forms();
        let mut fields = serializer.serialize_struct("Timestamp", 2)?;
        fields.serialize_field("text", std::str::from_utf8(&text).unwrap_or_default())?;
        fields.serialize_field("iso", std::str::from_utf8(&iso).unwrap_or_default())?;
        fields.end()
    }
}

/// An instant as a ready `<time datetime="…">…</time>` element: one variable for the
/// template instead of an object with two fields to look up and escape. Only digits,
/// separators and fixed markup, so templates print it with `| safe`.
#[derive(Clone, Copy)]
pub struct TimeTag(pub OffsetDateTime);

impl Serialize for TimeTag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const OPEN: &[u8] = b"<time datetime=\"";
        const MIDDLE: &[u8] = b"\">";
        const CLOSE: &[u8] = b"</time>";
        let (text, iso) = Timestamp(self.0).forms();
        let mut tag = [0u8; OPEN.len() + 20 + MIDDLE.len() + 23 + CLOSE.len()];
        let mut at = 0;
        for part in [OPEN, &iso, MIDDLE, &text, CLOSE] {
            tag[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        serializer.serialize_str(std::str::from_utf8(&tag).unwrap_or_default())
    }
}

/// Text escaped as Tera escapes `{{ value }}`, or `placeholder` (trusted markup) when
/// the text is missing or empty: what `{% if v %}{{ v }}{% else %}…{% endif %}` printed,
/// prepared in Rust so the template prints it with `| safe`.
pub fn escaped_or<'a>(text: Option<&'a str>, placeholder: &'static str) -> Cow<'a, str> {
    match text.filter(|text| !text.is_empty()) {
        Some(text) => escaped(text),
        None => Cow::Borrowed(placeholder),
    }
}

/// Text escaped exactly as Tera escapes `{{ value }}`, borrowed when nothing in it needs
/// escaping (names and emails almost never do). Tera's own escaper pushes every
/// character one by one; this copies the runs between the characters it replaces.
pub fn escaped(text: &str) -> Cow<'_, str> {
    fn replacement(byte: u8) -> Option<&'static str> {
        Some(match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            b'/' => "&#x2F;",
            _ => return None,
        })
    }
    let Some(first) = text.bytes().position(|b| replacement(b).is_some()) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    let mut run_start = first;
    for (at, byte) in text.bytes().enumerate().skip(first) {
        // Every replaced character is ASCII, so `at` is always a character boundary.
        if let Some(entity) = replacement(byte) {
            out.push_str(&text[run_start..at]);
            out.push_str(entity);
            run_start = at + 1;
        }
    }
    out.push_str(&text[run_start..]);
    Cow::Owned(out)
}

/// The logged-in person, for pages that print who they are or need the CSRF token.
#[derive(Serialize)]
pub struct ViewerView<'a> {
    pub email: &'a str,
    pub name: Cow<'a, str>,
    pub csrf_token: String,
}

impl<'a> ViewerView<'a> {
    /// The name as `User::display_name` gives it, borrowed unless both names are set.
    pub fn of(current: &'a CurrentUser) -> Self {
        let user = &current.user;
        let name = match (non_empty(&user.first_name), non_empty(&user.last_name)) {
            (Some(first), Some(last)) => Cow::Owned(format!("{first} {last}")),
            (Some(one), None) | (None, Some(one)) => Cow::Borrowed(one),
            (None, None) => Cow::Borrowed(user.email.as_str()),
        };
        Self {
            email: &user.email,
            name,
            csrf_token: current.csrf_token(),
        }
    }
}

/// The header's signed-in links and logout form, escaped and ready: the layout's `nav`
/// (`{{ nav | safe }}` in `base.html.tera`), one top-level variable instead of a nested
/// object, two lookups and two escapes in the template. Byte for byte what the template
/// printed for a signed-in viewer when it built this part itself.
pub fn signed_in_header(email: &str, csrf_token: &str) -> String {
    const WHO: &str = "\n        <span class=\"who\">Signed in as <strong>";
    const LINKS: &str = "</strong></span>\n        <a href=\"/profile\">Profile</a>\n        <a href=\"/session\">Session inspector</a>\n        <a href=\"/sessions\">Sessions</a>\n        <form method=\"post\" action=\"/logout\" class=\"inline\">\n          <input type=\"hidden\" name=\"csrf_token\" value=\"";
    const END: &str = "\">\n          <button type=\"submit\" class=\"link\">Log out</button>\n        </form>\n      ";
    // The token is hex by construction: nothing in it to escape.
    debug_assert!(csrf_token.bytes().all(|b| b.is_ascii_hexdigit()));
    let email = escaped(email);
    let mut nav =
        String::with_capacity(WHO.len() + email.len() + LINKS.len() + csrf_token.len() + END.len());
    for part in [WHO, &email, LINKS, csrf_token, END] {
        nav.push_str(part);
    }
    nav
}

fn non_empty(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|text| !text.is_empty())
}

#[derive(Serialize)]
pub struct FlashView<'a> {
    pub kind: &'a str,
    pub message: &'a str,
}

impl<'a> FlashView<'a> {
    pub fn of(flash: &'a FlashMessage<'_>) -> Self {
        Self {
            kind: flash.kind(),
            message: flash.message(),
        }
    }
}

/// A page's own context plus what the base layout needs.
#[derive(Serialize)]
pub struct WithLayout<'a, P> {
    #[serde(flatten)]
    pub page: P,
    pub viewer: Option<ViewerView<'a>>,
    /// The signed-in header (see [`signed_in_header`]), when someone is.
    pub nav: Option<String>,
    pub flash: Option<FlashView<'a>>,
}

impl<'a, P: Serialize> WithLayout<'a, P> {
    pub fn new(
        page: P,
        viewer: Option<&'a CurrentUser>,
        flash: Option<&'a FlashMessage<'_>>,
    ) -> Self {
        let viewer = viewer.map(ViewerView::of);
        Self {
            page,
            nav: viewer
                .as_ref()
                .map(|viewer| signed_in_header(viewer.email, &viewer.csrf_token)),
            viewer,
            flash: flash.map(FlashView::of),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_exactly_as_tera_escapes_it() {
        use rocket_dyn_templates::tera::escape_html;
        for text in [
            "plain name",
            "Mozilla/5.0 (X11; Linux x86_64) \"quoted\" & <tag> it's",
            "émoji 🔑 & ünïcode/<>",
            "&",
            "",
        ] {
            assert_eq!(escaped(text), escape_html(text), "{text}");
        }
        assert!(matches!(escaped("Ada Lovelace"), Cow::Borrowed(_)));
    }

    #[test]
    fn times_are_written_in_utc_with_leading_zeros() {
        let at = time::macros::datetime!(2026-01-02 03:04:05 +02:00);
        assert_eq!(UtcDigits::of(at).as_str(), "2026-01-02T01:04:05");
        let json = serde_json::to_value(Timestamp(at)).unwrap();
        assert_eq!(json["text"], "2026-01-02 01:04:05 UTC");
        assert_eq!(json["iso"], "2026-01-02T01:04:05Z");
        let tag = serde_json::to_value(TimeTag(at)).unwrap();
        assert_eq!(
            tag,
            r#"<time datetime="2026-01-02T01:04:05Z">2026-01-02 01:04:05 UTC</time>"#
        );
    }
}
