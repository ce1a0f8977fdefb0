//! Request guards: who is asking. The session and its user are resolved once per request
//! (request-local cache) whichever guards ask.

use std::sync::Arc;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;

use crate::auth::Auth;
use crate::config::Settings;
use crate::sessions::{cookie, SessionId, SessionRecord};
use crate::users::User;

/// A logged-in person: the user and the live session the request came with.
/// Routes that take it are skipped (forwarded with 401) for anonymous requests, so a
/// `rank = 2` fallback can send them to the login page.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Shared with the user cache: read on every request, copied by none.
    pub user: Arc<User>,
    pub session: SessionRecord,
    pub id: SessionId,
}

impl CurrentUser {
    /// CSRF token for this session's forms.
    pub fn csrf_token(&self) -> String {
        self.id.csrf_token()
    }
}

/// For pages that adapt: `Some` when logged in, `None` when anonymous. Unlike a plain
/// `Option<CurrentUser>`, a failing session store is an error (503), not "anonymous".
pub struct MaybeUser(pub Option<CurrentUser>);

/// The outcome of looking the session up, cached per request.
enum Resolution {
    Anonymous,
    /// Anonymous, and the session cookie sent was dead or unreadable: the answer tells the
    /// browser to forget it.
    Forgotten,
    User(CurrentUser),
    /// The store or database failed; the status is what the request should get.
    Failed(Status),
}

async fn resolve(request: &Request<'_>) -> Resolution {
    let (Some(auth), Some(settings)) = (
        request.rocket().state::<Auth>(),
        request.rocket().state::<Settings>(),
    ) else {
        return Resolution::Failed(Status::InternalServerError);
    };
    let jar = request.cookies();
    let Some(id) = auth.session_id(jar, settings) else {
        if jar.get(&settings.session_name).is_some() {
            // Sent but unreadable (tampered, another key, not one of our ids): as useless
            // as an expired one, so the browser is told to forget it the same way.
            cookie::clear(jar, settings);
            return Resolution::Forgotten;
        }
        return Resolution::Anonymous;
    };
    match auth.resolve(&id).await {
        Ok(Some((user, session))) => Resolution::User(CurrentUser { user, session, id }),
        Ok(None) => {
            // Expired, ended or revoked: tell the browser to forget the dead cookie.
            cookie::clear(jar, settings);
            Resolution::Forgotten
        }
        Err(error) => {
            let status = error.status();
            tracing::error!("resolving the session failed: {error}");
            Resolution::Failed(status)
        }
    }
}

async fn cached<'r>(request: &'r Request<'_>) -> &'r Resolution {
    // Boxed: passed by value, the lookup's future would be copied into every future that
    // awaits this one (each guard's, the API caller's), and moved with each of them.
    request.local_cache_async(Box::pin(resolve(request))).await
}

/// The logged-in person if a guard (or [`current_session`]) already resolved the session
/// for this request; `None` otherwise. Never does I/O, so sync code such as error
/// responders can use it.
pub fn resolved_viewer(request: &Request<'_>) -> Option<CurrentUser> {
    match request.local_cache(|| Resolution::Anonymous) {
        Resolution::User(current) => Some(current.clone()),
        _ => None,
    }
}

/// Sets again the removal of a dead session cookie that a guard already asked for.
/// Rocket starts an error answer's cookies afresh (what guards set is dropped before the
/// catcher runs), so without this a refused API call or a failed form would leave the
/// browser sending the dead cookie on every request. Never does I/O.
pub fn forget_dead_cookie_again(request: &Request<'_>) {
    if let (Resolution::Forgotten, Some(settings)) = (
        request.local_cache(|| Resolution::Anonymous),
        request.rocket().state::<Settings>(),
    ) {
        cookie::clear(request.cookies(), settings);
    }
}

/// The request's session, for guards built on top of this one (the API's).
///
/// # Errors
/// The status to answer with when the store or database failed.
pub async fn current_session<'r>(
    request: &'r Request<'_>,
) -> Result<Option<&'r CurrentUser>, Status> {
    match cached(request).await {
        Resolution::User(current) => Ok(Some(current)),
        Resolution::Anonymous | Resolution::Forgotten => Ok(None),
        Resolution::Failed(status) => Err(status.to_owned()),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        <&CurrentUser>::from_request(request)
            .await
            .map(Clone::clone)
    }
}

/// The same, borrowed from the request's cache: for pages that only read it.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r CurrentUser {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        match cached(request).await {
            Resolution::User(current) => Outcome::Success(current),
            Resolution::Anonymous | Resolution::Forgotten => Outcome::Forward(Status::Unauthorized),
            Resolution::Failed(status) => Outcome::Error((status.to_owned(), ())),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MaybeUser {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        match cached(request).await {
            Resolution::User(current) => Outcome::Success(MaybeUser(Some(current.clone()))),
            Resolution::Anonymous | Resolution::Forgotten => Outcome::Success(MaybeUser(None)),
            Resolution::Failed(status) => Outcome::Error((status.to_owned(), ())),
        }
    }
}

/// The browser's User-Agent header, if any.
pub struct UserAgent(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for UserAgent {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(UserAgent(
            request.headers().get_one("User-Agent").map(str::to_owned),
        ))
    }
}

/// Settings as a guard that cannot fail in practice (they are managed at ignite).
pub type Config<'r> = &'r State<Settings>;
