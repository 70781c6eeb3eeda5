//! The controller's web panel driving the demo, in a real headless Chromium: provisioning
//! watched live and a running task canceled. Screenshots of the pages are kept in
//! `target/ui-screenshots/`.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::time::Duration;

use aps::testkit::{self, ControllerBuilder, TestController};
use aps_test_support::browser::{Browser, Locator};
use async_provisioning::Coin;

/// A seed whose coin says "still provisioning" once, then "done".
fn heads_then_tails() -> u64 {
    (0..)
        .find(|seed| {
            let coin = Coin::new(Some(*seed));
            coin.flip() && !coin.flip()
        })
        .unwrap()
}

async fn demo_controller(time_scale: f64) -> TestController {
    let app = async_provisioning::app(Some(heads_then_tails()));
    let builder = ControllerBuilder::default().time_scale(time_scale);
    testkit::start_with(&app, builder).await.unwrap()
}

/// From the application page, through the Create form of `provisionable`, to the new task.
async fn create_provisionable(browser: &Browser, screenshots: bool) -> String {
    browser.open("/ui/").await;
    if screenshots {
        browser.screenshot("applications").await;
    }
    browser.click("a[href^='/ui/applications/']").await;
    if screenshots {
        browser.screenshot("application").await;
    }
    browser.click("a[href$='/create/provisionable']").await;
    assert_eq!(
        browser.text("h1").await,
        "Create provisionable in async-provisioning"
    );
    browser.click("form.fields button[type=submit]").await;
    let path = browser.path().await;
    assert!(path.starts_with("/ui/tasks/"), "{path}");
    path.trim_start_matches("/ui/tasks/").to_owned()
}

#[tokio::test]
async fn provisioning_the_demo_is_watched_live_from_running_to_success() {
    // Rechecks every 3 s: long enough to see the task running, short for a test.
    let c = demo_controller(10.0).await;
    let Some(browser) = Browser::start(&c.controller().url()).await else {
        return;
    };
    let task = create_provisionable(&browser, true).await;
    assert_eq!(
        browser.text("h1").await,
        "Provisioning \"provisionable\" for APS application async-provisioning"
    );
    browser
        .wait_text("[data-field=state]", |s| s == "running")
        .await;
    browser
        .wait_text("[data-field=description]", |s| {
            s == "Provisioning the resource"
        })
        .await;
    browser.screenshot("task-running").await;

    browser.open("/ui/tasks").await;
    let row = format!("tr[data-task='{task}']");
    assert_eq!(
        browser.text(&format!("{row} [data-field=state]")).await,
        "running"
    );
    browser.run("window.notReloaded = true;").await;
    browser
        .wait_text(&format!("{row} [data-field=output]"), |s| {
            s == "Still provisioning"
        })
        .await;
    browser
        .wait_text(&format!("{row} [data-field=state]"), |s| s == "success")
        .await;
    assert_eq!(
        browser
            .text(&format!("{row} [data-field=description]"))
            .await,
        "Provisioning the resource"
    );
    assert_eq!(
        browser.text(&format!("{row} [data-field=attempts]")).await,
        "3"
    );
    assert_eq!(
        browser.run("return window.notReloaded === true;").await,
        true,
        "the list changed without a reload"
    );
    browser.screenshot("tasks").await;

    // Filtering by state is a plain form.
    let state = browser.client.find(Locator::Id("state")).await.unwrap();
    state.select_by_value("running").await.unwrap();
    browser.click("form.filter button").await;
    // The form's navigation may still be on its way when the click returns.
    let filtered = "return new URLSearchParams(location.search).get('state') === 'running' \
                    && document.querySelectorAll('#tasks tbody tr').length === 0;";
    aps_test_support::wait::until("no running task shown", Duration::from_secs(30), || async {
        browser.run(filtered).await == true
    })
    .await;
    browser.open("/ui/tasks?state=success").await;
    assert_eq!(
        browser
            .run("return document.querySelectorAll('#tasks tbody tr').length;")
            .await,
        2,
        "the install and the provision"
    );

    // Readable at a phone's width: nothing wider than the screen but the scrolling table.
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.screenshot("tasks-phone").await;
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth;";
    assert_eq!(browser.run(fits).await, true);
    browser.client.set_window_size(1100, 900).await.unwrap();

    browser.open(&format!("/ui/tasks/{task}")).await;
    assert_eq!(browser.text("[data-field=state]").await, "success");
    assert_eq!(
        browser.text("[data-field=output]").await,
        "Still provisioning"
    );
    assert!(
        browser.client.find(Locator::Id("cancel")).await.is_err(),
        "no Cancel once ended"
    );
    browser.screenshot("task").await;
    browser.click("a[href^='/ui/resources/']").await;
    assert_eq!(browser.text("h1 .status").await, "ready");
    browser.screenshot("resource").await;
    browser.quit().await;
}

#[tokio::test]
async fn a_running_task_is_canceled_from_its_page() {
    // Unscaled: the first recheck is 30 s away, so the task runs until it is canceled.
    let c = demo_controller(1.0).await;
    let Some(browser) = Browser::start(&c.controller().url()).await else {
        return;
    };
    create_provisionable(&browser, false).await;
    browser
        .wait_text("[data-field=state]", |s| s == "running")
        .await;
    browser
        .wait_text("[data-field=description]", |s| {
            s == "Provisioning the resource"
        })
        .await;
    browser.click("#cancel button").await;
    browser
        .wait_text("[data-field=state]", |s| s == "canceled")
        .await;
    let error = browser.text("[data-field=error]").await;
    assert!(error.starts_with("409 TaskCanceled"), "{error}");
    assert!(browser.client.find(Locator::Id("cancel")).await.is_err());
    browser.screenshot("task-canceled").await;
    browser.quit().await;
}
