//! Email reports through a real SMTP sink, and the downloadable PDF/HTML report.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::smtp_sink::SmtpSink;
use progress_dashboard::service::reports::send_due;

const SUBSCRIBE: &str = "mutation($input: SubscribeToReportsInput!) {
  subscribeToReports(input: $input) { id analysisId email frequency active createdAt } }";
const UNSUBSCRIBE: &str = "mutation($token: String!) { unsubscribeFromReports(token: $token) }";

pub fn smtp(sink: &SmtpSink) -> impl FnOnce(&mut progress_dashboard::config::Config) + '_ {
    move |c| {
        c.reports.smtp_url = Some(sink.url().into());
        c.server.public_url = "http://reports.test".into();
    }
}

/// The decoded bodies of a MIME message: (headers, text/plain, text/html).
pub fn parse_mail(data: &str) -> (String, String, String) {
    let (headers, body) = data.split_once("\r\n\r\n").expect("headers and body");
    let unfolded = headers.replace("\r\n ", " ").replace("\r\n\t", " ");
    let boundary = unfolded
        .split("boundary=")
        .nth(1)
        .map(|b| {
            b.trim_matches(|c: char| c == '"' || c.is_whitespace())
                .split('"')
                .next()
                .unwrap()
                .to_owned()
        })
        .expect("multipart");
    let (mut text, mut html) = (String::new(), String::new());
    for part in body.split(&format!("--{boundary}")) {
        let Some((h, b)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let h = h.to_ascii_lowercase();
        let decoded = if h.contains("content-transfer-encoding: base64") {
            String::from_utf8(base64(b)).unwrap()
        } else if h.contains("content-transfer-encoding: quoted-printable") {
            String::from_utf8(quoted_printable(b)).unwrap()
        } else {
            b.to_owned()
        };
        if h.contains("text/plain") {
            text = decoded;
        } else if h.contains("text/html") {
            // minijinja escapes `/` and `&` in HTML; read it as a browser would
            html = decoded
                .replace("&#x2f;", "/")
                .replace("&amp;", "&")
                .replace("&#x27;", "'");
        }
    }
    (unfolded, text, html)
}

fn base64(s: &str) -> Vec<u8> {
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        acc = (acc << 6) | table.iter().position(|t| *t == c).expect("base64") as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn quoted_printable(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            out.push(
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap(),
            );
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn unsubscribe_url(headers: &str) -> String {
    let line = headers
        .lines()
        .find(|l| l.starts_with("List-Unsubscribe:"))
        .expect("List-Unsubscribe");
    line.split('<')
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap()
        .to_owned()
}

/// The whole journey: subscribe, receive the report in a real SMTP sink, unsubscribe in one click.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekly_report_arrives_and_one_click_unsubscribes() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(smtp(&sink)).await;
    let id = app.record_example().await;
    app.advance(&id, "digital_presence", "IMPLEMENTED").await;
    subscribe_then_change_to_weekly(&app, &id).await;
    confirm_from_mail(&app, &sink, "jane.doe@example.com").await;

    // t0 is a Monday 10:00: the subscription came after this week's slot
    let s = &app.app.services;
    assert_eq!(send_due(s, app_now(&app), |_| {}).await.unwrap().claimed, 0);
    app.clock.advance(chrono::Duration::days(7));
    let summary = send_due(s, app_now(&app), |_| {}).await.unwrap();
    assert_eq!((summary.claimed, summary.sent, summary.failed), (1, 1, 0));
    // never twice for the same period
    assert_eq!(send_due(s, app_now(&app), |_| {}).await.unwrap().claimed, 0);

    let mail = sink.mails.lock().unwrap().last().unwrap().clone();
    let link = check_the_weekly_mail(&mail);
    let token = link.rsplit('/').next().unwrap().to_owned();
    unsubscribe_in_one_click(&app, &token).await;
    app.clock.advance(chrono::Duration::days(7));
    assert_eq!(send_due(s, app_now(&app), |_| {}).await.unwrap().claimed, 0);
    graphql_unsubscribes_and_tampered_tokens_fail(&app, &token).await;
}

/// A monthly subscription, then the same address again: the one subscription is updated.
async fn subscribe_then_change_to_weekly(app: &TestApp, id: &str) {
    let input =
        json!({"analysisId": id, "email": " Jane.Doe@Example.COM ", "frequency": "MONTHLY"});
    let first = app.data(SUBSCRIBE, json!({"input": input})).await["subscribeToReports"].clone();
    // the request that made it sees the address
    assert_eq!(first["email"], "jane.doe@example.com");
    let input = json!({"analysisId": id, "email": "jane.doe@example.com", "frequency": "WEEKLY", "hourlyRate": 60});
    let again = app.data(SUBSCRIBE, json!({"input": input})).await["subscribeToReports"].clone();
    assert_eq!(
        (
            again["id"].clone(),
            again["frequency"].clone(),
            again["active"].clone()
        ),
        (first["id"].clone(), json!("WEEKLY"), json!(true))
    );
}

/// The weekly mail's headers and both bodies; its unsubscribe link.
fn check_the_weekly_mail(mail: &crate::smtp_sink::Mail) -> String {
    assert_eq!(mail.to, ["jane.doe@example.com"]);
    assert!(mail.from.contains("reports@localhost"), "{}", mail.from);
    let (headers, text, html) = parse_mail(&mail.data);
    assert!(headers.contains("multipart/alternative"), "{headers}");
    assert!(
        headers.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{headers}"
    );
    let link = unsubscribe_url(&headers);
    assert!(
        link.starts_with("http://reports.test/unsubscribe/"),
        "{link}"
    );
    let subject = headers
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .expect("Subject");
    assert_eq!(
        subject, "Subject: Rapport hebdomadaire",
        "no text of the analysis"
    );
    for body in [&text, &html] {
        assert!(body.contains("Rapport hebdomadaire"), "{body}");
        assert!(body.contains("33\u{a0}%"), "completion: {body}");
        assert!(
            body.contains("Premier Pas") && body.contains("Victoire Rapide"),
            "badges: {body}"
        );
        assert!(
            body.contains("15\u{202f}600\u{a0}$/an"),
            "money at 60/h: {body}"
        );
        assert!(body.contains(&link), "unsubscribe link: {body}");
        assert!(
            body.contains("http://reports.test/toasts?analysisId="),
            "dashboard link: {body}"
        );
    }
    // the top two next steps, best first
    let steps = text.split("Prochaines étapes recommandées").nth(1).unwrap();
    assert!(
        steps.find("Slow work (8 h/semaine)").unwrap()
            < steps.find("Slow work (2 h/semaine)").unwrap(),
        "{steps}"
    );
    link
}

/// A link's GET page only asks: a form that posts back.
async fn asks_first(app: &TestApp, url: &str) {
    let page = app.client.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\">"), "{html}");
}

