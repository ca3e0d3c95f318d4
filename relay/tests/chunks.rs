//! The console's code comes in pieces: the shell and the containers list
//! first, each other page's (a group of pages') when it is first shown.
//! A piece that cannot be fetched is said so, with a reload button.

use crate::browser::{console_dir, open, open_console, Browser};
use crate::util::*;

/// The wasm (modules and packs of modules) the page has fetched so far.
async fn wasm_fetched(b: &Browser) -> Vec<String> {
    let v = b
        .client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)
               .filter(n => /\\.(wasm|bin)$/.test(n)).map(n => n.split('/').pop());",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// A copy of the built console, to take files out of.
fn console_copy() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", console_dir()))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    copy
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_s_code_comes_when_it_is_first_shown() {
    let _c = Container::run("chunk", &[IMAGE, "sleep", "600"]);
    let (_relay, b) = open(&engine(), "/console/containers").await;
    b.css("tr[data-container]").await;
    let first = wasm_fetched(&b).await;
    assert_eq!(
        first.len(),
        1,
        "the list takes the main module only: {first:?}"
    );
    assert!(first[0].ends_with("_bg.wasm"), "{first:?}");

    b.by_name("link", "Images").await.click().await.unwrap();
    let heading = b.by_name("heading", "Images").await;
    b.wait_on_screen(&heading, "the images page's heading")
        .await;
    let then = wasm_fetched(&b).await;
    let more: Vec<&String> = then.iter().filter(|n| !first.contains(n)).collect();
    assert!(
        more.iter().any(|n| n.contains("resource_pages")),
        "the images page's group came when it was shown: {more:?}"
    );
    assert!(then.len() <= 8, "at most 8 wasm requests: {then:?}");
    // Its neighbours in the group come with it: no request more.
    b.by_name("link", "Volumes").await.click().await.unwrap();
    b.by_name("heading", "Volumes").await;
    assert_eq!(wasm_fetched(&b).await, then);
    b.end().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_whose_code_fails_to_come_says_so_and_reloads() {
    let copy = console_copy();
    // The images page's pack and modules go missing (a dropped connection,
    // or a relay updated since the tab opened).
    let gone = std::fs::read_dir(copy.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains("resource_pages")
        })
        .collect::<Vec<_>>();
    assert!(!gone.is_empty());
    let aside = tempfile::tempdir().unwrap();
    for p in &gone {
        std::fs::rename(p, aside.path().join(p.file_name().unwrap())).unwrap();
    }
    let dir = copy.path().to_str().unwrap();
    let (_relay, b) = open_console(dir, &engine(), &[], "/console/containers").await;
    b.by_name("link", "Images").await.click().await.unwrap();
    let problem = b.by_name("heading", "This page could not be loaded").await;
    b.wait_on_screen(&problem, "the failed page's message")
        .await;
    // The rest of the console still answers, and the page is asked for
    // again when it is shown again.
    b.by_name("link", "Containers").await.click().await.unwrap();
    b.by_name("heading", "Containers").await;
    b.by_name("link", "Images").await.click().await.unwrap();
    b.by_name("heading", "This page could not be loaded").await;
    // Once the files are back, the button brings the page.
    for p in &gone {
        std::fs::rename(aside.path().join(p.file_name().unwrap()), p).unwrap();
    }
    let reload = b.by_name("button", "Reload the console").await;
    b.wait_on_screen(&reload, "the reload button").await;
    reload.click().await.unwrap();
    let heading = b.by_name("heading", "Images").await;
    b.wait_on_screen(&heading, "the images page's heading")
        .await;
    b.end().await;
}
