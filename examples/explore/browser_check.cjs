// browser_check.cjs URL KIND SHOT - drives the explorer's page in headless
// Chromium (Debian's, through playwright-core; no browser download): waits
// for the page to be ready, moves a slider and checks that the decoded
// image (or sentence request) changed, exercises the map or the text
// panels, fails on any console error, and saves a screenshot to SHOT.
"use strict";
const { chromium } = require("playwright-core");

const [url, kind, shot] = process.argv.slice(2);

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
  console.log(`PASS ${kind}: ${what}`);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForSelector('#app[data-ready="1"]', { timeout: 30000 });
    check(await page.locator("#error").isHidden(), "the page loads without an error");
    const sliders = await page.locator("#sliders input[type=range]").count();
    check(sliders >= 1, `${sliders} sliders`);

    if (kind === "image") {
      const decoded = () => page.evaluate(() => document.getElementById("decoded").toDataURL());
      const before = await decoded();
      await page.focus("#slider-0");
      await page.keyboard.press("End");
      await page.waitForFunction((b) => document.getElementById("decoded").toDataURL() !== b,
        before, { timeout: 15000 });
      check(await page.inputValue("#slider-0") === "3", "slider 1 moved to +3");
      check(await decoded() !== before, "the decoded image changed");
      const map = page.locator("#map");
      const box = await map.boundingBox();
      const afterSlider = await decoded();
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.7);
      await page.waitForFunction((b) => document.getElementById("decoded").toDataURL() !== b,
        afterSlider, { timeout: 15000 });
      check(true, "the point under the mouse is decoded");
      await page.click("#random-pair");
      await page.waitForFunction(() => document.querySelectorAll("#interp-strip canvas").length === 12,
        null, { timeout: 15000 });
      check(true, "interpolation shows 2 test images and 10 steps");
      await page.mouse.move(box.x + box.width * 0.62, box.y + box.height * 0.4);
      await page.waitForTimeout(300);
    } else {
      const decodes = [];
      page.on("response", (r) => { if (r.url().endsWith("/api/decode")) decodes.push(r.status()); });
      await page.focus("#slider-0");
      // Waiting only after the key press would miss an answer that came
      // first, and sit out the whole timeout.
      const decoded = page.waitForResponse((r) => r.url().endsWith("/api/decode"),
        { timeout: 15000 });
      await page.keyboard.press("End");
      await page.waitForFunction(() => document.getElementById("slider-0").value === "3");
      await decoded;
      await page.waitForTimeout(300);
      check(decodes.length >= 1 && decodes.every((s) => s === 200),
        "moving a slider decodes a sentence");
      check((await page.textContent("#decoded-text")).length > 0, "the decoded sentence is shown");
      await page.selectOption("#sample-mode", "topk");
      await page.fill("#sample-temperature", "0.8");
      await page.click("#sample-go");
      await page.waitForFunction(() => document.querySelectorAll("#sample-list li").length === 5,
        null, { timeout: 15000 });
      check(true, "top-k sampling lists 5 sentences");
      await page.selectOption("#sample-mode", "topp");
      await page.fill("#sample-top-p", "0.5");
      const sampled = page.waitForResponse((r) => r.url().endsWith("/api/sample"),
        { timeout: 15000 });
      await page.click("#sample-go");
      check((await sampled).status() === 200, "top-p sampling answers");
      await page.click("#recon-go");
      await page.waitForFunction(() => document.querySelectorAll("#recon-out dd").length >= 2,
        null, { timeout: 15000 });
      check(true, "a typed sentence is reconstructed");
      await page.click("#text-interp-go");
      await page.waitForFunction(() => document.querySelectorAll("#text-interp-list li").length === 8,
        null, { timeout: 15000 });
      check(true, "two typed sentences are interpolated in 6 steps");
    }
    check(await page.locator("#error").isHidden(), "no error shown on the page");
    await page.screenshot({ path: shot, fullPage: true });
    check(errors.length === 0, `no console error${errors.length ? ": " + errors.join(" | ") : ""}`);
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(`FAIL ${kind}: ${err.message}`);
  process.exit(1);
});