/// The GET page only asks; the one-click POST unsubscribes.
async fn unsubscribe_in_one_click(app: &TestApp, token: &str) {
    let active = "SELECT count(*) FROM email_subscriptions WHERE active";
    let local = format!("{}/unsubscribe/{token}", app.base);
    asks_first(app, &local).await;
    assert_eq!(app.db.count(active).await, 1);
    let r = app
        .client
        .post(&local)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.db.count(active).await, 0);
}

/// GraphQL unsubscribes too, and every path refuses a tampered token.
async fn graphql_unsubscribes_and_tampered_tokens_fail(app: &TestApp, token: &str) {
    assert_eq!(
        app.data(UNSUBSCRIBE, json!({"token": token})).await["unsubscribeFromReports"],
        true
    );
    let mut tampered = token.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'a' { 'b' } else { 'a' });
    let e = app.error(UNSUBSCRIBE, json!({"token": tampered})).await;
    assert_eq!(e["extensions"]["code"], "INVALID_INPUT");
    let url = format!("{}/unsubscribe/{tampered}", app.base);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 400);
    assert_eq!(app.client.post(&url).send().await.unwrap().status(), 400);
}

/// Follows the link of the last confirmation email to `to` (the page, then its POST).
async fn confirm_from_mail(app: &TestApp, sink: &SmtpSink, to: &str) {
    let mail = sink
        .mails
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m.to == [to] && m.data.contains("/confirm/"))
        .cloned()
        .unwrap_or_else(|| panic!("no confirmation email to {to}"));
    let (_, text, _) = parse_mail(&mail.data);
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/confirm/"))
        .unwrap()
        .to_owned();
    let token = link.rsplit('/').next().unwrap();
    let local = format!("{}/confirm/{token}", app.base);
    asks_first(app, &local).await;
    let r = app.client.post(&local).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

