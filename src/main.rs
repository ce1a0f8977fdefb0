#[rocket::launch]
fn rocket() -> _ {
    latchkey::rocket()
}
