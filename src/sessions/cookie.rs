//! The session cookie: a private (AES-256-GCM, encrypted and authenticated) Rocket cookie
//! whose plaintext is the session id. Tampering with it makes it unreadable, which is
//! treated exactly like having no cookie.

use std::sync::Arc;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine;
use rocket::config::SecretKey;
use rocket::figment::Figment;
use rocket::http::private::cookie::{Expiration, Key};
use rocket::http::{Cookie, CookieJar, SameSite};

use super::{SessionId, SessionRecord};
use crate::config::Settings;

/// OWASP Session Management: HttpOnly (no script access), SameSite=Lax (not sent on
/// cross-site POSTs), Path=/, no Domain (this host only), Secure when served over HTTPS,
/// and for a "remember me" session Max-Age = the absolute timeout (the browser forgets it
/// when the server would anyway); otherwise no Max-Age or Expires at all, so the browser
/// drops it when it closes. The server enforces the same deadlines either way.
pub fn issue(jar: &CookieJar<'_>, settings: &Settings, id: &SessionId, record: &SessionRecord) {
    jar.add_private(build(settings, id.expose(), record));
}

/// The session cookie with a given value: the one definition of its attributes, also
/// used to show them on the session inspector.
pub fn build(settings: &Settings, value: String, record: &SessionRecord) -> Cookie<'static> {
    let cookie = Cookie::build((settings.session_name.clone(), value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(settings.cookie_secure);
    if record.persistent {
        cookie
            .max_age(settings.absolute_timeout())
            // Rocket would otherwise add a one-week `Expires` that contradicts `Max-Age`.
            .expires(record.absolute_deadline)
            .build()
    } else {
        // Said explicitly: a private cookie without an expiry gets Rocket's one week.
        cookie.expires(Expiration::Session).build()
    }
}

/// Reads session cookies, which every authenticated request does. Rocket's
/// `get_private` sets up AES-256-GCM anew (key schedule and all) and makes five heap
/// copies of a 60-byte value on each call; this keeps the cipher from start and opens
/// the value on the stack. The format is Rocket's (the `cookie` crate's): base64 of
/// nonce (12 bytes), ciphertext, tag (16), with the cookie's name as associated data.
/// Writing cookies stays with Rocket.
#[derive(Clone, Default)]
pub struct CookieOpener {
    /// `None`: the key could not be proven to be Rocket's, so Rocket reads.
    cipher: Option<Arc<Aes256Gcm>>,
}

/// A session id (32 hex digits) sealed: nonce, id, tag.
const SEALED_LEN: usize = 12 + 32 + 16;
/// Its base64 (60 bytes make 80 characters, no padding).
const SEALED_BASE64_LEN: usize = SEALED_LEN / 3 * 4;

impl CookieOpener {
    /// The opener for the `secret_key` in `figment`. It reads with its own cipher only
    /// when that key provably equals the one Rocket encrypts with (Rocket's own parse of
    /// the setting, compared); any other form of the setting falls back to Rocket.
    pub fn from_figment(figment: &Figment) -> Self {
        let cipher = own_key(figment).and_then(|key| {
            Aes256Gcm::new_from_slice(key.encryption())
                .ok()
                .map(Arc::new)
        });
        Self { cipher }
    }

    /// The session id the browser sent, if the cookie is present, authentic and
    /// well-formed.
    pub fn read(&self, jar: &CookieJar<'_>, name: &str) -> Option<SessionId> {
        if self.cipher.is_none() {
            let cookie = jar.get_private(name)?;
            return SessionId::parse(cookie.value());
        }
        self.open(name, jar.get(name)?.value())
    }

    /// The session id sealed in `value`, the value of a cookie named `name`; `None` if it
    /// is not one of ours, or if this opener has no cipher of its own (Rocket reads).
    pub fn open(&self, name: &str, value: &str) -> Option<SessionId> {
        let cipher = self.cipher.as_ref()?;
        if value.len() != SEALED_BASE64_LEN {
            return None;
        }
        let mut sealed = [0u8; SEALED_LEN];
        let decoded = base64::engine::general_purpose::STANDARD
            .decode_slice(value, &mut sealed)
            .ok()?;
        if decoded != SEALED_LEN {
            return None;
        }
        let (nonce, rest) = sealed.split_at_mut(12);
        let (id, tag) = rest.split_at_mut(32);
        cipher
            .decrypt_in_place_detached((&*nonce).into(), name.as_bytes(), id, (&*tag).into())
            .ok()?;
        SessionId::parse(std::str::from_utf8(id).ok()?)
    }
}

/// The cookie key Rocket derives from `secret_key`, if the setting is a base64 or hex
/// string and Rocket's own reading of it gives the same key.
fn own_key(figment: &Figment) -> Option<Key> {
    let rockets: SecretKey = figment.extract_inner("secret_key").ok()?;
    let text: String = figment.extract_inner("secret_key").ok()?;
    let bytes = match text.len() {
        44 | 88 => base64::engine::general_purpose::STANDARD
            .decode(&text)
            .ok()?,
        64 => hex::decode(&text).ok()?,
        _ => return None,
    };
    // Rocket's rule: 64 bytes or more are the key itself, fewer (at least 32) derive it.
    let (key, same_as_ours) = match bytes.len() {
        64.. => (Key::from(&bytes), SecretKey::from(&bytes)),
        32..=63 => (Key::derive_from(&bytes), SecretKey::derive_from(&bytes)),
        _ => return None,
    };
    (same_as_ours == rockets && !rockets.is_zero()).then_some(key)
}

/// Tells the browser to drop the cookie (an expired cookie with the same name and path).
pub fn clear(jar: &CookieJar<'_>, settings: &Settings) {
    // Same attributes as the cookie it removes, so every client matches it to that one.
    jar.remove_private(
        Cookie::build(settings.session_name.clone())
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(settings.cookie_secure),
    );
}

/// Login ends all pre-login state: the anonymous visitor's CSRF token cookie goes with
/// it. Here rather than in the CSRF guard so `auth` need not reach up into the web layer.
pub fn clear_anon_csrf(jar: &CookieJar<'_>) {
    jar.remove_private(
        Cookie::build(crate::config::ANON_CSRF_COOKIE)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict),
    );
}