fn app_now(app: &TestApp) -> chrono::DateTime<Utc> {
    use progress_dashboard::clock::Clock;
    app.clock.now()
}

#[tokio::test]
async fn subscriptions_refuse_bad_input() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    for (input, code) in [
        (
            json!({"analysisId": id, "email": "not-an-email", "frequency": "WEEKLY"}),
            "INVALID_INPUT",
        ),
        (
            json!({"analysisId": id, "email": "a@example.com", "frequency": "WEEKLY", "hourlyRate": 10}),
            "INVALID_INPUT",
        ),
        (
            json!({"analysisId": id, "email": "a@example.com", "frequency": "DAILY"}),
            "INVALID_INPUT",
        ),
        (
            json!({"analysisId": "00000000-0000-4000-8000-000000000000", "email": "a@example.com", "frequency": "WEEKLY"}),
            "ANALYSIS_NOT_FOUND",
        ),
    ] {
        let e = app.error(SUBSCRIBE, json!({"input": input})).await;
        assert_eq!(e["extensions"]["code"], code, "{e}");
    }
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM email_subscriptions")
            .await,
        0
    );
}

/// Monthly reports go out on the 1st at 09:00 local time (Toronto, UTC-5 in winter), across a
/// month and a year end.
#[tokio::test]
async fn monthly_due_selection_across_month_ends() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(smtp(&sink)).await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 15, 12, 0, 0).unwrap());
    let id = app.record("https://monthly.example.com", EXAMPLE).await;
    let input = json!({"analysisId": id, "email": "m@example.com", "frequency": "MONTHLY", "language": "EN"});
    app.data(SUBSCRIBE, json!({"input": input})).await;
    confirm_from_mail(&app, &sink, "m@example.com").await;
    let s = &app.app.services;
    let at = |y, m, d, h, min| Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
    for (now, due) in [
        (at(2026, 12, 31, 23, 59), 0),
        (at(2027, 1, 1, 13, 59), 0),
        (at(2027, 1, 1, 14, 0), 1),
        (at(2027, 1, 31, 12, 0), 0),
        (at(2027, 2, 3, 12, 0), 1), // the 1st was missed: caught up
        (at(2027, 2, 28, 12, 0), 0),
    ] {
        app.clock.set(now);
        assert_eq!(send_due(s, now, |_| {}).await.unwrap().sent, due, "{now}");
    }
    // the confirmation, then two reports
    assert_eq!(sink.count(), 3);
    let (_, text, _) = parse_mail(&sink.mails.lock().unwrap()[1].data);
    assert!(
        text.contains("Monthly report") && text.contains("Unsubscribe"),
        "English: {text}"
    );
}

/// Two schedulers at once, on two instances: exactly one email per subscription and period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_schedulers_send_each_report_once() {
    let sink = SmtpSink::start().await;
    let a = TestApp::spawn_with(smtp(&sink)).await;
    let b = a.spawn_sibling(smtp(&sink)).await;
    let id = a.record_example().await;
    sql(
        &a.db,
        &format!(
            "INSERT INTO email_subscriptions (id, analysis_id, email, frequency, created_at, confirmed_at)
         SELECT gen_random_uuid(), '{id}', 'user' || i || '@example.com', 'weekly', '2026-01-01', '2026-01-01'
           FROM generate_series(1, 60) AS i"
        ),
    )
    .await;
    let now = t0();
    let (ra, rb) = tokio::join!(
        send_due(&a.app.services, now, |_| {}),
        send_due(&b.app.services, now, |_| {})
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.sent + rb.sent, 60, "{ra:?} {rb:?}");
    let mut to: Vec<_> = sink
        .mails
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.to[0].clone())
        .collect();
    assert_eq!(to.len(), 60);
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 60, "a recipient got two reports");
    assert_eq!(
        a.db.count("SELECT count(*) FROM email_deliveries WHERE status = 'sent'")
            .await,
        60
    );
}

