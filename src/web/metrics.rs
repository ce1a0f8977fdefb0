//! `/metrics` in the Prometheus text format (the counters live in `crate::metrics`).
//!
//! Who may read them: clients on the loopback interface that did not come through a
//! proxy, and anyone presenting `Authorization: Bearer <metrics_token>` when that setting
//! is set. Everyone else gets the same 404 as for any unknown path: the numbers say how
//! busy the service is and how many logins fail, which is nobody else's business.

use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{get, routes, Route};
use subtle::ConstantTimeEq;

use crate::config::Settings;
use crate::metrics::render;

/// Headers a reverse proxy adds. A loopback peer that sent one is a proxy relaying
/// someone else, who is not thereby trusted.
const FORWARDING_HEADERS: [&str; 3] = ["X-Real-IP", "X-Forwarded-For", "Forwarded"];

/// Proof that this request may read the metrics.
pub struct MetricsReader;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MetricsReader {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let token = request
            .rocket()
            .state::<Settings>()
            .map(|settings| settings.metrics_token.0.as_str())
            .unwrap_or_default();
        if !token.is_empty() {
            let presented = request
                .headers()
                .get_one("Authorization")
                .and_then(|value| value.strip_prefix("Bearer "))
                .unwrap_or_default();
            if bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
                return Outcome::Success(MetricsReader);
            }
        }
        let direct_loopback = request.remote().is_some_and(|peer| peer.ip().is_loopback())
            && FORWARDING_HEADERS
                .iter()
                .all(|name| !request.headers().contains(*name));
        if direct_loopback {
            Outcome::Success(MetricsReader)
        } else {
            Outcome::Error((Status::NotFound, ()))
        }
    }
}

/// `GET /metrics`, guarded by [`MetricsReader`].
pub fn routes() -> Vec<Route> {
    routes![metrics]
}

#[get("/metrics")]
fn metrics(_reader: MetricsReader) -> (ContentType, String) {
    let text_format =
        ContentType::new("text", "plain").with_params([("version", "0.0.4"), ("charset", "utf-8")]);
    (text_format, render())
}
