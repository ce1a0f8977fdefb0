//! The "How it works" log is open to anyone (any browser may start recording), so its
//! memory is bounded whatever is sent: every recorded field is cut to a fixed length and
//! the whole log stays within a fixed budget of accounted bytes.

use crate::support::*;
use latchkey::web::exchange_log::{ExchangeLog, MAX_BROWSERS, MEMORY_BUDGET};
use rocket::http::{Cookie, Method, Status};
use rocket::local::asynchronous::LocalRequest;

const TRACE_COOKIE: &str = "latchkey_trace";
const RECORDING_BROWSERS: usize = 200;
const REQUESTS_PER_BROWSER: usize = 12;
/// About 390 KB, as a hostile client would send in a name, a value or a path.
const HUGE: usize = 390 * 1024;
/// Far over every field's cut, and quicker to send 2,400 times.
const LARGE: usize = 8 * 1024;

fn log(app: &TestApp) -> &ExchangeLog {
    app.client
        .rocket()
        .state::<ExchangeLog>()
        .expect("the exchange log is managed")
}

/// A GET with a `size`-byte path, a cookie with a `size`-byte name and value, and many
/// small cookies (only a fixed number is listed).
fn oversized_request<'a>(browser: &Browser<'a>, size: usize, n: usize) -> LocalRequest<'a> {
    let path = format!("/{}", "p".repeat(size));
    let mut cookies = vec![
        Cookie::new(format!("{}{n}", "n".repeat(size)), "v".repeat(size)),
        Cookie::new("small", "v".repeat(size)),
    ];
    cookies.extend((0..30).map(|i| Cookie::new(format!("c{i}"), "x")));
    browser.request(Method::Get, &path).cookies(cookies)
}

#[rocket::async_test]
async fn oversized_requests_from_many_recording_browsers_stay_within_the_budget() {
    let app = spawn_app().await;
    let mut browsers = Vec::new();
    for _ in 0..RECORDING_BROWSERS {
        let browser = app.browser();
        browser.get("/how-it-works").await;
        assert!(browser.cookie(TRACE_COOKIE).is_some());
        browsers.push(browser);
    }
    // Every browser fills its log with requests whose fields are far over every cut;
    // a few send ~390 KB names, values and paths.
    for (i, browser) in browsers.iter().enumerate() {
        let size = if i % 70 == 0 { HUGE } else { LARGE };
        for n in 0..REQUESTS_PER_BROWSER {
            let reply = browser.send(oversized_request(browser, size, n)).await;
            assert_eq!(reply.status, Status::NotFound);
        }
    }

    let accounted = log(&app).accounted_bytes();
    assert!(accounted > 0, "nothing was recorded");
    assert!(
        accounted <= MEMORY_BUDGET,
        "the log holds {accounted} bytes, over its budget of {MEMORY_BUDGET}"
    );
    assert!(log(&app).browsers() <= MAX_BROWSERS);
    // Pages still answer, and a browser's own log is small and readable.
    for browser in [&browsers[RECORDING_BROWSERS - 1], &browsers[140]] {
        let page = browser.get("/how-it-works").await;
        assert_eq!(page.status, Status::Ok);
        assert!(page.body.len() < 100 * 1024, "{} bytes", page.body.len());
        let body = html_unescape(&page.body);
        assert_contains(&body, "GET /ppp");
        assert_contains(&body, "and 20 more");
        assert_not_contains(&body, &"p".repeat(1000));
        assert_not_contains(&body, &"n".repeat(1000));
    }
    assert_eq!(app.browser().get("/health").await.status, Status::Ok);
    assert_eq!(app.browser().get("/").await.status, Status::Ok);
}
