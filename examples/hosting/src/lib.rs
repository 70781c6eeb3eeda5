//! Hosting: the application (`globals`), its websites and their domains.
pub fn app() -> aps::App {
    aps::app!()
}
