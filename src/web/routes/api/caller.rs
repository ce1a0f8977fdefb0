//! Who is calling the API, decided before any route logic, as the course's
//! `before_request` does: no credentials at all -> 401; credentials that resolve to no
//! user -> 403; else the request runs as that user. Public paths skip the check.
//! Under session authentication an `Authorization: Bearer <token>` header is accepted in
//! place of the cookie (see `tokens`).

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
/// Borrowed from the request, where it was decided once.
pub struct ApiCaller<'r>(pub Option<&'r User>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ApiCaller<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let decided = request.local_cache_async(decide(request)).await;
        match decided {
            Ok(Caller::Nobody) => Outcome::Success(ApiCaller(None)),
            Ok(Caller::Credentials(user)) => Outcome::Success(ApiCaller(Some(user))),
            Ok(Caller::Session) => match current_session(request).await {
                Ok(Some(current)) => Outcome::Success(ApiCaller(Some(&current.user))),
                Ok(None) => Outcome::Error((Status::Forbidden, ())),
                Err(status) => Outcome::Error((status, ())),
            },
            Err(status) => Outcome::Error((*status, ())),
        }
    }
}

/// Who the request runs as, decided once per request.
enum Caller {
    /// A public path, or no authentication at all (`AUTH_TYPE` unset).
    Nobody,
    /// Basic auth or a bearer token named this user.
    Credentials(User),
    /// The session cookie's user, already in the request's session cache (not copied).
    Session,
}

async fn decide(request: &Request<'_>) -> Result<Caller, Status> {
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
        return Ok(Caller::Nobody);
    }
    let authorization = request.headers().get_one("Authorization");
    // Asked only when the answer is a refusal: a live session needs no second lookup.
    let no_credentials =
        || authorization.is_none() && request.cookies().get(&settings.session_name).is_none();
    match settings.auth_type {
        AuthType::None => Ok(Caller::Nobody),
        AuthType::BasicAuth if no_credentials() => Err(Status::Unauthorized),
        // Boxed, as is the token check below: their futures (an argon2 verification, a
        // user lookup) are large, and inline they would make every session request's
        // guard future that large too, to be moved and copied on each request.
        AuthType::BasicAuth => Box::pin(basic_auth_caller(request, auth, authorization)).await,
        AuthType::SessionAuth | AuthType::SessionExpAuth | AuthType::SessionDbAuth => {
            // A bearer token that verifies stands in for the cookie. One that does not is
            // no credential: the cookie (the course's only one here) still decides, so a
            // bad token alone gets the same 403 as a dead session.
            if let Some(token) = authorization.and_then(tokens::bearer) {
                if let Some(user) = Box::pin(token_user(request, auth, token)).await? {
                    return Ok(Caller::Credentials(user));
                }
            }
            match current_session(request).await? {
                Some(_) => Ok(Caller::Session),
                None if no_credentials() => Err(Status::Unauthorized),
                None => Err(Status::Forbidden),
            }
        }
    }
}

/// The user that `Authorization: Basic` credentials name, checked as a login is.
async fn basic_auth_caller(
    request: &Request<'_>,
    auth: &Auth,
    authorization: Option<&str>,
) -> Result<Caller, Status> {
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
        Ok(CredentialCheck::Valid(user)) => Ok(Caller::Credentials(user)),
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
