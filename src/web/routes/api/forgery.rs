//! Request forgery defences for the API. Its calls carry no CSRF token (course clients
//! could not send one), and `SameSite=Lax` stops only other *sites*: a page on a sibling
//! subdomain or another port of the same host is the same site, so the browser sends the
//! session cookie with its form posts. Three rules close that:
//!
//! - a state-changing request a browser sends must come from this origin: a
//!   `Sec-Fetch-Site` header, when present, must be `same-origin` or `none` (typed or
//!   bookmarked); `same-site` and `cross-site` are refused with 403 (the Fetch Metadata
//!   resource isolation policy, as web.dev and OWASP's CSRF cheat sheet describe it).
//!   curl and course clients send no such header and are unaffected;
//! - no method override: Rocket turns a urlencoded `POST` whose body starts with
//!   `_method=DELETE` into a `DELETE`, which lets a plain HTML form reach the API's
//!   `DELETE` and `PUT` routes; under `/api` the request keeps the method it was sent with;
//! - JSON bodies only as `application/json` (in `users.rs`): a cross-site form can send
//!   `text/plain`, never `application/json` without a CORS preflight.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::form::Form;
use rocket::http::Method;
use rocket::{Data, Request};

/// Does the browser say another origin made it send this request? Callers refuse
/// state-changing requests for which it does.
pub fn is_from_another_origin(request: &Request<'_>) -> bool {
    !request
        .headers()
        .get("Sec-Fetch-Site")
        .all(|site| ["same-origin", "none"].contains(&site.trim()))
}

/// How much of the body Rocket reads to find `_method` (so `_method=options`, one byte
/// longer, never overrides); the same bytes are read here to repeat its decision exactly.
const OVERRIDE_PEEK: usize = "_method=delete".len();

/// Undoes Rocket's `_method` override under `/api` (see the module documentation).
///
/// Rocket rewrites the method before any fairing runs and keeps no record of the one
/// sent, so this repeats Rocket's own test (a urlencoded body whose first field is
/// `_method` naming the current method): such a request was sent as a `POST`. A client
/// that really sent, say, `DELETE` with a `_method=delete` form body is also answered as
/// a `POST`, which no API route takes (405), and nothing changes.
pub struct NoMethodOverride;

#[rocket::async_trait]
impl Fairing for NoMethodOverride {
    fn info(&self) -> Info {
        Info {
            name: "API: no method override",
            kind: Kind::Request,
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, data: &mut Data<'_>) {
        let path = request.uri().path();
        let under_api = path == "/api" || path.starts_with("/api/");
        let method = request.method();
        let is_form = request.content_type().is_some_and(|ct| ct.is_form());
        if !under_api || method == Method::Post || !is_form {
            return;
        }
        let overridden = std::str::from_utf8(data.peek(OVERRIDE_PEEK).await)
            .ok()
            .and_then(|raw| Form::values(raw).next())
            .filter(|field| field.name == "_method")
            .and_then(|field| field.value.parse::<Method>().ok());
        if overridden == Some(method) {
            request.set_method(Method::Post);
        }
    }
}
