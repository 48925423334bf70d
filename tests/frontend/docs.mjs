// The REST docs page (/api/v1/docs, Swagger UI) in headless Chromium with every other host
// unreachable: it renders the five operations of the generated document and its Authorize
// button. Run by tests/api/rest.rs with API_URL set; SCREENSHOT names a PNG to write.
import assert from "node:assert/strict";
import { openOffline } from "./offline.mjs";

const api = process.env.API_URL;
assert.ok(api, "API_URL must be set");
const { browser, page, elsewhere, problems } = await openOffline(api, { width: 1200, height: 1000 });
try {
  const response = await page.goto(`${api}/api/v1/docs`);
  assert.match(response.headers()["content-security-policy"] || "", /default-src 'self'/);
  const operations = page.locator(".opblock-summary-path");
  await operations.first().waitFor({ timeout: 15000 });
  const paths = await operations.allInnerTexts();
  for (const path of ["/dashboard/{analysisId}", "/dashboard/{analysisId}/progress", "/dashboard/{analysisId}/recommendations",
    "/dashboard/{analysisId}/badges", "/dashboard/{analysisId}/subscribe"]) {
    assert.ok(paths.some((p) => p.replace(/\u200b/g, "").trim() === path), `${path} not among ${paths}`);
  }
  await page.locator("button.authorize").first().waitFor({ timeout: 5000 });
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
  assert.deepEqual(elsewhere, [], "requests to other hosts");
  assert.deepEqual(problems, []);
  console.log("docs page ok");
} finally {
  await browser.close();
}
