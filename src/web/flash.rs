//! Flash messages (the one-line notice after a redirect), read safely.
//!
//! Rocket's `FlashMessage` guard slices the `_flash` cookie at a length the cookie
//! itself states, and panics when that length falls inside a UTF-8 character
//! (`_flash=3:ééx`): a 500, and a panic message carrying the cookie. The cookie comes
//! from the browser, so anyone can send that. [`PageFlash`] checks the cookie first:
//! a malformed one is ignored and removed, never parsed, never logged.

use rocket::request::{FlashMessage, FromRequest, Outcome, Request};

/// Rocket's flash cookie: `<length of the kind>:<kind><message>`.
pub const FLASH_COOKIE: &str = crate::config::FLASH_COOKIE;

/// The flash message for a page, if the browser carries a well-formed one. Pages take
/// this instead of `Option<FlashMessage>`.
pub struct PageFlash<'r>(Option<FlashMessage<'r>>);

impl<'r> PageFlash<'r> {
    pub fn into_inner(self) -> Option<FlashMessage<'r>> {
        self.0
    }

    pub fn is_some(&self) -> bool {
        self.0.is_some()
    }
}

/// Would Rocket's parser read this value without panicking or failing?
fn well_formed(value: &str) -> bool {
    let Some((length, rest)) = value.split_once(':') else {
        return false;
    };
    length
        .parse::<usize>()
        .is_ok_and(|kind_len| rest.is_char_boundary(kind_len))
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for PageFlash<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let jar = request.cookies();
        match jar.get(FLASH_COOKIE) {
            None => return Outcome::Success(PageFlash(None)),
            Some(cookie) if !well_formed(cookie.value()) => {
                jar.remove(FLASH_COOKIE);
                return Outcome::Success(PageFlash(None));
            }
            Some(_) => {}
        }
        let flash = request
            .guard::<Option<FlashMessage<'r>>>()
            .await
            .succeeded()
            .flatten();
        Outcome::Success(PageFlash(flash))
    }
}
