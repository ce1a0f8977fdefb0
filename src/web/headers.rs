//! Security headers on every response, and caching rules: only static files that were
//! served may be cached; nothing dynamic (errors included) is ever stored
//! by a browser or proxy (OWASP Session Management: `Cache-Control: no-store` wherever
//! user data or session state may appear), so the back button after logout shows nothing.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Header, Status};
use rocket::shield::Shield;
use rocket::{Request, Response};

/// Sent with every response, as fixed strings.
const EVERY_RESPONSE: [(&str, &str); 6] = [
    // `default-src 'self'`: no inline scripts or styles, no third-party origins.
    (
        "Content-Security-Policy",
        "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; \
         frame-ancestors 'none'",
    ),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "interest-cohort=()"),
];

/// Rocket attaches its Shield unless one is attached: this one has no policies, because
/// [`SecurityHeaders`] sends the same headers (and more) from fixed strings, where Shield
/// would build its Permissions-Policy anew for every response.
pub fn shield() -> Shield {
    Shield::new()
}

/// The security headers and the caching rule, on every response.
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
        for (name, value) in EVERY_RESPONSE {
            response.set_header(Header::new(name, value));
        }
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
