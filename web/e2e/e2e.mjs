// End-to-end test of the web app: the local server (real PostgreSQL behind it) and the
// app in headless Chromium. scripts/e2e.sh starts everything and sets the environment:
//   BASE_URL       the local server, e.g. http://127.0.0.1:PORT
//   DEMO_DB_URL    the demo database's URL (typed into the form, as a developer would)
//   PSQL, PGPORT, PGPASSWORD   to change the demo database between two refreshes
//   OUT_DIR        where the screenshots and figures go
//   GEN2000        "1" when the 2,000-table benchmark catalog is loaded (connection id gen2000)
// It checks what a user sees; it prints the timings, it does not assert on them.

import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run scripts/e2e.sh)`);
  return v;
};
const BASE_URL = env("BASE_URL");
const DEMO_DB_URL = env("DEMO_DB_URL");
const OUT_DIR = env("OUT_DIR");
mkdirSync(OUT_DIR, { recursive: true });

let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
};
const sql = (db, statement) =>
  execFileSync(env("PSQL"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", env("PGPORT"),
    "-U", "postgres", "-d", db, "-At", "-c", statement], { env: { ...process.env }, encoding: "utf8" }).trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"],
});
const figures = {};
const pageErrors = [];
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  // The browser logs every 4xx/5xx answer itself ("Failed to load resource"); the app
  // shows those in its own words, which is checked below. Anything else is a defect.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) pageErrors.push(m.text());
  });
  const cls = async (sel) => (await page.getAttribute(sel, "class")) || "";
  const loads = async (n, timeout = 30000) =>
    page.waitForSelector(`html[data-loads="${n}"][data-state="idle"]`, { timeout, state: "attached" });

  // 1. The page loads and is ready.
  await page.goto(`${BASE_URL}/`);
  await page.waitForSelector('html[data-state="idle"]', { timeout: 20000, state: "attached" });
  check(await page.isVisible("#empty-hint"), "the empty page says what to do");

  // 2. Load the demo database through the form: every table appears, in the diagram and
  //    in the side list.
  const expected = sql("demo", `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('public','inventory') AND c.relkind IN ('r','p','v','m','f')`);
  await page.fill("#database-url", DEMO_DB_URL);
  await page.fill("#schemas", "public, inventory");
  await page.click("#load");
  await loads(1);
  // Partitions start folded into their parents (issue 15.3): every other table is listed
  // and drawn, and the page says how many partitions are folded.
  const partitions = Number(sql("demo", `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('public','inventory') AND c.relispartition AND c.relkind IN ('r','p','f')`));
  const unfolded = Number(expected) - partitions;
  const listed = await page.locator("#table-list li").count();
  check(listed === unfolded, `the side list shows all ${unfolded} tables that are not partitions (got ${listed})`);
  const boxes = await page.locator("#world g.tbl").count();
  check(boxes === unfolded, `the diagram draws all ${unfolded} tables that are not partitions (got ${boxes})`);
  check((await page.textContent("#reduced")) === `${partitions} partitions folded into their parents`,
    `the page says what is folded: "${await page.textContent("#reduced")}"`);
  check((await page.textContent('#world g.tbl[data-key="public.payments"] text.kind')) === `partitioned +${partitions}`,
    "the parent's box says how many partitions it holds");
  await page.uncheck("#fold-partitions");
  await page.waitForFunction((n) => document.querySelectorAll("#world g.tbl").length === n, Number(expected), { timeout: 5000 });
  check(await page.locator("#table-list li").count() === Number(expected), `unfolded, all ${expected} tables are listed and drawn`);
  await page.check("#fold-partitions");
  await page.waitForFunction((n) => document.querySelectorAll("#world g.tbl").length === n, unfolded, { timeout: 5000 });
  check(await page.locator('#world g.tbl[data-key="public.\\"Order Items\\""]').count() === 1,
    "a quoted table name is drawn under its quoted key");
  const customerRows = await page.locator('#world g.tbl[data-key="public.customers"] g.row').allTextContents();
  check(customerRows.some((t) => t.includes("email")), "columns are drawn in their table");
  check(await page.locator("#world path.edge").count() >= 8, "relationships are drawn as edges");
  const first = {
    text: await page.textContent("#last-refreshed"),
    at: await page.getAttribute("#last-refreshed", "data-at"),
    title: await page.getAttribute("#last-refreshed", "title"),
  };
  check(/^Last refreshed (just now|\d+ seconds? ago)$/.test(first.text), `"${first.text}"`);
  check(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/.test(first.title || ""), `exact time on hover: ${first.title}`);
  check(/from the (fresh catalog read|memory cache|snapshot store)/.test(await page.textContent("#source")),
    `the source is named: ${await page.textContent("#source")}`);
  check(!(await page.isVisible("#drift-pill")), "no drift pill on a first read");
  // State in words (issue 15.9): which database and schemas are on screen, no credential.
  const onScreen = await page.textContent("#on-screen");
  check(/\/demo · inventory, public · PostgreSQL \d+/.test(onScreen) && !onScreen.includes(env("PGPASSWORD")) &&
    !onScreen.includes("postgres:"), `the page names the database and schemas on screen: "${onScreen}"`);
  const url = page.url();
  check(!url.includes("postgres") && !(await page.evaluate(() => JSON.stringify(localStorage))).includes("postgres://"),
    "the database URL is not kept in the address bar or local storage");

  // 2b. Labels are readable at Fit: every schema name and every table name drawn is at
  //     least 9 px tall on screen (issue 15.1).
  const textHeights = (sel) => page.$$eval(sel, (els) => els.map((e) => e.getBoundingClientRect().height));
  const demoSchemaLabels = await textHeights("#world text.schema-label");
  check(demoSchemaLabels.length === 2 && demoSchemaLabels.every((h) => h >= 10),
    `both schema names are readable at Fit (${demoSchemaLabels.map(Math.round)} px)`);
  const demoTitles = await textHeights("#world text.title");
  check(demoTitles.length > 0 && demoTitles.every((h) => h >= 9),
    `table names drawn at Fit are readable (${demoTitles.length}, smallest ${Math.round(Math.min(...demoTitles))} px)`);

  // 2c. Clicking a table in the diagram selects it and opens its details (issue 15.1, 15.2):
  //     its columns and indexes with definitions, its relationships both ways; its
  //     neighbours stand out and the rest is dimmed.
  await page.click('#world g.tbl[data-key="public.orders"] rect.box');
  await page.waitForSelector("#detail:not([hidden])", { timeout: 5000 });
  check((await page.textContent("#detail-title")) === "public.orders", "a click on a table opens its details");
  check((await cls('#world g.tbl[data-key="public.orders"]')).includes("focus"), "the clicked table is outlined");
  const detail = await page.textContent("#detail");
  check(detail.includes("placed_at") && detail.includes("orders_customer") &&
    detail.includes("CREATE INDEX orders_customer ON public.orders"),
    "the details list its columns and its indexes with their definitions");
  check(detail.includes("Referenced by") && detail.includes("References"), "and its relationships both ways");
  check(await page.getAttribute('#world g.tbl[data-key="public.customers"]', "data-rel") === "near" &&
    await page.getAttribute('#world g.tbl[data-key="inventory.warehouses"]', "data-rel") === "far",
    "its neighbours are highlighted and the other tables dimmed");
  check(await page.locator('#world path.edge[data-rel="near"]').count() >= 3, "its relationships are highlighted");
  await page.screenshot({ path: join(OUT_DIR, "select.png") });
  // Everyone (issue 15.8): axe-core finds no serious or critical violation, with a
  // table selected and its details open.
  const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  const axeCheck = async (what) => {
    await page.addScriptTag({ content: axeSource });
    const found = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    });
    check(found.length === 0, `axe-core: no serious violations ${what}${found.length ? ": " + found.join("; ") : ""}`);
  };
  await axeCheck("with the details open");
  await page.click('#detail button.rel[data-key="public.customers"]');
  await page.waitForFunction(() => document.getElementById("detail-title")?.textContent === "public.customers",
    null, { timeout: 5000 });
  check(true, "a relationship in the details leads to the table at its other end");
  await page.keyboard.press("Escape");
  check(await page.isHidden("#detail"), "Escape closes the details");
  // Keyboard only: Tab reaches the side list, Enter there centres and opens a table; Tab
  // from the list's last item reaches the diagram, Enter on a box opens it.
  await page.focus("#fold-partitions");
  await page.keyboard.press("Tab");
  const listed1 = await page.evaluate(() => document.activeElement?.dataset?.key);
  await page.keyboard.press("Enter");
  await page.waitForFunction((k) => document.getElementById("detail-title")?.textContent === k, listed1, { timeout: 5000 });
  check(!!listed1, `Tab reaches the side list and Enter opens its table (${listed1})`);
  await page.keyboard.press("Escape");
  await page.focus("#table-list li:last-child");
  await page.keyboard.press("Tab");
  const tabbed = await page.evaluate(() => document.activeElement?.closest?.("g.tbl")?.getAttribute("data-key"));
  check(!!tabbed, `Tab reaches a table in the diagram (${tabbed})`);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#detail:not([hidden])", { timeout: 5000 });
  check((await page.textContent("#detail-title")) === tabbed, "Enter on a focused table opens its details");
  check(await page.evaluate(() => document.activeElement?.closest?.("g.tbl")?.getAttribute("data-key")) === tabbed,
    "the keyboard focus stays on the table");
  await page.screenshot({ path: join(OUT_DIR, "keyboard-select.png") });
  await page.keyboard.press("Escape");

  // 2d. Reduce (issue 15.3): search finds columns too and marks them on the canvas; keys
  //     only; the neighbours view; hiding a table and showing it again.
  await page.fill("#search", "sku");
  await page.waitForSelector('#world g.tbl[data-key="public.products"][data-match="column"]', { timeout: 5000 });
  check(await page.locator('#world g.row[data-match="1"]').count() === 1 &&
    (await page.getAttribute('#world g.row[data-match="1"]', "data-key")) === "public.products.sku",
    "a column search marks the matching column in its table");
  check((await page.textContent("#table-count")) === `1 of ${unfolded} tables match` &&
    (await page.locator("#table-list li").count()) === 1, "and lists its table");
  await page.screenshot({ path: join(OUT_DIR, "search-columns.png") });
  await page.fill("#search", "");
  await page.waitForFunction(() => !document.querySelector("#world [data-match]"), null, { timeout: 5000 });
  await page.check("#keys-only");
  await page.waitForFunction(() => !document.querySelector('#world g.row[data-key="public.customers.email"]'), null, { timeout: 5000 });
  check(await page.locator('#world g.row[data-key="public.customers.id"]').count() === 1 &&
    (await page.textContent("#reduced")).includes("key columns only"), "keys only keeps key columns and says so");
  await page.uncheck("#keys-only");
  await page.waitForSelector('#world g.row[data-key="public.customers.email"]', { timeout: 5000, state: "attached" });
  await page.click('#table-list li[data-key="public.orders"]');
  await page.waitForSelector("#detail:not([hidden])", { timeout: 5000 });
  await page.click('#detail button[data-action="neighbours"][data-hops="1"]');
  await page.waitForSelector("#neighbours:not([hidden])", { timeout: 5000 });
  const near = (await page.locator("#world g.tbl").evaluateAll((els) => els.map((e) => e.dataset.key))).sort();
  const expectNear = sql("demo", `SELECT string_agg(t, ',' ORDER BY t) FROM (
      SELECT DISTINCT CASE WHEN conrelid = 'public.orders'::regclass THEN confrelid ELSE conrelid END::regclass::text AS t
      FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 AND (conrelid = 'public.orders'::regclass OR confrelid = 'public.orders'::regclass)
      UNION SELECT 'orders') x`).split(",").map((t) => t.includes(".") ? t : `public.${t}`).sort();
  check(JSON.stringify(near) === JSON.stringify(expectNear),
    `the neighbours view shows the table and its direct neighbours only (${near.join(", ")})`);
  check((await page.textContent("#neighbours-text")) === `${near.length} tables within 1 hop of public.orders`,
    `and says so: "${await page.textContent("#neighbours-text")}"`);
  await page.screenshot({ path: join(OUT_DIR, "neighbours.png") });
  await page.click("#show-all");
  await page.waitForFunction((n) => document.querySelectorAll("#world g.tbl").length === n, unfolded, { timeout: 5000 });
  await page.click('#table-list li[data-key="public.reviews"]');
  await page.click('#detail button[data-action="hide"]');
  await page.waitForFunction(() => !document.querySelector('#world g.tbl[data-key="public.reviews"]'), null, { timeout: 5000 });
  check((await page.textContent("#reduced")).includes("1 table hidden") && await page.isVisible("#show-hidden"),
    "a hidden table leaves the diagram and the page says so");
  await page.click("#show-hidden");
  await page.waitForSelector('#world g.tbl[data-key="public.reviews"]', { timeout: 5000, state: "attached" });
  check(await page.isHidden("#show-hidden"), "Show hidden tables brings it back");
  await page.click("#zoom-fit");

  // 2e. Follow (issue 15.5): crow's-foot ends from nullability and uniqueness, the
  //     cardinality in words on hover.
  const edgeAttr = (key, a) => page.getAttribute(`#world path.edge[data-key="${key}"]`, a);
  check(await edgeAttr("public.orders.orders_customer_id_fkey", "marker-start") === "url(#cf-zero-many)" &&
    await edgeAttr("public.orders.orders_customer_id_fkey", "marker-end") === "url(#cf-one)" &&
    (await page.textContent('#world path.edge[data-key="public.orders.orders_customer_id_fkey"] title')).endsWith("many → exactly one"),
    "a required many-to-one reference ends in a crow's foot and a double bar");
  check(await edgeAttr("public.orders.orders_shipping_address_id_fkey", "marker-end") === "url(#cf-zero-one)",
    "a nullable reference ends in zero-or-one");

  // 3. Refresh: progress while it runs, the UI stays usable, and "Last refreshed" moves.
  await sleep(1100);
  await page.route("**/api/v1/introspect/postgres/snapshot", async (route) => {
    await sleep(800);
    await route.continue();
  });
  await page.click("#refresh");
  await page.waitForSelector("#progress:not([hidden])", { timeout: 2000 });
  check(true, "progress shows while the refresh runs");
  check(await page.isDisabled("#refresh"), "Refresh is disabled while it runs");
  // (A table name no column shares: the search also finds columns.)
  await page.fill("#search", "payments");
  check((await page.locator("#table-list li").count()) === 1, "search still filters the list during a request");
  await page.fill("#search", "");
  await loads(2);
  await page.unroute("**/api/v1/introspect/postgres/snapshot");
  const second = {
    at: await page.getAttribute("#last-refreshed", "data-at"),
    title: await page.getAttribute("#last-refreshed", "title"),
  };
  check(second.at > first.at, `Refresh changes "Last refreshed" (${first.at} -> ${second.at})`);
  check((await page.textContent("#source")).includes("fresh catalog read"), "a forced refresh is a fresh read");
  check(!(await page.isVisible("#drift-pill")), "no drift pill when nothing changed");

  // 4. A DDL change between two refreshes: the drift pill, the changed table marked.
  sql("demo", "ALTER TABLE public.customers ADD COLUMN loyalty_tier text; " +
    "ALTER TABLE inventory.stock ALTER COLUMN on_hand TYPE bigint; " +
    "CREATE TABLE public.coupons (code text PRIMARY KEY, customer_id bigint REFERENCES public.customers(id)); " +
    "CREATE FUNCTION public.orders_touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'; " +
    "CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.orders_touch()");
  await page.click("#refresh");
  await loads(3);
  check(await page.isVisible("#drift-pill"), "the drift pill appears after a DDL change");
  check((await page.textContent("#drift-pill")).trim() === "Schema changed since last refresh", "the pill's words");
  await page.waitForSelector('html[data-diff="ready"]', { timeout: 15000, state: "attached" });
  check((await cls('#world g.tbl[data-key="public.customers"]')).includes("changed"),
    "the changed table is marked in the diagram");
  check((await cls('#world g.row[data-key="public.customers.loyalty_tier"]')).includes("added"),
    "the added column is marked in its table");
  check((await cls('#world g.tbl[data-key="public.coupons"]')).includes("added"), "the added table is marked");
  check((await cls('#world g.row[data-key="inventory.stock.on_hand"]')).includes("changed"),
    "the column whose type changed is marked");
  check((await cls('#table-list li[data-key="public.customers"]')).includes("changed"), "and in the side list");
  check((await cls('#world g.tbl[data-key="public.orders"]')).includes("changed"),
    "a table whose only change is a new trigger is marked changed");
  await page.click("#drift-pill");
  const changes = await page.textContent("#changes");
  check(changes.includes("loyalty_tier") && changes.includes("integer → bigint"),
    "the changes panel says what changed");
  check(changes.includes("public.orders.orders_touch") && changes.includes("public.orders_touch()"),
    "the changes panel lists the new trigger and its function");
  await page.screenshot({ path: join(OUT_DIR, "drift.png") });

  // 5. Search focuses a table.
  await page.fill("#search", "stock");
  await page.press("#search", "Enter");
  await page.waitForSelector('#world g.tbl.focus[data-key="inventory.stock"]', { timeout: 5000 });
  check(true, "search finds and focuses a table");

  // 6. Refresh visible tables: zoomed in on one table, only what is on screen is re-read.
  for (let i = 0; i < 4; i++) await page.click("#zoom-in");
  await sleep(100);
  sql("demo", "COMMENT ON TABLE inventory.stock IS 'counted nightly'");
  await page.click("#refresh-visible");
  await loads(4);
  const source = await page.textContent("#source");
  check(/\d+ visible tables? re-read/.test(source), `a visible refresh re-reads what is on screen: ${source}`);
  check((await page.textContent('#world g.tbl[data-key="inventory.stock"] > title')).includes("counted nightly"),
    "the visible table's new comment is shown");
  // An edge that leaves what is drawn names the far table; a click on the name goes there.
  for (let i = 0; i < 8 && (await page.locator("#world text.stub").count()) === 0; i++) await page.click("#zoom-in");
  const stubEl = page.locator("#world text.stub").first();
  const stub = { far: await stubEl.getAttribute("data-far"), text: await stubEl.textContent() };
  check(!!stub.far && stub.text.endsWith(stub.far), `an edge leaving what is drawn is labelled with its far table (${stub.text})`);
  await page.screenshot({ path: join(OUT_DIR, "stubs.png") });
  await stubEl.dispatchEvent("pointerdown", { button: 0, pointerId: 1, clientX: 10, clientY: 10 });
  await page.locator("#diagram").dispatchEvent("pointerup", { button: 0, pointerId: 1, clientX: 10, clientY: 10 });
  await page.waitForSelector(`#world g.tbl.focus[data-key="${stub.far}"]`, { timeout: 5000, state: "attached" });
  check(true, "clicking the label goes to that table");
  const afterVisible = await page.textContent("#last-refreshed");
  check(/^Visible tables re-read just now · whole catalog (just now|\d+ seconds? ago)$/.test(afterVisible),
    `"Last refreshed" tells a visible refresh apart: "${afterVisible}"`);

  // 7. Pan and zoom move the view.
  const before = await page.getAttribute("#world", "transform");
  const box = await page.locator("#diagram").boundingBox();
  await page.mouse.move(box.x + 300, box.y + 300);
  await page.mouse.down();
  await page.mouse.move(box.x + 500, box.y + 400, { steps: 5 });
  await page.mouse.up();
  await page.mouse.wheel(0, 400);
  await sleep(100);
  check((await page.getAttribute("#world", "transform")) !== before, "pan and zoom move the diagram");

  // 8. Errors in plain words.
  await page.fill("#schemas", "public, no_such_schema");
  await page.click("#load");
  await page.waitForSelector("#error:not([hidden])", { timeout: 10000 });
  const error = await page.textContent("#error");
  check(/not accepted \(schemas\).*no_such_schema/.test(error), `a bad schema is explained: "${error}"`);
  check(!error.includes(DEMO_DB_URL.split("@")[0]), "the error does not echo credentials");
  check(error.includes("The diagram below is still the one loaded before") &&
    (await page.getAttribute("html", "data-stale")) === "true",
    "an error over the old diagram says the diagram is the old one, and it is greyed");
  await page.screenshot({ path: join(OUT_DIR, "stale-error.png") });
  check(pageErrors.length === 0, `no script errors (${pageErrors.join("; ")})`);
  await context.close();

  // 8b. A phone and the dark theme (issue 15.8): at 375 px the diagram keeps most of the
  //     screen; with the system in dark mode the page is dark; axe-core in both.
  for (const [what, opts] of [["at 375 px", { viewport: { width: 375, height: 812 } }],
    ["in the dark theme", { viewport: { width: 1440, height: 900 }, colorScheme: "dark" }]]) {
    const ctx = await browser.newContext(opts);
    const p = await ctx.newPage();
    await p.goto(`${BASE_URL}/?connectionId=demo&schemas=public,inventory`);
    await p.waitForSelector('html[data-loads="1"][data-state="idle"]', { timeout: 30000, state: "attached" });
    const d = await p.locator("#diagram").boundingBox();
    check(d.width >= opts.viewport.width - 20 || opts.viewport.width > 1000, `${what}: the diagram is ${Math.round(d.width)} px wide`);
    check(d.height >= opts.viewport.height * 0.45, `${what}: the diagram is ${Math.round(d.height)} px tall`);
    if (opts.colorScheme === "dark") {
      const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const [r, g, b] = bg.match(/\d+/g).map(Number);
      check(r + g + b < 120, `${what}: the page is dark (${bg})`);
    }
    await p.click('#world g.tbl[data-key="public.orders"] rect.box');
    await p.waitForSelector("#detail:not([hidden])", { timeout: 5000 });
    await p.addScriptTag({ content: axeSource });
    const found = await p.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    });
    check(found.length === 0, `axe-core: no serious violations ${what}${found.length ? ": " + found.join("; ") : ""}`);
    await p.screenshot({ path: join(OUT_DIR, opts.colorScheme === "dark" ? "dark.png" : "phone-375.png") });
    await ctx.close();
  }

  // 9. Page load to diagram drawn: a fresh page that loads a connection by id.
  const timeToDiagram = async (query, tables, timeout) => {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const p = await ctx.newPage();
    await p.goto(`${BASE_URL}/?${query}`);
    await p.waitForSelector('html[data-loads="1"]', { timeout, state: "attached" });
    const drawn = Number(await p.getAttribute("html", "data-first-draw-ms"));
    const timings = JSON.parse(await p.getAttribute("html", "data-timings"));
    const count = await p.textContent("#table-count");
    check(count === `${tables} tables`, `${tables} tables listed (${count})`);
    await ctx.close();
    return { pageLoadToDiagramMs: drawn, ...timings };
  };
  figures.demoCold = await timeToDiagram("connectionId=demo&schemas=public,inventory",
    unfolded + 1, 30000);
  figures.demoWarm = await timeToDiagram("connectionId=demo&schemas=public,inventory",
    unfolded + 1, 30000);
  if (process.env.GEN2000 === "1") {
    figures.gen2000Cold = await timeToDiagram("connectionId=gen2000&schemas=public", 2000, 90000);
    figures.gen2000Warm = await timeToDiagram("connectionId=gen2000&schemas=public", 2000, 90000);
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const p = await ctx.newPage();
    await p.goto(`${BASE_URL}/?connectionId=gen2000&schemas=public`);
    await p.waitForSelector('html[data-loads="1"]', { timeout: 90000, state: "attached" });
    await p.screenshot({ path: join(OUT_DIR, "gen2000.png") });
    // At Fit, 2,000 boxes are too small for their own names: the schema is named and the
    // boxes are gathered in labelled clusters, every label readable (issue 15.1).
    const heights = (sel) => p.$$eval(sel, (els) => els
      .filter((e) => { const r = e.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth; })
      .map((e) => e.getBoundingClientRect().height));
    const schemaLabel = await heights("#world text.schema-label");
    check(schemaLabel.length === 1 && schemaLabel[0] >= 10, `the schema name is readable at Fit (${schemaLabel.map(Math.round)} px)`);
    const clusters = await heights("#world text.cluster");
    const named = await heights("#world text.title");
    check(clusters.length >= 20 && [...clusters, ...named].every((h) => h >= 9),
      `at Fit the boxes carry readable names or cluster labels (${clusters.length} clusters, ${named.length} names)`);
    const counted = await p.$$eval("#world text.cluster", (els) => els.reduce((n, e) => n + Number(e.dataset.count), 0));
    const titled = await p.locator("#world text.title").count();
    const drawnBoxes = await p.locator("#world g.tbl").count();
    check(counted + titled === drawnBoxes, `every drawn table is named or counted in a cluster (${counted} + ${titled} of ${drawnBoxes})`);
    await p.screenshot({ path: join(OUT_DIR, "labels-fit.png") });
    // Panning across the whole catalog at full detail: time per redraw.
    await p.fill("#search", "t1000");
    await p.press("#search", "Enter");
    await p.waitForSelector('#world g.tbl.focus[data-key="public.t1000"]', { timeout: 5000 });
    figures.gen2000PanFrameMs = await p.evaluate(async () => {
      const svg = document.getElementById("diagram");
      const r = svg.getBoundingClientRect();
      const t0 = performance.now();
      let x = r.left + r.width / 2;
      svg.dispatchEvent(new PointerEvent("pointerdown", { clientX: x, clientY: r.top + 300, button: 0, bubbles: true, pointerId: 1 }));
      for (let i = 0; i < 60; i++) {
        x -= 40;
        svg.dispatchEvent(new PointerEvent("pointermove", { clientX: x, clientY: r.top + 300, bubbles: true, pointerId: 1 }));
        await new Promise((res) => requestAnimationFrame(() => res()));
      }
      svg.dispatchEvent(new PointerEvent("pointerup", { clientX: x, clientY: r.top + 300, bubbles: true, pointerId: 1 }));
      return Math.round(((performance.now() - t0) / 60) * 10) / 10;
    });
    await ctx.close();
  }
} catch (e) {
  console.log(`FAIL ${e.stack || e}`);
  if (pageErrors.length) console.log(`page errors: ${pageErrors.join("\n")}`);
  failures++;
} finally {
  await browser.close();
}
writeFileSync(join(OUT_DIR, "figures.json"), JSON.stringify(figures, null, 2));
console.log(`e2e figures: ${JSON.stringify(figures)}`);
console.log(`screenshots in ${OUT_DIR}: drift.png select.png keyboard-select.png search-columns.png neighbours.png stubs.png stale-error.png phone-375.png dark.png${process.env.GEN2000 === "1" ? " gen2000.png labels-fit.png" : ""}`);
if (failures) {
  console.log(`e2e: ${failures} check(s) failed`);
  process.exit(1);
}
console.log("e2e: all checks passed");
