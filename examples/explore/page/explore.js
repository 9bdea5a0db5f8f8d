// explore.js - the page of vae-explore (docs/explore.md). Plain JavaScript
// on the server's JSON API; no library, no build step.
"use strict";

// The colours of examples/common/latent_plot.c, so the map matches the
// plot-latent pictures.
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
  "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"];
const SLIDER_RANGE = 3; // slider units are the spread along each axis
const PICK_RADIUS = 6;  // pixels within which the mouse is on a point
const $ = (id) => document.getElementById(id);

let info = null;
let coords = [];
let mapData = null;
let mapBounds = 1;
let hoverItem = -1;
const picks = [];
let imageShape = [0, 0];

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const res = await fetch(path, init);
  const data = await res.json();
  if (!res.ok) throw new Error(`${path}: ${data.error || res.statusText}`);
  return data;
}

// Runs an API action, showing its failure on the page rather than losing it.
async function guarded(action) {
  try {
    await action();
  } catch (err) {
    showError(err.message);
  }
}

// ---- Latents and the slider basis -----------------------------------------

function latentOf(c) {
  const b = info.basis;
  const z = b.mean.slice();
  for (let j = 0; j < c.length; j++) {
    const w = c[j] * b.scale[j];
    for (let i = 0; i < z.length; i++) z[i] += w * b.axes[j][i];
  }
  return z;
}

function setCoords(c) {
  coords = c.map((v) => Math.max(-SLIDER_RANGE, Math.min(SLIDER_RANGE, v)));
  coords.forEach((v, j) => {
    $(`slider-${j}`).value = v.toFixed(2);
    $(`slider-${j}-value`).textContent = v.toFixed(2);
  });
}

// From the server's raw basis coordinates to slider units.
function sliderUnits(raw) {
  return raw.map((v, j) => v / info.basis.scale[j]);
}

function buildSliders() {
  const box = $("sliders");
  const b = info.basis;
  b.axes.forEach((_, j) => {
    const label = document.createElement("label");
    label.htmlFor = `slider-${j}`;
    label.textContent = b.kind === "pca"
      ? `PC${j + 1} (${(100 * b.share[j]).toFixed(1)}%)` : `z${j + 1}`;
    const input = document.createElement("input");
    Object.assign(input, {
      type: "range", id: `slider-${j}`, min: -SLIDER_RANGE, max: SLIDER_RANGE,
      step: 0.05, value: 0,
    });
    const out = document.createElement("output");
    out.id = `slider-${j}-value`;
    out.textContent = "0.00";
    input.addEventListener("input", () => {
      coords[j] = Number(input.value);
      out.textContent = coords[j].toFixed(2);
      requestDecode();
    });
    box.append(label, input, out);
  });
  coords = b.axes.map(() => 0);
  $("decoder-hint").textContent = b.kind === "pca"
    ? `Each slider moves along one of the first ${b.axes.length} principal ` +
      "axes of the test set's posterior means, in units of their spread; " +
      `the other ${info.latent - b.axes.length} directions stay at the mean.`
    : `Each slider sets one latent coordinate (the prior is N(0, 1) in each).`;
}

// ---- Showing results ----------------------------------------------------------

function greyImage(canvas, pixels) {
  const [h, w] = imageShape;
  const small = document.createElement("canvas");
  small.width = w;
  small.height = h;
  const sctx = small.getContext("2d");
  const img = sctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    img.data.set([pixels[i], pixels[i], pixels[i], 255], 4 * i);
  }
  sctx.putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

function showDecoded(value) {
  if (info.kind === "image") greyImage($("decoded"), value);
  else $("decoded-text").textContent = value || "(empty sentence)";
}

// One decode in flight at a time; moves made meanwhile collapse into one
// more request, so a dragged slider never queues a backlog.
let decodeBusy = false;
let decodePending = false;
async function requestDecode() {
  if (decodeBusy) {
    decodePending = true;
    return;
  }
  decodeBusy = true;
  try {
    do {
      decodePending = false;
      const r = await api("/api/decode", { z: latentOf(coords) });
      showDecoded(info.kind === "image" ? r.image : r.sentence);
    } while (decodePending);
  } catch (err) {
    showError(err.message);
  } finally {
    decodeBusy = false;
  }
}

// ---- The latent map -------------------------------------------------------------

function mapToCanvas(x, y) {
  const c = $("map");
  return [(x / mapBounds * 0.5 + 0.5) * c.width,
    (0.5 - y / mapBounds * 0.5) * c.height];
}

