// The web UI's journey test, in a real Chromium (Debian's, driven by playwright-core):
// sign up, create an engagement, create an item from a template, publish it, find it in the
// list and through the search box, edit it and restore the first version, and check that a
// user of another organization gets the 404 page for its URL. Screenshots of the main pages go
// to target/e2e/; axe-core checks them (light and dark) for serious or critical violations.
//
// Usage: node journey.mjs BASE_URL   (tests/e2e/run starts a server and calls this)
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import assert from "node:assert/strict";

const here = dirname(fileURLToPath(import.meta.url));
const base = process.argv[2];
assert.ok(base, "usage: node journey.mjs BASE_URL");
const shots = join(here, "..", "..", "target", "e2e");
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");
const PASSWORD = "plum-orchard-47-velvet-kayak";
const unique = Date.now().toString(36);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const violations = [];
let step = "start";

// axe is injected as a script, so the context bypasses the pages' CSP (the app itself never
// needs that: its pages load only /assets/).
async function newPage(colorScheme = "light") {
  const context = await browser.newContext({ bypassCSP: true, colorScheme, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => violations.push(`${step}: script error ${error.message}`));
  return page;
}

async function check(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ["violations"] }),
  );
  for (const v of result.violations) {
    if (v.impact === "serious" || v.impact === "critical") {
      violations.push(`${name}: [${v.impact}] ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
    }
  }
}

async function signUp(page, name) {
  const email = `${name}.${unique}@example.com`;
  await page.goto(`${base}/signup`);
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Organization").fill(`${name} Consulting`);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${base}/`);
  return email;
}

try {
  const page = await newPage();

  step = "public pages";
  await page.goto(`${base}/login`);
  await check(page, "login");
  await page.goto(`${base}/signup`);
  await check(page, "signup");
  // Validation errors are shown next to the field, with the entered values kept.
  await page.getByLabel("Your name").fill("Ada");
  await page.getByLabel("Email").fill(`ada.${unique}@example.com`);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  assert.match(await page.locator("#password-error").innerText(), /at least 12 characters/);
  assert.equal(await page.getByLabel("Email").inputValue(), `ada.${unique}@example.com`);
  await check(page, "signup-errors");

  step = "sign up";
  await signUp(page, "Ada");
  await check(page, "dashboard");

  step = "engagement";
  await page.getByRole("link", { name: "Engagements" }).click();
  await page.getByRole("link", { name: "New engagement" }).click();
  await page.getByLabel("Name").fill("Pricing review");
  await page.getByLabel("Client").fill("Acme Corp");
  await page.getByRole("button", { name: "Create engagement" }).click();
  await page.waitForURL(/\/engagements\/eng_/);
  await page.getByRole("button", { name: "Move to Proposal" }).click();
  await page.getByRole("button", { name: "Move to Active" }).waitFor();
  const engagementUrl = page.url();
  await check(page, "engagement");
  await page.goto(`${base}/engagements`);
  await check(page, "engagements");

  step = "template";
  await page.getByRole("link", { name: "Templates" }).click();
  await page.getByRole("link", { name: "New template" }).click();
  await page.getByLabel("Name").fill("Meeting summary");
  await page.getByLabel("Items it makes").selectOption("meeting_notes");
  await page.getByLabel("Body (Markdown)").fill("# Meeting with {{client}}\n\nWe agreed on **{{decision}}**.");
  await page.locator("#preview h1", { hasText: "Meeting with" }).waitFor();
  await check(page, "template-editor");
  await page.getByRole("button", { name: "Create template" }).click();
  await page.getByRole("link", { name: "Meeting summary" }).waitFor();
  await check(page, "templates");

  step = "item from template";
  await page.goto(engagementUrl);
  await page.getByRole("link", { name: "New item" }).click();
  await check(page, "editor");
  await page.getByRole("link", { name: "Meeting summary" }).click();
  await page.getByLabel("Title").fill("Kick-off with Acme");
  await page.getByLabel("client").fill("Acme Corp");
  await page.getByLabel("decision").fill("a zeppelin pricing pilot");
  await check(page, "template-form");
  await page.getByRole("button", { name: "Create draft" }).click();
  await page.waitForURL(/\/items\/itm_/);
  const itemUrl = page.url();
  assert.match(await page.locator(".prose").innerText(), /We agreed on a zeppelin pricing pilot/);

  step = "publish";
  await page.getByRole("button", { name: "Submit for review" }).click();
  await page.getByRole("button", { name: "Publish" }).click();
  await page.waitForSelector("#item-status:has-text('Published')");
  await check(page, "item");

  step = "list";
  await page.getByRole("link", { name: "Knowledge" }).click();
  await page.getByLabel("Status").selectOption("published");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByRole("link", { name: "Kick-off with Acme" }).waitFor();
  await check(page, "items");

  step = "search box";
  const box = page.getByRole("combobox", { name: "Search knowledge" });
  await box.pressSequentially("zeppel", { delay: 40 });
  const suggestion = page.getByRole("option", { name: /Kick-off with Acme/ });
  await suggestion.waitFor({ timeout: 10000 });
  await page.screenshot({ path: join(shots, "search-as-you-type.png") });
  await box.press("Enter");
  await page.waitForURL(/\/search\?q=zeppel/);
  await page.getByRole("link", { name: "Kick-off with Acme" }).waitFor();
  await check(page, "search");
  await page.getByRole("link", { name: "Kick-off with Acme" }).click();
  await page.waitForURL(itemUrl);

  step = "edit";
  await page.getByRole("link", { name: "Edit" }).click();
  const body = page.getByLabel("Content (Markdown)");
  await body.fill("# Meeting with Acme Corp\n\nThe pilot is **cancelled**.");
  await page.locator("#preview strong", { hasText: "cancelled" }).waitFor();
  await page.getByLabel("Tags", { exact: true }).fill("pricing");
  await check(page, "editor-live-preview");
  await page.getByRole("button", { name: "Save" }).click();
  await page.waitForURL(itemUrl);
  assert.match(await page.locator(".prose").innerText(), /The pilot is cancelled/);
  await page.getByRole("link", { name: "pricing", exact: true }).waitFor();

  step = "tag picker";
  // The organization's tags are offered as buttons that add themselves to the field.
  await page.getByRole("link", { name: "Edit" }).click();
  await page.getByLabel("Tags", { exact: true }).fill("");
  await page.getByRole("button", { name: "pricing", exact: true }).click();
  assert.equal(await page.getByLabel("Tags", { exact: true }).inputValue(), "pricing");
  assert.equal(await page.getByRole("button", { name: "pricing", exact: true }).isHidden(), true);
  await page.getByRole("link", { name: "Cancel" }).click();
  await page.waitForURL(itemUrl);

  step = "restore first version";
  await page.getByRole("link", { name: "History" }).click();
  await page.locator("pre.diff .added", { hasText: "cancelled" }).waitFor();
  await check(page, "history");
  await page.getByRole("button", { name: "Restore version 1" }).click();
  await page.waitForURL(itemUrl);
  assert.match(await page.locator(".prose").innerText(), /We agreed on a zeppelin pricing pilot/);

  step = "summary streams into the item page";
  await page.getByRole("button", { name: "Summarize" }).click();
  await page.locator("#summary-output .answer", { hasText: "Extractive summary" }).waitFor();
  await page.locator("#summary-output .citations a").first().waitFor();
  await check(page, "item-summary");

  step = "ask";
  await page.getByRole("link", { name: "Ask", exact: true }).click();
  await page.getByLabel("Question").fill("What did we agree about the zeppelin pricing pilot?");
  await page.getByRole("button", { name: "Ask", exact: true }).click();
  await page.locator("#ask-output .citations a", { hasText: "Kick-off with Acme" }).first().waitFor();
  assert.match(await page.locator("#ask-output .answer").innerText(), /zeppelin pricing pilot/);
  await check(page, "ask");
  await page.goto(itemUrl);

  step = "categories";
  await page.getByRole("link", { name: "Categories" }).click();
  await page.getByLabel("New category").fill("Pricing");
  await page.getByRole("button", { name: "Add category" }).click();
  await page.getByRole("link", { name: "Pricing" }).waitFor();
  await check(page, "categories");

  step = "administration";
  await page.getByRole("link", { name: "Admin" }).click();
  await page.getByLabel("New key name").fill("Reporting export");
  await page.getByRole("button", { name: "Create key" }).click();
  assert.match(await page.locator("#new-secret").inputValue(), /^\S{40,}$/);
  await check(page, "admin");
  await page.getByRole("link", { name: "Audit trail" }).click();
  await page.getByRole("cell", { name: "item.version_restored" }).waitFor();
  await check(page, "audit");

  step = "dark mode";
  const dark = await newPage("dark");
  await dark.context().addCookies(await page.context().cookies());
  for (const [path, name] of [["/", "dashboard-dark"], [new URL(itemUrl).pathname, "item-dark"]]) {
    await dark.goto(`${base}${path}`);
    await check(dark, name);
  }

  step = "phone";
  const phone = await newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(`${base}/items`);
  await check(phone, "items-phone");

  step = "another organization";
  const stranger = await newPage();
  await signUp(stranger, "Mallory");
  const response = await stranger.goto(itemUrl);
  assert.equal(response.status(), 404);
  assert.match(await stranger.locator("h1").innerText(), /Not found/);
  assert.doesNotMatch(await stranger.content(), /zeppelin/);
  await check(stranger, "not-found");

  step = "keyboard";
  // The skip link is the first stop of the keyboard, and it is visible when focused.
  await page.goto(`${base}/`);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.className), "skip");
} catch (error) {
  console.error(`journey failed at step "${step}"`);
  throw error;
} finally {
  await browser.close();
}

if (violations.length) {
  console.error("accessibility or script problems:\n" + violations.join("\n"));
  process.exit(1);
}
console.log(`journey passed; screenshots in ${shots}`);