/// SMTP down at the first attempt, back before the second: delivered once, both attempts recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_down_then_up_is_retried_and_delivered_once() {
    let mut sink = SmtpSink::start().await;
    let app = Arc::new(
        TestApp::spawn_with(|c| {
            c.reports.smtp_url = Some(sink.url().into());
            c.reports.retry_base = Duration::from_millis(600);
        })
        .await,
    );
    let id = app.record_example().await;
    insert_weekly_subscription(&app.db, &id, "retry@example.com", "'2026-01-01'").await;
    sink.stop();
    let sender = {
        let app = app.clone();
        tokio::spawn(async move { send_due(&app.app.services, t0(), |_| {}).await.unwrap() })
    };
    // back once the first attempt has failed
    let failed = "SELECT count(*) FROM email_delivery_attempts WHERE outcome = 'failed'";
    for _ in 0..500 {
        if app.db.count(failed).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.db.count(failed).await,
        1,
        "the first attempt never failed"
    );
    sink.restart().await;
    let summary = sender.await.unwrap();
    assert_eq!((summary.sent, summary.failed), (1, 0));
    assert_eq!(sink.count(), 1);
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM email_delivery_attempts WHERE outcome = 'failed'")
            .await,
        1
    );
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM email_delivery_attempts WHERE outcome = 'sent'")
            .await,
        1
    );
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM email_deliveries WHERE status = 'sent' AND attempts = 2")
            .await,
        1
    );
}

/// SMTP down for a whole run: the report fails every attempt of it and stays claimed for the
/// lease; a run after that, with SMTP back, sends it once. A report that has had MAX_ATTEMPTS is
/// never tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_failed_while_smtp_was_down_is_sent_once_by_a_later_run() {
    let mut sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(|c| {
        c.reports.smtp_url = Some(sink.url().into());
        c.reports.retry_base = Duration::from_millis(10);
        c.reports.claim_lease = Duration::from_millis(400);
    })
    .await;
    let id = app.record_example().await;
    insert_weekly_subscription(&app.db, &id, "away@example.com", "'2026-01-01'").await;
    let s = &app.app.services;
    sink.stop();
    let summary = send_due(s, t0(), |_| {}).await.unwrap();
    assert_eq!((summary.claimed, summary.sent, summary.failed), (1, 0, 1));
    let failed_three =
        "SELECT count(*) FROM email_deliveries WHERE status = 'failed' AND attempts = 3";
    assert_eq!(app.db.count(failed_three).await, 1);
    // within its lease, no other run takes it
    assert_eq!(send_due(s, t0(), |_| {}).await.unwrap().claimed, 0);

    sink.restart().await;
    eventually_async("a run after the lease sends it", || async {
        send_due(s, t0(), |_| {}).await.unwrap().sent == 1
    })
    .await;
    assert_eq!(sink.count(), 1);
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM email_deliveries WHERE status = 'sent' AND attempts = 4")
            .await,
        1,
        "one row, its attempts numbered on from the first run's"
    );
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM email_delivery_attempts")
            .await,
        4
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(send_due(s, t0(), |_| {}).await.unwrap().claimed, 0);
    assert_eq!(sink.count(), 1, "exactly once");

    // out of attempts: left failed for good; one attempt short: tried again
    for (email, attempts, expected) in [("spent@example.com", 9, 0), ("short@example.com", 8, 1)] {
        insert_weekly_subscription(&app.db, &id, email, "'2026-01-01'").await;
        let key = progress_dashboard::domain::reports::Frequency::Weekly.period_key(
            progress_dashboard::domain::reports::Frequency::Weekly.latest_slot(t0(), toronto()),
            toronto(),
        );
        sql(
            &app.db,
            &format!(
                "INSERT INTO email_deliveries (id, subscription_id, period_key, status, attempts, created_at)
                 SELECT gen_random_uuid(), id, '{key}', 'failed', {attempts}, now() - interval '1 hour'
                 FROM email_subscriptions WHERE email = '{email}'"
            ),
        )
        .await;
        assert_eq!(
            send_due(s, t0(), |_| {}).await.unwrap().claimed,
            expected,
            "{email}"
        );
    }
}

/// Without SMTP_URL, reports become .eml files.
#[tokio::test]
async fn without_smtp_reports_are_written_as_eml_files() {
    let dir = std::env::temp_dir().join(format!("pd-eml-{}", uuid::Uuid::new_v4().simple()));
    let dir2 = dir.clone();
    let app = TestApp::spawn_with(move |c| c.reports.outbox_dir = dir2).await;
    let id = app.record_example().await;
    insert_weekly_subscription(&app.db, &id, "file@example.com", "'2026-01-01'").await;
    assert_eq!(
        send_due(&app.app.services, t0(), |_| {})
            .await
            .unwrap()
            .sent,
        1
    );
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        eml.contains("To: file@example.com") && eml.contains("List-Unsubscribe:"),
        "{eml}"
    );
}

