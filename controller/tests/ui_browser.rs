//! The panel in a real headless Chromium: a wrong value refused beside its field, and markup
//! from a property shown as text. (The demo driven through the panel is tested in
//! `examples/async-provisioning/tests/panel.rs`.) Screenshots are kept in
//! `target/ui-screenshots/`.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod ui_support;

use aps_test_support::browser::{Browser, Locator};
use ui_support::notes_controller;

/// WebDriver's Enter key.
const ENTER: &str = "\u{E007}";

#[tokio::test]
async fn a_wrong_value_shows_beside_its_field_and_markup_stays_text() {
    let c = notes_controller().await;
    let Some(browser) = Browser::start(&c.controller().url()).await else {
        return;
    };
    browser
        .open(&format!("/ui/applications/{}", c.application()))
        .await;
    browser.click("a[href$='/create/note']").await;
    let labelled = "return [...document.querySelectorAll('input:not([type=hidden]), select, \
                    textarea')].every(e => document.querySelector(`label[for=\"${e.id}\"]`));";
    assert_eq!(browser.run(labelled).await, true, "every field has a label");
    let field = |name: &'static str| {
        let client = browser.client.clone();
        async move {
            client
                .find(Locator::Css(&format!("[name='p.{name}']")))
                .await
                .unwrap()
        }
    };
    let hostile = "<script>window.pwned = 1</script><b>bold</b>";
    field("title").await.send_keys(hostile).await.unwrap();
    let pages = field("pages").await;
    pages.clear().await.unwrap();
    // Submitted from the keyboard.
    pages.send_keys(&format!("many{ENTER}")).await.unwrap();
    let error = browser.wait_text("#field-1-error", |s| !s.is_empty()).await;
    assert_eq!(error, "pages must be a whole number (integer), not “many”");
    assert_eq!(
        browser
            .run("return document.getElementById('field-1').getAttribute('aria-invalid');")
            .await,
        "true"
    );
    assert_eq!(
        field("title").await.prop("value").await.unwrap().unwrap(),
        hostile
    );
    browser.screenshot("form-error").await;

    let pages = field("pages").await;
    pages.clear().await.unwrap();
    pages.send_keys(&format!("2{ENTER}")).await.unwrap();
    browser
        .wait_text("[data-field=state]", |s| s == "success")
        .await;
    browser.click("a[href^='/ui/resources/']").await;
    let shown = browser.run(
        "return [...document.querySelectorAll('.properties dt')].find(d => d.textContent.startsWith('title')).nextElementSibling.textContent;",
    ).await;
    assert_eq!(shown, hostile, "the markup is shown as text");
    assert_eq!(
        browser.run("return typeof window.pwned;").await,
        "undefined"
    );
    assert_eq!(
        browser
            .run("return document.querySelectorAll('.properties b').length;")
            .await,
        0
    );
    browser.screenshot("resource-escaped").await;
    browser.quit().await;
}
