// The playground (GET /) in headless Chromium with every other host unreachable: it must load
// from this server alone, run the example Dashboard query, and show a badgeAwarded event that a
// mutation sent from here causes. Run by tests/api/browser.rs with API_URL, ANALYSIS_ID and
// API_TOKEN (an owner of that analysis) set; SCREENSHOT names a PNG to write.
import assert from "node:assert/strict";
import { openOffline } from "./offline.mjs";

const api = process.env.API_URL;
const analysisId = process.env.ANALYSIS_ID;
const token = process.env.API_TOKEN;
assert.ok(api && analysisId && token, "API_URL, ANALYSIS_ID and API_TOKEN must be set");
const { browser, page, elsewhere, problems } = await openOffline(api);
try {
  const response = await page.goto(`${api}/?token=${encodeURIComponent(token)}`);
  const csp = response.headers()["content-security-policy"] || "";
  assert.match(csp, /default-src 'self'/);

  // the Dashboard tab is the first one: run it
  const run = page.locator(".graphiql-execute-button");
  await run.waitFor({ timeout: 20000 });
  const tabs = await page.locator(".graphiql-tab").allInnerTexts();
  const tab = (name) => {
    const i = tabs.findIndex((t) => t.trim() === name);
    assert.ok(i >= 0, `no ${name} tab among ${tabs}`);
    return page.locator(".graphiql-tab").nth(i);
  };
  await tab("Dashboard").click();
  await run.click();
  const pane = page.locator(".graphiql-response");
  await pane.getByText("Example Inc.", { exact: false }).first().waitFor({ timeout: 15000 });
  console.log("dashboard query ran");

  // the subscription: replayed awards first, then the one the mutation below earns
  await tab("BadgeToasts").click();
  // run once the editor holds the tab's document (the operation name follows it)
  await page.locator(".graphiql-query-editor").getByText("subscription BadgeToasts").waitFor({ timeout: 10000 });
  await run.click();
  await pane.getByText("badgeAwarded", { exact: false }).first().waitFor({ timeout: 15000 });

  const call = async (query, variables) => {
    const r = await fetch(`${api}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = await r.json();
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data;
  };
  const { dashboard } = await call(
    "query($id: UUID!) { dashboard(analysisId: $id) { opportunities { opportunityId status hoursPerWeek } } }",
    { id: analysisId },
  );
  // implementing the largest opportunity not yet implemented earns a badge (time_saver at least)
  const next = dashboard.opportunities
    .filter((o) => o.status !== "IMPLEMENTED")
    .sort((a, b) => b.hoursPerWeek - a.hoursPerWeek)[0];
  const { updateProgress } = await call(
    "mutation($input: UpdateProgressInput!) { updateProgress(input: $input) { newBadges { badgeType } } }",
    { input: { analysisId, opportunityId: next.opportunityId, status: "IMPLEMENTED" } },
  );
  const earned = updateProgress.newBadges.map((b) => b.badgeType);
  assert.ok(earned.length > 0, "the move earned no badge");
  const shown = new RegExp(earned.join("|"));
  try {
    await pane.getByText(shown).first().waitFor({ timeout: 10000 });
  } catch (e) {
    throw new Error(`no ${earned} in the pane: ${await pane.innerText()}`);
  }
  console.log(`subscription showed ${earned}`);

  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
  assert.deepEqual(elsewhere, [], "requests to other hosts");
  assert.deepEqual(problems, []);
  console.log("playground ok");
} catch (e) {
  // what the page showed, to see why
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT }).catch(() => {});
  console.log(`response pane: ${await page.locator(".graphiql-response").innerText().catch(() => "?")}`);
  throw e;
} finally {
  await browser.close();
}
