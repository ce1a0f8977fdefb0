//! Security headers on every response, and caching rules: only static files that were
//! served may be cached; nothing dynamic (errors included) is ever stored
//! by a browser or proxy (OWASP Session Management: `Cache-Control: no-store` wherever
//! user data or session state may appear), so the back button after logout shows nothing.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Header, Status};
use rocket::shield::{Frame, NoSniff, Referrer, Shield};
use rocket::{Request, Response};

/// `default-src 'self'`: no inline scripts or styles, no third-party origins.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; base-uri 'none'; object-src 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Rocket's Shield sets the standard headers: `X-Content-Type-Options: nosniff`,
/// `X-Frame-Options: DENY`, `Referrer-Policy: same-origin` and a Permissions-Policy.
pub fn shield() -> Shield {
    Shield::default()
        .enable(NoSniff::Enable)
        .enable(Frame::Deny)
        .enable(Referrer::SameOrigin)
}

/// What Shield does not cover: CSP, COOP and caching.
pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        response.set_header(Header::new(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY,
        ));
        response.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        // Only a static file actually served (or confirmed unchanged: a bodiless 304)
        // may be shared: any other answer under /static (a 404 page shows who is logged
        // in and their CSRF token) is as private as every page (web cache deception).
        let status = response.status();
        let served_static_file = (status.class().is_success() || status == Status::NotModified)
            && request.uri().path().starts_with("/static/");
        let cache = if served_static_file {
            "public, max-age=3600"
        } else {
            "no-store"
        };
        response.set_header(Header::new("Cache-Control", cache));
    }
}