function canvasToMap(px, py) {
  const c = $("map");
  return [(px / c.width - 0.5) * 2 * mapBounds,
    (0.5 - py / c.height) * 2 * mapBounds];
}

function drawMap() {
  const c = $("map");
  const ctx = c.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, c.width, c.height);
  ctx.strokeStyle = "#e3e6eb";
  ctx.beginPath();
  ctx.moveTo(c.width / 2, 0);
  ctx.lineTo(c.width / 2, c.height);
  ctx.moveTo(0, c.height / 2);
  ctx.lineTo(c.width, c.height / 2);
  ctx.stroke();
  if (!mapData) return;
  ctx.globalAlpha = 0.6;
  mapData.points.forEach(([x, y], i) => {
    const [px, py] = mapToCanvas(x, y);
    ctx.fillStyle = PALETTE[mapData.labels[i] % PALETTE.length];
    ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
  });
  ctx.globalAlpha = 1;
  const marks = picks.map((item, k) => [item, "AB"[k]]);
  if (hoverItem >= 0) marks.push([hoverItem, ""]);
  for (const [item, letter] of marks) {
    const [px, py] = mapToCanvas(...mapData.points[item]);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(px, py, 5, 0, 2 * Math.PI);
    ctx.stroke();
    if (letter) {
      ctx.fillStyle = "#000";
      ctx.font = "bold 13px system-ui, sans-serif";
      ctx.fillText(letter, px + 7, py - 7);
    }
  }
}

function nearestItem(px, py) {
  let best = -1;
  let bestD = PICK_RADIUS * PICK_RADIUS;
  mapData.points.forEach(([x, y], i) => {
    const [qx, qy] = mapToCanvas(x, y);
    const d = (qx - px) ** 2 + (qy - py) ** 2;
    if (d <= bestD) {
      best = i;
      bestD = d;
    }
  });
  return best;
}

function eventPos(ev) {
  const r = $("map").getBoundingClientRect();
  return [(ev.clientX - r.left) * $("map").width / r.width,
    (ev.clientY - r.top) * $("map").height / r.height];
}

async function loadMap() {
  const legend = $("legend");
  info.classes.forEach((name, k) => {
    const s = document.createElement("span");
    s.textContent = name;
    s.style.setProperty("--dot", PALETTE[k % PALETTE.length]);
    legend.append(s);
  });
  if (!info.map_points) {
    $("map-hint").textContent =
      "Start vae-explore with --data to see the test set here; the mouse " +
      "still decodes the plane of the first two sliders.";
    mapBounds = SLIDER_RANGE * Math.max(...info.basis.scale.slice(0, 2));
    drawMap();
    return;
  }
  mapData = await api("/api/map");
  mapBounds = 1e-6;
  for (const [x, y] of mapData.points) {
    mapBounds = Math.max(mapBounds, Math.abs(x), Math.abs(y));
  }
  mapBounds *= 1.05;
  const what = info.kind === "image" ? "test image" : "test sentence";
  $("map-hint").textContent =
    `${mapData.points.length} ${what}s at their posterior means, on the ` +
    `first two ${info.basis.kind === "pca" ? "principal axes" : "latent axes"}` +
    ` (coloured by ${info.legend}). The point under the mouse is decoded; ` +
    (info.kind === "image" ? "click two points to interpolate."
      : "click a point to reconstruct its sentence.");
  drawMap();
}

function onMapMove(ev) {
  const [px, py] = eventPos(ev);
  const [x, y] = canvasToMap(px, py);
  const c = coords.map(() => 0);
  c[0] = x / info.basis.scale[0];
  if (c.length > 1) c[1] = y / info.basis.scale[1];
  setCoords(c);
  requestDecode();
  if (!mapData) return;
  hoverItem = nearestItem(px, py);
  $("map-status").textContent = hoverItem >= 0
    ? `item ${hoverItem}: ${info.legend} ${info.classes[mapData.labels[hoverItem]]}`
    : "";
  drawMap();
}

async function onMapClick(ev) {
  if (!mapData) return;
  const item = nearestItem(...eventPos(ev));
  if (item < 0) return;
  if (info.kind === "text") {
    await guarded(() => reconstruct({ index: item }));
    return;
  }
  if (picks.length === 2) picks.length = 0;
  picks.push(item);
  drawMap();
  if (picks.length === 2) await guarded(interpolateImages);
}

// ---- Image interpolation -------------------------------------------------------