#[cfg(test)]
mod tests {
    use rocket::local::blocking::Client;
    use rocket::State;

    use super::*;

    /// The same key three ways Rocket accepts it: 64 bytes in base64, 32 bytes in base64
    /// and in hex (both derived from).
    const KEYS: [&str; 3] = [
        "ZavEzHWh8hSJnV0LOQ8LH0wp5lR35VUq2bs+aN+qDw3gFjy04meu4Rl/Xw2rvA5VqGQOaXbarVJUlWJOR4bK7g==",
        "ZavEzHWh8hSJnV0LOQ8LH0wp5lR35VUq2bs+aN+qDw0=",
        "65abc4cc75a1f214899d5d0b390f0b1f4c29e65477e5552ad9bb3e68dfaa0f0d",
    ];
    const NAME: &str = "latchkey_session";

    #[rocket::get("/")]
    fn opened(jar: &CookieJar<'_>, opener: &State<CookieOpener>) -> String {
        match opener.read(jar, NAME) {
            Some(id) => id.expose(),
            None if jar.get(NAME).is_some() => "unreadable".to_owned(),
            None => "none".to_owned(),
        }
    }

    fn client(key: &str) -> Client {
        let figment = rocket::Config::figment().merge(("secret_key", key));
        let opener = CookieOpener::from_figment(&figment);
        assert!(
            opener.cipher.is_some(),
            "{key} is read by Rocket, not the opener"
        );
        let rocket = rocket::custom(figment)
            .manage(opener)
            .mount("/", rocket::routes![opened]);
        Client::untracked(rocket).expect("rocket")
    }

    fn answer(client: &Client, cookie: Cookie<'static>, private: bool) -> String {
        let request = client.get("/");
        let request = if private {
            request.private_cookie(cookie)
        } else {
            request.cookie(cookie)
        };
        request.dispatch().into_string().unwrap_or_default()
    }

    #[test]
    fn opens_what_rocket_sealed_whatever_the_form_of_the_key() {
        for key in KEYS {
            let client = client(key);
            let id = SessionId::generate().expose();
            assert_eq!(
                answer(&client, Cookie::new(NAME, id.clone()), true),
                id,
                "{key}"
            );
        }
    }

    #[test]
    fn refuses_altered_foreign_and_plain_cookies() {
        let ours = client(KEYS[0]);
        let id = SessionId::generate().expose();
        // Sealed under another name: the name is authenticated too.
        let sealed = ours
            .get("/")
            .private_cookie(Cookie::new("other", id.clone()))
            .inner()
            .cookies()
            .get("other")
            .map(|cookie| cookie.value().to_owned())
            .expect("sealed");
        assert_eq!(
            answer(&ours, Cookie::new(NAME, sealed.clone()), false),
            "unreadable"
        );
        let mut altered = sealed.into_bytes();
        altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).expect("ascii");
        assert_eq!(
            answer(&ours, Cookie::new(NAME, altered), false),
            "unreadable"
        );
        assert_eq!(answer(&ours, Cookie::new(NAME, id), false), "unreadable");
        let other_key = client(KEYS[2]);
        let foreign = other_key
            .get("/")
            .private_cookie(Cookie::new(NAME, SessionId::generate().expose()))
            .inner()
            .cookies()
            .get(NAME)
            .map(|cookie| cookie.value().to_owned())
            .expect("sealed");
        assert_eq!(
            answer(&ours, Cookie::new(NAME, foreign), false),
            "unreadable"
        );
        assert_eq!(answer(&ours, Cookie::new("unrelated", "x"), false), "none");
    }

    #[test]
    fn leaves_keys_it_cannot_prove_equal_to_rocket() {
        let bytes = rocket::Config::figment().merge(("secret_key", vec![7u8; 64]));
        assert!(CookieOpener::from_figment(&bytes).cipher.is_none());
        assert!(CookieOpener::from_figment(&rocket::Config::figment())
            .cipher
            .is_none());
    }
}