/// The shipped binary's `send-reports --due`: delivered, and the address is nowhere in its output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_reports_cli_never_logs_addresses() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let secret_address = "very.private.person@example.org";
    insert_weekly_subscription(&app.db, &id, secret_address, "now() - interval '30 days'").await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
        .args(["send-reports", "--due"])
        .env("DATABASE_URL", &app.db.url)
        .env("SMTP_URL", sink.url())
        .env("LOG_LEVEL", "debug,h2=info,hyper=info")
        .env("REPORT_TOKEN_SECRET", "cli secret")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 sent"), "{stdout}");
    assert_eq!(sink.mails.lock().unwrap()[0].to, [secret_address]);
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains(secret_address) && !text.contains("very.private"),
            "address logged: {text}"
        );
    }
    assert!(stderr.contains("report sent"), "{stderr}");
}

fn target_file(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let file = dir.join(name);
    (dir, file)
}

/// The text of a PDF, via poppler's pdftotext (the file stays in target/ to look at).
pub fn pdf_text(pdf: &[u8], name: &str) -> String {
    let (_, file) = target_file(&format!("{name}.pdf"));
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args([file.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) must be installed (scripts/test.sh installs it)");
    assert!(out.status.success(), "pdftotext could not read the PDF");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
}

/// Nothing implemented reads 0, never -0 (an empty sum of floats is -0.0): in the PDF, the HTML
/// and the API's JSON. The whole PDF's first page is left as target/report-all-1.png to look at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_implemented_reads_zero_not_minus_zero() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    app.update(&id, "value_creation", "IN_PROGRESS", None).await;
    let path = format!("/reports/{id}?format=pdf");
    let pdf = get(&app, &path).await.bytes().await.unwrap();
    let text = pdf_text(&pdf, "report-all");
    assert!(text.contains("0 h/semaine"), "{text}");
    assert!(!text.contains("-0"), "a negative zero in:\n{text}");
    let html = get(&app, &format!("/reports/{id}?format=html")).await;
    let html = html.text().await.unwrap();
    assert!(
        !html.contains("-0 h") && !html.contains("-0\u{a0}h"),
        "{html}"
    );
    // the chart: one bar per opportunity, longest first, coloured by status
    let chart = html.split("id=\"chart\"").nth(1).expect("a chart");
    let widths: Vec<&str> = chart
        .match_indices("width: ")
        .map(|(i, _)| &chart[i + 7..i + 10])
        .collect();
    assert_eq!(widths, ["100", "63%", "25%"], "{chart}");
    assert!(chart.contains("class=\"IN_PROGRESS\""), "{chart}");
    assert!(
        text.contains("Heures par semaine, par opportunité"),
        "{text}"
    );
    let raw = app
        .gql(
            "query($id: UUID!) { dashboard(analysisId: $id) { metrics { timeSaved { implementedWeekly } } } }",
            json!({"id": id}),
        )
        .await
        .to_string();
    assert!(raw.contains(r#""implementedWeekly":0.0"#), "{raw}");
    let (dir, file) = target_file("report-all.pdf");
    let png = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "70", file.to_str().unwrap()])
        .arg(dir.join("report-all").to_str().unwrap())
        .status()
        .unwrap();
    assert!(png.success());
}

