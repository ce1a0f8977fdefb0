//! Who is calling the API, decided before any route logic, as the course's
//! `before_request` does: no credentials at all -> 401; credentials that resolve to no
//! user -> 403; else the request runs as that user. Public paths skip the check.
//! Under session authentication an `Authorization: Bearer <token>` header is accepted in
//! place of the cookie (see `tokens`).

use std::borrow::Cow;

use base64::Engine;
use rocket::http::{Method, Status};
use rocket::request::{FromRequest, Outcome, Request};

use crate::auth::{Auth, CredentialCheck};
use crate::config::{AuthType, Settings};
use crate::errors::AppError;
use crate::telemetry::Via;
use crate::throttle::{ClientAddr, Gate, RetryAfter, Throttle};
use crate::tokens::{self, Tokens};
use crate::users::User;
use crate::web::guards::current_session;

/// Paths that need no authentication, matched exactly: the `TrailingSlash` fairing has
/// already removed the one trailing slash the course allows, so `status//` stays private.
const PUBLIC_PATHS: [&str; 5] = [
    "/api/v1/status",
    "/api/v1/unauthorized",
    "/api/v1/forbidden",
    "/api/v1/auth_session/login",
    "/api/v1/auth_token/login",
];

pub fn is_public(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path)
}

/// The authenticated user, or `None` on public paths and when `AUTH_TYPE` is unset.
/// Borrowed from the request's caches, so each credential is checked once per request.
pub struct ApiCaller<'r>(pub Option<&'r User>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ApiCaller<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        match decide(request).await {
            Ok(caller) => Outcome::Success(ApiCaller(caller)),
            Err(status) => Outcome::Error((status, ())),
        }
    }
}

/// Basic auth's verdict, decided once per request (an argon2 verification).
struct BasicAuthCaller(Result<User, Status>);

/// The user a bearer token names, decided once per request.
struct TokenCaller(Result<Option<User>, Status>);

/// Who the request runs as. Only the costly steps are cached in the request (the session
/// guard caches its own lookup), so a session request pays for one cache entry, not two.
async fn decide<'r>(request: &'r Request<'_>) -> Result<Option<&'r User>, Status> {
    let rocket = request.rocket();
    let (Some(settings), Some(auth)) = (rocket.state::<Settings>(), rocket.state::<Auth>()) else {
        return Err(Status::InternalServerError);
    };
    // A browser tells us when another origin made it send this request. Refusing such
    // state-changing calls stops cross-site login, signup or logout through the API,
    // which has no CSRF token to check (curl and course clients never send the header).
    if !matches!(
        request.method(),
        Method::Get | Method::Head | Method::Options
    ) && super::forgery::is_from_another_origin(request)
    {
        return Err(Status::Forbidden);
    }
    if is_public(request.uri().path().as_str()) {
        return Ok(None);
    }
    let authorization = authorization(request);
    // Asked only when the answer is a refusal: a live session needs no second lookup.
    let no_credentials =
        || authorization.is_none() && request.cookies().get(&settings.session_name).is_none();
    match settings.auth_type {
        AuthType::None => Ok(None),
        AuthType::BasicAuth if no_credentials() => Err(Status::Unauthorized),
        // Boxed, as is the token check below: their futures (an argon2 verification, a
        // user lookup) are large, and inline they would make every session request's
        // guard future that large too, to be moved and copied on each request.
        AuthType::BasicAuth => {
            let verdict = request
                .local_cache_async(async {
                    BasicAuthCaller(Box::pin(basic_auth_caller(request, auth, authorization)).await)
                })
                .await;
            verdict.0.as_ref().map(Some).map_err(|status| *status)
        }
        AuthType::SessionAuth | AuthType::SessionExpAuth | AuthType::SessionDbAuth => {
            // A bearer token that verifies stands in for the cookie. One that does not is
            // no credential: the cookie (the course's only one here) still decides, so a
            // bad token alone gets the same 403 as a dead session.
            if let Some(token) = authorization.and_then(tokens::bearer) {
                let verdict = request
                    .local_cache_async(async {
                        TokenCaller(Box::pin(token_user(request, auth, token)).await)
                    })
                    .await;
                if let Some(user) = verdict.0.as_ref().map_err(|status| *status)? {
                    return Ok(Some(user));
                }
            }
            match current_session(request).await? {
                Some(current) => Ok(Some(&current.user)),
                None if no_credentials() => Err(Status::Unauthorized),
                None => Err(Status::Forbidden),
            }
        }
    }
}

/// The `Authorization` header, found by walking the request's few headers: Rocket's
/// `get_one` hashes the name with SipHash a byte at a time, ~800 instructions on every
/// API request (callgrind), several times what the walk costs.
fn authorization<'r>(request: &'r Request<'_>) -> Option<&'r str> {
    let header = request
        .headers()
        .iter()
        .find(|header| header.name.as_str().eq_ignore_ascii_case("Authorization"))?;
    match header.value {
        Cow::Borrowed(value) => Some(value),
        // Rocket lends its values today; should that change, its own lookup answers.
        Cow::Owned(_) => request.headers().get_one("Authorization"),
    }
}

/// The user that `Authorization: Basic` credentials name, checked as a login is.
async fn basic_auth_caller(
    request: &Request<'_>,
    auth: &Auth,
    authorization: Option<&str>,
) -> Result<User, Status> {
    let (email, password) = authorization
        .and_then(parse_basic)
        .ok_or(Status::Forbidden)?;
    let Some(throttle) = request.rocket().state::<Throttle>() else {
        return Err(Status::InternalServerError);
    };
    let gate = Gate {
        throttle,
        client: ClientAddr::of(request, throttle.trusted()),
    };
    match auth
        .authenticate(&gate, &email, &password, Via::BasicAuth)
        .await
    {
        Ok(CredentialCheck::Valid(user)) => Ok(user),
        Ok(_) => Err(Status::Forbidden),
        Err(AppError::Throttled { retry_after }) => {
            // The 429 catcher answers; this gives it the `Retry-After` value.
            request.local_cache(|| RetryAfter(retry_after));
            Err(Status::TooManyRequests)
        }
        Err(error) => Err(error.status()),
    }
}

/// The user a bearer token names; `None` for a tampered, expired, wrongly signed or
/// revoked token, or one whose user no longer exists.
async fn token_user(
    request: &Request<'_>,
    auth: &Auth,
    token: &str,
) -> Result<Option<User>, Status> {
    let Some(tokens) = request.rocket().state::<Tokens>() else {
        return Err(Status::InternalServerError);
    };
    let Some(claims) = tokens.verify(token) else {
        return Ok(None);
    };
    let Ok(id) = uuid::Uuid::try_parse(&claims.sub) else {
        return Ok(None);
    };
    auth.user_by_id(id)
        .await
        .map_err(|error| AppError::from(error).status())
}

/// `Basic base64(email:password)` (RFC 7617). The password may contain `:`, so the split
/// is at the first one. `None` for any other scheme or malformed credentials.
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (email, password) = text.split_once(':')?;
    Some((email.to_owned(), password.to_owned()))
}
