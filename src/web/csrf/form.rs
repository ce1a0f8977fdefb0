//! The data guards that check a form's CSRF token before its handler runs, so a
//! state-changing page route cannot forget it: it takes its form through one of these
//! or gets no form at all.

use std::ops::Deref;

use rocket::data::{self, Data, FromData, Limits};
use rocket::form::{self, DataField, Form, FromForm, Options, ValueField};
use rocket::http::{RawStr, Status};
use rocket::outcome::Outcome;
use rocket::request::Request;

use super::{mark_rejected, matches, AnonCsrf};
use crate::web::guards::current_session;

/// Why a form guard refused a request. Holds no submitted value, so logging it (Rocket
/// logs failed guards) never writes a password or token.
#[derive(Debug)]
pub enum FormRefused {
    /// Missing, wrong, expired or already used token (403).
    Csrf,
    /// Larger than the `form` limit (413).
    TooLarge,
    /// Not UTF-8, or unreadable (400).
    Unreadable,
    /// The fields do not make the form (422).
    Invalid,
    /// The session could not be looked up (the store's status, e.g. 503).
    SessionUnavailable,
}

/// A form `T` from a page that the person's own page sent: logged in, the session's
/// token; logged out, the anonymous double-submit pair.
pub struct CsrfForm<T>(T);

/// A form `T` from an anonymous page (login, signup): always the anonymous pair, even
/// when the browser carries a session cookie (one planted by someone else must not stop
/// a login, which replaces it).
pub struct AnonCsrfForm<T>(T);

/// A form with no field but its token (a button such as "Log out").
pub struct TokenOnly;

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> AnonCsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for CsrfForm<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Deref for AnonCsrfForm<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The only field the guards read themselves.
#[derive(rocket::FromForm)]
struct TokenField {
    csrf_token: Option<String>,
}

type Refusal = (Status, FormRefused);

/// The body as a `x-www-form-urlencoded` string. Any other body cannot carry a token
/// we read, so it is refused as one without a token.
async fn read_form(request: &Request<'_>, data: Data<'_>) -> Result<String, Refusal> {
    if !request.content_type().is_some_and(|ct| ct.is_form()) {
        mark_rejected(request);
        return Err((Status::Forbidden, FormRefused::Csrf));
    }
    let limit = request.limits().get("form").unwrap_or(Limits::FORM);
    match data.open(limit).into_string().await {
        Ok(body) if body.is_complete() => Ok(body.into_inner()),
        Ok(_) => Err((Status::PayloadTooLarge, FormRefused::TooLarge)),
        Err(_) => Err((Status::BadRequest, FormRefused::Unreadable)),
    }
}

fn submitted_token(body: &str) -> Option<String> {
    Form::<TokenField>::parse_encoded(RawStr::new(body))
        .ok()
        .and_then(|field| field.csrf_token)
}

fn parse<T: for<'a> FromForm<'a> + 'static>(body: &str) -> Result<T, Refusal> {
    Form::<T>::parse_encoded(RawStr::new(body))
        .map_err(|_| (Status::UnprocessableEntity, FormRefused::Invalid))
}

fn refused<'r, S>(request: &Request<'_>) -> data::Outcome<'r, S, FormRefused> {
    mark_rejected(request);
    Outcome::Error((Status::Forbidden, FormRefused::Csrf))
}

#[rocket::async_trait]
impl<'r, T: for<'a> FromForm<'a> + Send + 'static> FromData<'r> for CsrfForm<T> {
    type Error = FormRefused;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let body = match read_form(request, data).await {
            Ok(body) => body,
            Err(refusal) => return Outcome::Error(refusal),
        };
        let submitted = submitted_token(&body);
        let valid = match current_session(request).await {
            Ok(Some(current)) => matches(&current.csrf_token(), submitted.as_deref()),
            Ok(None) => AnonCsrf::of(request).redeem(request, submitted.as_deref()),
            Err(status) => return Outcome::Error((status, FormRefused::SessionUnavailable)),
        };
        if !valid {
            return refused(request);
        }
        match parse(&body) {
            Ok(form) => Outcome::Success(CsrfForm(form)),
            Err(refusal) => Outcome::Error(refusal),
        }
    }
}

#[rocket::async_trait]
impl<'r, T: for<'a> FromForm<'a> + Send + 'static> FromData<'r> for AnonCsrfForm<T> {
    type Error = FormRefused;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let body = match read_form(request, data).await {
            Ok(body) => body,
            Err(refusal) => return Outcome::Error(refusal),
        };
        let submitted = submitted_token(&body);
        if !AnonCsrf::of(request).redeem(request, submitted.as_deref()) {
            return refused(request);
        }
        match parse(&body) {
            Ok(form) => Outcome::Success(AnonCsrfForm(form)),
            Err(refusal) => Outcome::Error(refusal),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromForm<'r> for TokenOnly {
    type Context = ();

    fn init(_: Options) {}

    fn push_value(_: &mut (), _: ValueField<'r>) {}

    async fn push_data(_: &mut (), _: DataField<'r, '_>) {}

    fn finalize(_: ()) -> form::Result<'r, Self> {
        Ok(TokenOnly)
    }
}
