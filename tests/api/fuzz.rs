//! A fixed-seed fuzz run through the real server: generated documents, variables and hostile
//! text, over POST, GET, WebSocket and the REST endpoints, with no crash, no 5xx and no
//! `INTERNAL`. `bash bench/fuzz.sh` runs 100,000 and more.

use futures_util::StreamExt;

use crate::fuzz_gen::Generator;
use crate::helpers::*;

const CASES: usize = 2_000;
const SEED: u64 = 20_261_123;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_never_crash_or_fail_internally() {
    let app = TestApp::spawn().await;
    app.record_example().await;
    let mut generator = Generator::new(SEED);
    let cases: Vec<_> = (0..CASES).map(|_| generator.case()).collect();
    let failures: Vec<String> = futures_util::stream::iter(cases)
        .map(|case| {
            let client = app.client.clone();
            let base = app.base.clone();
            async move { case.run(&client, &base).await }
        })
        .buffer_unordered(4)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} of {CASES} failed:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let d = app
        .data("{ badgeCatalog { slug } }", serde_json::json!({}))
        .await;
    assert_eq!(d["badgeCatalog"].as_array().unwrap().len(), 5);
}
