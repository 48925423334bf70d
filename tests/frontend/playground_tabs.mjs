// Every tab of the playground runs as it opens, in a fresh browser profile and after a reload:
// Run is pressed on the first tab without touching anything else, then on every other tab in
// turn, and each answer must hold data and no error. Subscriptions get an event to show (a
// progress change sent from here, the platform tick). Run by tests/api/browser.rs with API_URL,
// ANALYSIS_ID and API_TOKEN (an admin's) set.
import assert from "node:assert/strict";
import { openOffline } from "./offline.mjs";

const api = process.env.API_URL;
const analysisId = process.env.ANALYSIS_ID;
const token = process.env.API_TOKEN;
assert.ok(api && analysisId && token, "API_URL, ANALYSIS_ID and API_TOKEN must be set");
const { browser, page, elsewhere, problems } = await openOffline(api);

const run = page.locator(".graphiql-execute-button");
const pane = page.locator(".graphiql-response");
const tabs = page.locator(".graphiql-tab");

// The response pane's text once it shows an answer (Monaco renders the visible lines only: the
// top of the answer, where "data" or "errors" is).
async function answer(expect) {
  await pane.getByText(expect, { exact: false }).first().waitFor({ timeout: 15000 });
  return pane.innerText();
}

function clean(title, text) {
  assert.ok(!text.includes('"errors"'), `${title} answered an error:\n${text}`);
  assert.ok(text.includes('"data"'), `${title} answered no data:\n${text}`);
  console.log(`${title} ran`);
}

async function progress(opportunityId, status) {
  const r = await fetch(`${api}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: "mutation($input: UpdateProgressInput!) { updateProgress(input: $input) { opportunity { status } } }",
      variables: { input: { analysisId, opportunityId, status } },
    }),
  });
  const body = await r.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
}

// What each tab's answer shows first, and what makes a subscription say something.
const expected = {
  Dashboard: "Example Inc.",
  Dashboards: "dashboards",
  BadgeCatalog: "badgeCatalog",
  RecordAnalysis: "recordAnalysis",
  StartOpportunity: "updateProgress",
  ImplementOpportunity: "updateProgress",
  UndoImplementation: "updateProgress",
  BadgeToasts: "badgeAwarded",
  KpiUpdates: "kpiUpdated",
  PlatformKpis: "platformKpis",
  ServiceStats: "serviceStats",
};
const subscriptions = {
  // value_creation is NOT_STARTED after the UndoImplementation tab
  KpiUpdates: () => progress("value_creation", "IN_PROGRESS"),
};

async function firstTabRunsAsItOpens(when) {
  await run.waitFor({ timeout: 20000 });
  // no click on any tab: the one it opens on, as it is
  await run.click();
  clean(`Dashboard (first tab, ${when})`, await answer(expected.Dashboard));
}

try {
  await page.goto(`${api}/?token=${encodeURIComponent(token)}`);
  await firstTabRunsAsItOpens("fresh profile");

  const titles = (await tabs.allInnerTexts()).map((t) => t.trim());
  assert.deepEqual(titles, Object.keys(expected), "the tabs are the examples, in order");
  for (let i = 1; i < titles.length; i++) {
    const title = titles[i];
    await tabs.nth(i).click();
    // the editor holds the tab's document before Run (its operation name is in it)
    await page.locator(".graphiql-query-editor").getByText(title).first().waitFor({ timeout: 10000 });
    await run.click();
    if (subscriptions[title]) {
      // the subscription is live once the server counts it; then cause its event
      await page.waitForTimeout(500);
      await subscriptions[title]();
    }
    clean(title, await answer(expected[title]));
    if (title in subscriptions || ["BadgeToasts", "PlatformKpis"].includes(title)) {
      await run.click(); // stop the subscription
    }
  }

  // a reload opens the tabs as they were served, the first one ready to run again; what the
  // reload itself cut short (an editor worker's download) is no failure of the page
  const cut = [];
  const onFailed = (r) => {
    if (r.failure()?.errorText === "net::ERR_ABORTED") cut.push(`request failed: ${r.url()}`);
  };
  page.on("requestfailed", onFailed);
  await page.reload();
  page.off("requestfailed", onFailed);
  for (const c of cut) problems.splice(problems.indexOf(c), problems.includes(c) ? 1 : 0);
  await firstTabRunsAsItOpens("after a reload");
  assert.deepEqual((await tabs.allInnerTexts()).map((t) => t.trim()), titles);

  assert.deepEqual(elsewhere, [], "requests to other hosts");
  assert.deepEqual(problems, []);
  console.log("playground tabs ok");
} catch (e) {
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT }).catch(() => {});
  console.log(`response pane: ${await pane.innerText().catch(() => "?")}`);
  throw e;
} finally {
  await browser.close();
}
