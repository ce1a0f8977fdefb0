pub mod api;
pub mod catchers;
pub mod pages;
mod redirect;

pub use redirect::safe_next;
