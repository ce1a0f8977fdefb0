pub mod account;
pub mod api;
pub mod catchers;
pub mod inspect;
pub mod pages;
mod redirect;
pub mod tamper;
pub mod tokens;

pub use redirect::safe_next;