async function interpolateImages() {
  const [a, b] = picks;
  $("pick-a").textContent = `item ${a} (${info.classes[mapData.labels[a]]})`;
  $("pick-b").textContent = `item ${b} (${info.classes[mapData.labels[b]]})`;
  const r = await api("/api/interpolate",
    { from: { index: a }, to: { index: b }, steps: 10 });
  const strip = $("interp-strip");
  strip.replaceChildren();
  const tiles = [r.from, ...r.steps.map((s) => s.image), r.to];
  tiles.forEach((pixels, k) => {
    const c = document.createElement("canvas");
    c.width = imageShape[1];
    c.height = imageShape[0];
    if (k === 0 || k === tiles.length - 1) c.className = "end";
    strip.append(c);
    greyImage(c, pixels);
  });
}

async function randomPair() {
  if (!mapData) {
    showError("interpolation needs a data set: start vae-explore with --data");
    return;
  }
  const n = mapData.points.length;
  const a = Math.floor(Math.random() * n);
  picks.length = 0;
  picks.push(a, (a + 1 + Math.floor(Math.random() * (n - 1))) % n);
  drawMap();
  await interpolateImages();
}

// ---- Text panels ------------------------------------------------------------------

function decodingFields() {
  const fields = {
    mode: $("sample-mode").value,
    temperature: Number($("sample-temperature").value),
    top_k: Number($("sample-top-k").value),
    top_p: Number($("sample-top-p").value),
  };
  return fields;
}

function fillList(list, items) {
  list.replaceChildren(...items.map(([t, text]) => {
    const li = document.createElement("li");
    if (t !== null) {
      const tag = document.createElement("span");
      tag.className = "t";
      tag.textContent = t;
      li.append(tag);
    }
    li.append(text || "(empty sentence)");
    return li;
  }));
}

async function sampleSentences() {
  const r = await api("/api/sample",
    { n: Number($("sample-n").value), ...decodingFields() });
  fillList($("sample-list"), r.samples.map((s) => [null, s.sentence]));
}

async function reconstruct(source) {
  const r = await api("/api/encode", source);
  const out = $("recon-out");
  const rows = [["as the model reads it", r.input],
    ["greedy reconstruction", r.reconstruction]];
  if (r.label !== null) rows.unshift(["test item", `${source.index} (${r.label})`]);
  out.replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    return [dt, dd];
  }));
  setCoords(sliderUnits(r.coords));
  showDecoded(r.reconstruction);
}

async function interpolateSentences() {
  const r = await api("/api/interpolate", {
    from: { sentence: $("interp-from").value },
    to: { sentence: $("interp-to").value },
    steps: Number($("interp-steps").value),
  });
  fillList($("text-interp-list"), [["from", r.from],
    ...r.steps.map((s) => [s.t.toFixed(2), s.sentence]), ["to", r.to]]);
}

function onSubmit(id, action) {
  $(id).addEventListener("submit", (ev) => {
    ev.preventDefault();
    guarded(action);
  });
}

// ---- Start ----------------------------------------------------------------------------

async function samplePrior() {
  const r = await api("/api/sample", { n: 1 });
  const s = r.samples[0];
  setCoords(sliderUnits(s.coords));
  showDecoded(info.kind === "image" ? s.image : s.sentence);
}

async function start() {
  info = await api("/api/info");
  const app = $("app");
  app.dataset.kind = info.kind;
  const shape = info.data_shape;
  imageShape = shape.length >= 2 ? shape.slice(-2)
    : [Math.round(Math.sqrt(shape[0])), Math.round(Math.sqrt(shape[0]))];
  const data = info.data ? `; ${info.items} test items from ${info.data}` : "";
  $("summary").textContent =
    `${info.model}: ${info.kind} model, ${info.latent}-D latent, ` +
    (info.kind === "image" ? `${imageShape[0]}×${imageShape[1]} images`
      : `sentences of up to ${info.text.maxlen} tokens, ` +
        `a vocabulary of ${info.text.vocab}`) + data;
  buildSliders();
  $("centre").addEventListener("click", () => {
    setCoords(coords.map(() => 0));
    requestDecode();
  });
  $("prior").addEventListener("click", () => guarded(samplePrior));
  $("random-pair").addEventListener("click", () => guarded(randomPair));
  $("map").addEventListener("mousemove", onMapMove);
  $("map").addEventListener("click", onMapClick);
  onSubmit("sample-form", sampleSentences);
  onSubmit("recon-form",
    () => reconstruct({ sentence: $("recon-input").value, mode: "greedy" }));
  onSubmit("text-interp-form", interpolateSentences);
  await loadMap();
  await requestDecode();
  app.dataset.ready = "1";
}

window.addEventListener("unhandledrejection", (ev) => showError(String(ev.reason)));
guarded(start);
