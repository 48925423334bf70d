// The toast page in a real headless Chromium: click to move opportunities, see the badge toasts.
// Run by tests/api/browser.rs with API_URL and ANALYSIS_ID set; SCREENSHOT names a PNG to write.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const api = process.env.API_URL;
const analysisId = process.env.ANALYSIS_ID;
assert.ok(api && analysisId, "API_URL and ANALYSIS_ID must be set");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const token = process.env.API_TOKEN ? `&token=${encodeURIComponent(process.env.API_TOKEN)}` : "";
  await page.goto(`${api}/toasts?analysisId=${analysisId}${token}&lang=en`);
  await page.locator('#live[data-state="connected"]').waitFor({ timeout: 10000 });

  await page.click('[data-testid="move-value_creation-IN_PROGRESS"]');
  const first = page.locator('[data-testid="toast"][data-badge="first_step"]');
  await first.waitFor({ timeout: 5000 });
  // the page is English (lang=en): the badge's English name, not the catalog's French
  assert.match(await first.innerText(), /First Step/);
  assert.doesNotMatch(await first.innerText(), /Premier Pas/);
  console.log("toast: First Step");

  await page.click('[data-testid="move-business_management-IMPLEMENTED"]');
  const quick = page.locator('[data-testid="toast"][data-badge="quick_win"]');
  await quick.waitFor({ timeout: 5000 });
  assert.match(await quick.innerText(), /Quick Win/);
  assert.match(await page.locator("#summary").innerText(), /1 of 3 implemented/);
  console.log("toast: Quick Win");

  // the dashboard around the toasts: time saved, the streak, the weekly history, the badges
  assert.match(await page.locator("#hours").innerText(), /^2 h of 15 h per week/);
  assert.match(await page.locator("#streak").innerText(), /^1 day$/);
  const weeks = page.locator('#history [data-testid="week"]');
  assert.ok((await weeks.count()) >= 1, "a bar per week");
  assert.equal(await weeks.last().getAttribute("data-hours"), "2");
  const earned = page.locator('[data-testid="badge-quick_win"]');
  assert.equal(await earned.getAttribute("data-unlocked"), "true");
  const locked = page.locator('[data-testid="badge-time_saver"]');
  assert.equal(await locked.getAttribute("data-unlocked"), "false");
  assert.match(await locked.innerText(), /20%/);
  assert.doesNotMatch(await page.locator("body").innerText(), / %|\u00a0%/, "an English percentage has no space");
  console.log("dashboard: hours, streak, history, badges");

  // the icons need no emoji font: each badge and toast has a drawn medal, and no text on the page
  // is an emoji (Debian's Chromium has none, and showed empty boxes)
  const medals = page.locator('[data-testid="medal"]');
  assert.equal(await medals.count(), 5, "a medal per badge of the catalog");
  for (const box of await Promise.all((await medals.all()).map((m) => m.boundingBox()))) {
    assert.ok(box && box.width >= 20 && box.height >= 20, `a visible medal: ${JSON.stringify(box)}`);
  }
  const quickMedal = page.locator('[data-testid="badge-quick_win"] [data-testid="medal"]');
  assert.ok((await quickMedal.locator("polygon, path, circle").count()) >= 2, "quick win's figure is drawn");
  assert.equal(await page.locator('[data-testid="toast-medal"]').count() >= 1, true, "the toasts have medals");
  const pictographs = (await page.locator("body").innerText()).match(/\p{Extended_Pictographic}/gu);
  assert.equal(pictographs, null, `emoji on the page: ${pictographs}`);

  // the chart can be read: a scale in hours (0 to the potential, 15 h) and each step's value
  assert.deepEqual(await page.locator("#history-scale span").allInnerTexts(), ["15 h", "7.5 h", "0"]);
  assert.equal(await weeks.last().locator(".value").innerText(), "2");
  const fill = await weeks.last().locator(".fill").boundingBox();
  const area = await page.locator("#history").boundingBox();
  // 2 h of 15: about 2/15 of the chart's height (7rem), not a bar of no meaning
  assert.ok(Math.abs(fill.height - (2 / 15) * 112) < 3, `bar height ${fill.height}`);
  assert.ok(area.height > 100);
  assert.match(await page.locator("#history").getAttribute("aria-label"), /of 15 h possible/);
  console.log("dashboard: drawn medals, a labelled chart");

  // the refused move is not even offered
  assert.equal(await page.locator('[data-testid="move-business_management-IN_PROGRESS"]').isDisabled(), true);
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  assert.deepEqual(errors, []);

  // the same dashboard for a French reader: the page's words and the server's sentences
  const fr = await browser.newPage({ viewport: { width: 1100, height: 700 }, locale: "fr-CA" });
  fr.on("pageerror", (e) => errors.push(e.message));
  await fr.goto(`${api}/toasts?analysisId=${analysisId}${token}`);
  await fr.locator('#live[data-state="connected"]').waitFor({ timeout: 10000 });
  assert.equal(await fr.locator("html").getAttribute("lang"), "fr");
  assert.match(await fr.locator("#hours").innerText(), /^2 h sur 15 h par semaine/);
  assert.match(await fr.locator("#streak").innerText(), /^1 jour$/);
  assert.match(await fr.locator("#summary").innerText(), /1 sur 3 implémentée/);
  assert.match(await fr.locator('[data-testid="badge-time_saver"]').innerText(), /20\u00a0%/);
  assert.deepEqual(await fr.locator("#history-scale span").allInnerTexts(), ["15 h", "7,5 h", "0"]);
  assert.match(await fr.locator("#history").getAttribute("aria-label"), /sur 15 h possibles/);
  assert.match(await fr.locator('[data-testid="badge-time_saver"]').innerText(), /Économisez encore 8,0 heures par semaine/);
  assert.equal(await fr.locator('[data-testid="move-digital_presence-IN_PROGRESS"]').innerText(), "Démarrer");
  assert.match(await fr.locator('[data-testid="badge-quick_win"]').innerText(), /Victoire Rapide/);
  if (process.env.SCREENSHOT) {
    await fr.screenshot({ path: process.env.SCREENSHOT.replace(/\.png$/, "-fr.png"), fullPage: true });
  }
  const text = await fr.locator("body").innerText();
  for (const english of ["per week", "more hours", "Implement ", "in progress", "Start", "Quick Win", "Time Saver"]) {
    assert.ok(!text.includes(english), `English on the French page: ${english}\n${text}`);
  }
  assert.deepEqual(errors, []);
  console.log("toast page ok");
} finally {
  await browser.close();
}