/// The PDF opens, holds the sections asked for, looks right as PNG, and a second request is a
/// cache hit with the same bytes; a change makes a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdf_report_has_the_sections_asked_for_and_is_cached() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    app.update(&id, "digital_presence", "IMPLEMENTED", Some(50.0))
        .await;

    let path = format!("/reports/{id}?format=pdf&sections=summary,badges");
    let first = get(&app, &path).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["content-type"], "application/pdf");
    assert_eq!(first.headers()["x-report-cache"], "miss");
    let pdf = first.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let second = get(&app, &path).await;
    assert_eq!(second.headers()["x-report-cache"], "hit");
    assert_eq!(second.bytes().await.unwrap(), pdf);

    // parse it back
    let text = pdf_text(&pdf, "report-test");
    for expected in [
        "Rapport d'avancement",
        "Example Inc.",
        "Résumé",
        "33 %",
        "Badges",
        "Premier Pas",
        "1 opportunité implémentée sur 3",
        "13 000 $",
    ] {
        assert!(
            text.replace(['\u{202f}', '\u{a0}'], " ").contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    for absent in ["Opportunités", "Indicateurs"] {
        assert!(
            !text.contains(absent),
            "{absent:?} was not asked for:\n{text}"
        );
    }
    // as PNG (look at target/report-test-1.png)
    let (dir, file) = target_file("report-test.pdf");
    let png = std::process::Command::new("pdftoppm")
        .args([
            "-png",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            file.to_str().unwrap(),
            dir.join("report-test").to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(png.success());

    // a progress change makes a new document, never a stale one
    app.advance(&id, "value_creation", "IMPLEMENTED").await;
    let third = get(&app, &path).await;
    assert_eq!(third.headers()["x-report-cache"], "miss");
    let text = pdf_text(&third.bytes().await.unwrap(), "report-test-2");
    assert!(text.contains("66 %"), "{text}");
}

#[tokio::test]
async fn html_report_errors_and_rate_limit() {
    let app = TestApp::spawn().await;
    let id = app.record_example().await;
    let r = get(
        &app,
        &format!("/reports/{id}?format=html&sections=opportunities,metrics"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"opportunities\"") && html.contains("id=\"metrics\""));
    assert!(!html.contains("id=\"summary\"") && !html.contains("id=\"badges\""));
    assert!(html.contains("Processus") || html.contains("Slow work"));

    let d = app.data("query($id: UUID!) { dashboard(analysisId: $id) { reportUrl(format: HTML, sections: [SUMMARY]) } }", json!({"id": id})).await;
    let url = d["dashboard"]["reportUrl"].as_str().unwrap();
    assert!(
        url.contains(&format!(
            "/reports/{id}?format=html&sections=summary&expires="
        )),
        "{url}"
    );

    let missing = get(&app, "/reports/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "ANALYSIS_NOT_FOUND"
    );
    for bad in [
        format!("/reports/{id}?sections=everything"),
        format!("/reports/{id}?format=docx"),
        "/reports/nope".into(),
    ] {
        let r = get(&app, &bad).await;
        assert_eq!(r.status(), 400, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
    }

    // Cache hits and unknown analyses cost nothing: nobody can use up an analysis's downloads
    // by asking for what is already rendered, or for what does not exist.
    let rendered = format!("/reports/{id}?format=html&sections=opportunities,metrics");
    for _ in 0..8 {
        let r = get(&app, &rendered).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-report-cache"], "hit");
    }
    for _ in 0..8 {
        let r = get(&app, "/reports/00000000-0000-4000-8000-000000000000").await;
        assert_eq!(r.status(), 404);
    }

    // 5 renders a minute per client: one was used above.
    let renders = [
        "summary",
        "badges",
        "metrics",
        "summary,badges",
        "badges,metrics",
    ];
    for sections in &renders[..4] {
        let r = get(
            &app,
            &format!("/reports/{id}?format=html&sections={sections}"),
        )
        .await;
        assert_eq!(r.status(), 200, "{sections}");
        assert_eq!(r.headers()["x-report-cache"], "miss");
    }
    let limited = get(
        &app,
        &format!("/reports/{id}?format=html&sections={}", renders[4]),
    )
    .await;
    assert_eq!(limited.status(), 429);
    assert!(
        limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            <= 60
    );
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // Still served from the cache, and another client is not locked out.
    assert_eq!(get(&app, &rendered).await.status(), 200);
    let other = from_address("127.0.0.2");
    let r = other
        .get(format!(
            "{}/reports/{id}?format=html&sections={}",
            app.base, renders[4]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Double opt-in through a real SMTP sink: nothing but the confirmation goes to an address until
/// it confirms; unsubscribing and subscribing again needs a new confirmation; an address gets at
/// most three confirmation emails a day; the confirmation says nothing the caller chose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_go_only_to_confirmed_addresses() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(smtp(&sink)).await;
    let spam = "Buy cheap pills at spam.example";
    let mut input = analysis_input("https://victim.example.com", EXAMPLE);
    input["identity"]["companyName"] = json!(spam);
    let id = app.data(RECORD, json!({ "input": input })).await["recordAnalysis"]["dashboard"]
        ["analysisId"]
        .as_str()
        .unwrap()
        .to_owned();
    let subscribe =
        json!({"input": {"analysisId": id, "email": "target@example.com", "frequency": "WEEKLY"}});
    let q = "mutation($input: SubscribeToReportsInput!) { subscribeToReports(input: $input) { confirmed } }";
    let sub = app.data(q, subscribe.clone()).await;
    assert_eq!(sub["subscribeToReports"]["confirmed"], false);
    assert_eq!(sink.count(), 1);
    let confirmation = sink.mails.lock().unwrap()[0].clone();
    assert!(
        !confirmation.data.contains("pills"),
        "{}",
        confirmation.data
    );
    let (headers, _, _) = parse_mail(&confirmation.data);
    assert!(
        headers.contains("Subject: Confirmez vos rapports de progression"),
        "{headers}"
    );

    // pending: no report, whenever it is due
    let s = &app.app.services;
    app.clock.advance(chrono::Duration::days(7));
    assert_eq!(send_due(s, app_now(&app), |_| {}).await.unwrap().claimed, 0);
    // an unsubscribe link confirms nothing
    let unsubscribe = s
        .state
        .reports
        .unsubscribe_url(sub_id(&app, "target@example.com").await);
    let wrong = unsubscribe.rsplit('/').next().unwrap();
    let r = app
        .client
        .post(format!("{}/confirm/{wrong}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    confirm_from_mail(&app, &sink, "target@example.com").await;
    assert_eq!(send_due(s, app_now(&app), |_| {}).await.unwrap().sent, 1);

    // unsubscribed, then subscribed again: pending until confirmed again
    let token = unsubscribe.rsplit('/').next().unwrap();
    app.data(UNSUBSCRIBE, json!({ "token": token })).await;
    let again = app.data(q, subscribe.clone()).await;
    assert_eq!(again["subscribeToReports"]["confirmed"], false);
    assert_eq!(sink.count(), 3, "a second confirmation email");
    app.clock.advance(chrono::Duration::days(7));
    assert_eq!(send_due(s, app_now(&app), |_| {}).await.unwrap().claimed, 0);

    // an address gets three confirmation emails a day, then no more
    let other =
        json!({"input": {"analysisId": id, "email": "limit@example.com", "frequency": "WEEKLY"}});
    for _ in 0..3 {
        app.data(q, other.clone()).await;
    }
    let e = app.error(q, other).await;
    assert_eq!(e["extensions"]["code"], "RATE_LIMITED", "{e}");
    assert!(e["extensions"]["retryAfter"].as_u64().unwrap() > 0);
    assert_eq!(sink.count(), 6);
}

/// The id of the subscription of `email`.
async fn sub_id(app: &TestApp, email: &str) -> progress_dashboard::domain::ids::SubscriptionId {
    let mut conn = app.db.conn().await;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    diesel::sql_query(format!(
        "SELECT id FROM email_subscriptions WHERE email = '{email}'"
    ))
    .get_result::<Row>(&mut conn)
    .await
    .unwrap()
    .id
    .into()
}

/// A delivery left `sending` by a sender killed mid-send is claimed again once its lease is
/// over, and sent once; a younger one is left to its sender.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_left_sending_is_taken_over_after_its_lease() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(smtp(&sink)).await;
    let id = app.record_example().await;
    // created long before the test clock's week (t0)
    insert_weekly_subscription(&app.db, &id, "ops@example.com", "'2026-01-01T00:00:00Z'").await;
    let now = app_now(&app);
    let key = progress_dashboard::domain::reports::Frequency::Weekly.period_key(
        progress_dashboard::domain::reports::Frequency::Weekly.latest_slot(now, toronto()),
        toronto(),
    );
    // as a killed sender leaves it: claimed a minute ago, one attempt, never finished
    sql(
        &app.db,
        &format!(
            "INSERT INTO email_deliveries (id, subscription_id, period_key, status, attempts, created_at)
             SELECT gen_random_uuid(), id, '{key}', 'sending', 1, now() - interval '1 minute'
             FROM email_subscriptions WHERE email = 'ops@example.com'"
        ),
    )
    .await;
    let s = &app.app.services;
    // within the lease (15 minutes): its sender may still be at it
    assert_eq!(send_due(s, now, |_| {}).await.unwrap().claimed, 0);
    assert_eq!(sink.count(), 0);

    sql(
        &app.db,
        "UPDATE email_deliveries SET created_at = now() - interval '16 minutes'",
    )
    .await;
    let summary = send_due(s, now, |_| {}).await.unwrap();
    assert_eq!((summary.claimed, summary.sent, summary.failed), (1, 1, 0));
    assert_eq!(sink.count(), 1);
    assert_eq!(
        app.db
            .count("SELECT count(*) FROM email_deliveries WHERE status = 'sent'")
            .await,
        1,
        "the same delivery row, now sent"
    );
    assert_eq!(
        app.db.count("SELECT count(*) FROM email_deliveries").await,
        1
    );
    // and never again for that period
    assert_eq!(send_due(s, now, |_| {}).await.unwrap().claimed, 0);
}

/// The example analysis' time zone, where its report slots are.
fn toronto() -> progress_dashboard::domain::zone::TimeZone {
    progress_dashboard::domain::zone::TimeZone::default()
}

/// A report says what changed since the one before (the subscription, for the first):
/// opportunities moved, weekly hours gained, badges earned, the streak; and the document shows
/// implemented hours per week, week by week.
#[tokio::test]
async fn a_report_says_what_changed_since_the_last() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(smtp(&sink)).await;
    let id = app.record_example().await;
    let input = json!({"analysisId": id, "email": "change@example.com", "frequency": "WEEKLY"});
    app.data(SUBSCRIBE, json!({"input": input})).await;
    confirm_from_mail(&app, &sink, "change@example.com").await;
    let s = &app.app.services;
    let hour = chrono::Duration::hours(1);
    let day = chrono::Duration::days(1);

    app.clock.set(t0() + hour);
    app.advance(&id, "value_creation", "IMPLEMENTED").await; // +8 h a week
    app.clock.set(t0() + day);
    app.advance(&id, "digital_presence", "IN_PROGRESS").await;
    app.clock.set(t0() + day * 7);
    assert_eq!(send_due(s, app_now(&app), |_| {}).await.unwrap().sent, 1);
    let (_, text, html) = parse_mail(&sink.mails.lock().unwrap().last().unwrap().data);
    let since = text
        .split("Depuis le dernier rapport\u{a0}:")
        .nth(1)
        .expect(&text);
    for line in [
        "2 opportunités ont changé de statut",
        "+8 h/semaine économisées en plus",
        "2 badges gagnés",             // first_step, quick_win
        "0 jour d'activité d'affilée", // French counts 0 as one
    ] {
        assert!(since.contains(line), "{line}: {since}");
    }
    assert!(html.contains("id=\"changes\""), "{html}");
    // a French email: no English sentence in it (the next steps' reasons included)
    for fragment in crate::language::english_fragments() {
        for body in [&text, &crate::language::visible(&html)] {
            assert!(
                !body.contains(fragment.as_str()),
                "{fragment:?} in:\n{body}"
            );
        }
    }

    // the next report counts from the one before
    app.clock.set(t0() + day * 13);
    app.advance(&id, "digital_presence", "IMPLEMENTED").await; // +5, time_saver
    app.clock.set(t0() + day * 14);
    assert_eq!(send_due(s, app_now(&app), |_| {}).await.unwrap().sent, 1);
    let (_, text, _) = parse_mail(&sink.mails.lock().unwrap().last().unwrap().data);
    let since = text
        .split("Depuis le dernier rapport\u{a0}:")
        .nth(1)
        .expect(&text);
    for line in [
        "1 opportunité a changé de statut",
        "+5 h/semaine économisées en plus",
        "1 badge gagné",
        "1 jour d'activité d'affilée", // the 29th, local, was yesterday
    ] {
        assert!(since.contains(line), "{line}: {since}");
    }

    // the document: a bar per week since the analysis began, the last at 13 hours
    let r = get(&app, &format!("/reports/{id}?format=html")).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let weeks = html.split("id=\"weeks\"").nth(1).expect("the weekly chart");
    let weeks = weeks.split("<h3>").next().unwrap_or(weeks);
    // the weeks of the 16th, 23rd and 30th of March (the slash escaped, as HTML may)
    assert_eq!(weeks.matches("class=\"track\"").count(), 3, "{weeks}");
    assert!(
        weeks.contains("16&#x2f;03") && weeks.contains("30&#x2f;03"),
        "{weeks}"
    );
    assert!(weeks.trim_end().ends_with("13 h</div></div>"), "{weeks}");
}
