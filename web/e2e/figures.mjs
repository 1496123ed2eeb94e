// The web app's figures (scripts/web-figures.sh starts everything): time to first
// diagram per catalog (cold: the first read; warm: served from the memory tier), as
// ratios to the demo's, and pan frame times at reading zoom. Prints and writes
// OUT_DIR/web-figures.json; asserts nothing.
import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const BASE_URL = process.env.BASE_URL;
const OUT_DIR = process.env.OUT_DIR;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const catalogs = {
  demo: "public,inventory",
  netbox: "public",
  musicbrainz: "musicbrainz,cover_art_archive,event_art_archive,documentation,json_dump,report,sitemaps,statistics,wikidocs,dbmirror",
  gen2000: "public",
};
const open = async (id) => {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const p = await ctx.newPage();
  await p.goto(`${BASE_URL}/?connectionId=${id}&schemas=${catalogs[id]}`);
  await p.waitForSelector('html[data-loads="1"][data-state="idle"]', { timeout: 120000, state: "attached" });
  return { ctx, p };
};
const firstDiagram = async (id) => {
  const { ctx, p } = await open(id);
  const ms = Number(await p.getAttribute("html", "data-first-draw-ms"));
  const timings = JSON.parse(await p.getAttribute("html", "data-timings"));
  await ctx.close();
  return { pageLoadToDiagramMs: ms, ...timings };
};
// Pans 120 frames of 24 px at the zoom where rows are readable (a table focused), timing
// each frame from one animation-frame callback to the next.
const pan = async (id, table) => {
  const { ctx, p } = await open(id);
  await p.fill("#search", table);
  await p.press("#search", "Enter");
  await p.waitForSelector("#world g.tbl.focus", { timeout: 10000, state: "attached" });
  await p.keyboard.press("Escape");
  const detail = await p.getAttribute("html", "data-detail");
  const frames = await p.evaluate(async () => {
    const svg = document.getElementById("diagram");
    const r = svg.getBoundingClientRect();
    let x = r.left + r.width - 50;
    const y = r.top + r.height / 2;
    const opts = (cx) => ({ clientX: cx, clientY: y, button: 0, bubbles: true, pointerId: 1 });
    svg.dispatchEvent(new PointerEvent("pointerdown", opts(x)));
    const times = [];
    let last = await new Promise((res) => requestAnimationFrame(res));
    for (let i = 0; i < 120; i++) {
      x -= 24;
      if (x < r.left + 50) x = r.left + r.width - 50;
      svg.dispatchEvent(new PointerEvent("pointermove", opts(x)));
      const now = await new Promise((res) => requestAnimationFrame(res));
      times.push(now - last);
      last = now;
    }
    svg.dispatchEvent(new PointerEvent("pointerup", opts(x)));
    return times;
  });
  await ctx.close();
  frames.sort((a, b) => a - b);
  const q = (f) => Math.round(frames[Math.min(frames.length - 1, Math.floor(f * frames.length))] * 10) / 10;
  return { detail, medianMs: q(0.5), p95Ms: q(0.95), maxMs: q(1) };
};

const figures = { firstDiagram: {}, pan: {} };
try {
  for (const id of Object.keys(catalogs)) {
    figures.firstDiagram[id] = { cold: await firstDiagram(id), warm: await firstDiagram(id) };
  }
  const demo = figures.firstDiagram.demo;
  for (const id of Object.keys(catalogs)) {
    const f = figures.firstDiagram[id];
    f.coldRatioToDemo = Math.round((f.cold.pageLoadToDiagramMs / demo.cold.pageLoadToDiagramMs) * 10) / 10;
    f.warmRatioToDemo = Math.round((f.warm.pageLoadToDiagramMs / demo.warm.pageLoadToDiagramMs) * 10) / 10;
  }
  figures.pan.demo = await pan("demo", "orders");
  figures.pan.musicbrainz = await pan("musicbrainz", "recording");
  figures.pan.gen2000 = await pan("gen2000", "t1000");
} finally {
  await browser.close();
}
writeFileSync(join(OUT_DIR, "web-figures.json"), JSON.stringify(figures, null, 2));
console.log(JSON.stringify(figures, null, 2));
