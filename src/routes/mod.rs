//! The pages, one module each, every module exposing `routes()`.

pub mod account;
pub mod auth;
pub mod color;
pub mod compare;
pub mod cookie_edit;
pub mod exercises;
pub mod favicon;
pub mod guide;
pub mod health;
pub mod home;
pub mod inspector;
pub mod labs;
pub mod notes;
pub mod sessions;
pub mod teacher;

pub fn routes() -> Vec<rocket::Route> {
    [
        home::routes(),
        color::routes(),
        notes::routes(),
        inspector::routes(),
        cookie_edit::routes(),
        health::routes(),
        auth::routes(),
        account::routes(),
        sessions::routes(),
        labs::routes(),
        compare::routes(),
        exercises::routes(),
        favicon::routes(),
        guide::routes(),
        teacher::routes(),
    ]
    .concat()
}
