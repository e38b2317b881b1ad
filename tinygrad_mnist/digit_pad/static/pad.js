// The digit pad's page. It only draws: the canvas's raw grayscale pixels go to the server,
// which preprocesses them and runs the model (tinygrad_mnist/digit_pad/); this script shows
// the 28x28 input, the hidden activations and the probabilities it sends back.
"use strict";

const STROKE_WIDTH = 20; // pixels on the 280x280 pad: about MNIST's pen after shrinking
const MIN_INTERVAL_MS = 80; // at most ~12 requests a second while drawing
const CELLS_PER_ROW = 32; // hidden units per row of a layer's strip
const CELL = 11; // pixels per hidden unit

const pad = document.getElementById("pad");
const padCtx = pad.getContext("2d", { willReadFrequently: true });
const inputCanvas = document.getElementById("input");
const statusEl = document.getElementById("status");
const errorEl = document.getElementById("error");
const labelEl = document.getElementById("label");
const randomButton = document.getElementById("random");
let activation = "relu";

// ------------------------------------------------------------------ drawing
function clearPad() {
  padCtx.fillStyle = "#000";
  padCtx.fillRect(0, 0, pad.width, pad.height);
}

function padPoint(event) {
  const rect = pad.getBoundingClientRect();
  return [
    ((event.clientX - rect.left) * pad.width) / rect.width,
    ((event.clientY - rect.top) * pad.height) / rect.height,
  ];
}

let drawing = false;
let last = null;

function strokeTo(point) {
  padCtx.strokeStyle = "#fff";
  padCtx.fillStyle = "#fff";
  padCtx.lineWidth = STROKE_WIDTH;
  padCtx.lineCap = "round";
  padCtx.lineJoin = "round";
  if (last) {
    padCtx.beginPath();
    padCtx.moveTo(last[0], last[1]);
    padCtx.lineTo(point[0], point[1]);
    padCtx.stroke();
  } else {
    padCtx.beginPath();
    padCtx.arc(point[0], point[1], STROKE_WIDTH / 2, 0, 2 * Math.PI);
    padCtx.fill();
  }
  last = point;
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  drawing = true;
  last = null;
  strokeTo(padPoint(event));
  if (labelEl.dataset.label) labelEl.textContent += " (with your strokes added)";
  delete labelEl.dataset.label;
  schedulePredict();
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  strokeTo(padPoint(event));
  schedulePredict();
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, () => {
    if (!drawing) return;
    drawing = false;
    last = null;
    schedulePredict();
  });
}

document.getElementById("clear").addEventListener("click", () => {
  clearPad();
  labelEl.textContent = "";
  delete labelEl.dataset.label;
  schedulePredict();
});

// ------------------------------------------------------------------ talking to the server
let inFlight = false;
let dirty = false;
let lastSent = 0;
let timer = null;
let failed = false; // the last request got no answer: what is shown is not the drawing's

function setBusy() {
  const busy = inFlight || dirty;
  statusEl.dataset.busy = busy ? "1" : "0";
  statusEl.textContent = busy ? "thinking\u2026" : failed ? "not up to date" : "up to date";
}

function schedulePredict() {
  dirty = true;
  setBusy();
  if (inFlight || timer) return;
  const wait = Math.max(0, lastSent + MIN_INTERVAL_MS - performance.now());
  timer = setTimeout(() => {
    timer = null;
    sendCanvas();
  }, wait);
}

function canvasBase64() {
  const rgba = padCtx.getImageData(0, 0, pad.width, pad.height).data;
  let text = "";
  const CHUNK = 8192;
  const gray = new Uint8Array(pad.width * pad.height);
  for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i]; // white on black: R = G = B
  for (let i = 0; i < gray.length; i += CHUNK) {
    text += String.fromCharCode.apply(null, gray.subarray(i, i + CHUNK));
  }
  return btoa(text);
}

async function callApi(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

async function sendCanvas() {
  dirty = false;
  inFlight = true;
  lastSent = performance.now();
  setBusy();
  const body = JSON.stringify({ width: pad.width, height: pad.height, pixels: canvasBase64() });
  try {
    show(await callApi("/api/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    }));
    failed = false;
  } catch (err) {
    failed = true;
    showError(err);
  } finally {
    inFlight = false;
    setBusy();
    if (dirty) schedulePredict();
  }
}

async function loadTestDigit() {
  try {
    const result = await callApi("/api/test-digit");
    paintDigitOnPad(result.pixels);
    labelEl.textContent = `MNIST test digit #${result.index}, true label: ${result.label}`;
    labelEl.dataset.label = String(result.label);
    show(result);
  } catch (err) {
    showError(err);
  }
}
randomButton.addEventListener("click", loadTestDigit);

function showError(err) {
  errorEl.hidden = false;
  // fetch rejects with a TypeError when there is no answer at all (the server was stopped).
  errorEl.textContent = err instanceof TypeError
    ? "Cannot reach the digit pad's server: is `tinygrad-mnist serve` still running?"
    : `The server said: ${err.message}`;
}

// ------------------------------------------------------------------ showing the answer
function paintDigitOnPad(pixels) {
  // The 28x28 digit, scaled up smoothly so it looks drawn; drawing on it then adds strokes.
  const small = document.createElement("canvas");
  small.width = small.height = 28;
  small.getContext("2d").putImageData(grayImage(pixels), 0, 0);
  clearPad();
  padCtx.imageSmoothingEnabled = true;
  padCtx.drawImage(small, 0, 0, pad.width, pad.height);
}

function grayImage(rows) {
  const h = rows.length;
  const w = rows[0].length;
  const image = new ImageData(w, h);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const i = 4 * (r * w + c);
      image.data[i] = image.data[i + 1] = image.data[i + 2] = rows[r][c];
      image.data[i + 3] = 255;
    }
  }
  return image;
}

function activationColour(value, lo, hi) {
  // Signed activations (tanh, LeakyReLU): blue below 0, orange above. ReLU and sigmoid
  // are never negative: black (0) to orange (the layer's largest value).
  if (value === null) return "#f0f";
  if (value >= 0) {
    const t = hi > 0 ? Math.min(1, value / hi) : 0;
    return `rgb(${Math.round(255 * t)}, ${Math.round(150 * t)}, ${Math.round(30 * t)})`;
  }
  const t = lo < 0 ? Math.min(1, value / lo) : 0;
  return `rgb(${Math.round(30 * t)}, ${Math.round(110 * t)}, ${Math.round(255 * t)})`;
}

function showHidden(layers) {
  const box = document.getElementById("hidden");
  box.textContent = "";
  if (layers.length === 0) {
    box.textContent = "This model has no hidden layer: the input goes straight to the 10 outputs.";
  }
  layers.forEach((layer, k) => {
    const values = layer.values;
    const finite = values.filter((v) => v !== null);
    const lo = Math.min(0, ...finite);
    const hi = Math.max(0, ...finite);
    const div = document.createElement("div");
    div.className = "layer";
    div.dataset.size = String(layer.size);
    const title = document.createElement("div");
    title.className = "layer-title";
    const active = finite.filter((v) => v > 0).length;
    title.textContent =
      `layer ${k + 1}: ${layer.size} units (${activation}), ${active} above 0, ` +
      `largest ${hi.toFixed(2)}` + (lo < 0 ? `, smallest ${lo.toFixed(2)}` : "");
    const cols = Math.min(CELLS_PER_ROW, layer.size);
    const rows = Math.ceil(layer.size / cols);
    const canvas = document.createElement("canvas");
    canvas.width = cols * CELL;
    canvas.height = rows * CELL;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    values.forEach((v, i) => {
      ctx.fillStyle = activationColour(v, lo, hi);
      ctx.fillRect((i % cols) * CELL, Math.floor(i / cols) * CELL, CELL - 1, CELL - 1);
    });
    div.append(title, canvas);
    box.append(div);
  });
}

function buildBars() {
  const box = document.getElementById("probs");
  for (let d = 0; d < 10; d++) {
    const row = document.createElement("div");
    row.className = "prob-row";
    row.dataset.digit = String(d);
    row.innerHTML =
      `<span class="digit">${d}</span><div class="bar"><div class="fill"></div></div>` +
      `<span class="pct">&ndash;</span>`;
    box.append(row);
  }
}

function show(result) {
  errorEl.hidden = true;
  inputCanvas.getContext("2d").putImageData(grayImage(result.pixels), 0, 0);
  const [lo, hi] = result.input_range;
  document.getElementById("input-range").textContent =
    `here ${lo.toFixed(2)} to ${hi.toFixed(2)}`;
  showHidden(result.hidden);
  const rows = document.querySelectorAll(".prob-row");
  result.probabilities.forEach((p, d) => {
    const row = rows[d];
    row.classList.toggle("top", d === result.prediction);
    row.querySelector(".fill").style.width = p === null ? "0" : `${(100 * p).toFixed(2)}%`;
    row.querySelector(".pct").textContent = p === null ? "NaN" : `${(100 * p).toFixed(2)}%`;
  });
  const answer = document.getElementById("answer");
  if (result.blank) {
    answer.textContent = "Draw a digit (the pad is empty; the bars are the model's guess for nothing).";
  } else if (result.prediction === null) {
    answer.textContent = "The model's outputs overflow (NaN/Inf): its weights are too large.";
  } else {
    const p = result.probabilities[result.prediction];
    answer.innerHTML = `The model says <strong id="prediction">${result.prediction}</strong> ` +
      `(${(100 * p).toFixed(1)}%)`;
  }
}

// ------------------------------------------------------------------ start
async function start() {
  clearPad();
  buildBars();
  try {
    const info = await callApi("/api/model");
    activation = info.activation;
    document.getElementById("model-info").textContent =
      `${info.model}: an MLP ${info.sizes.join(" \u2192 ")} with ${info.activation}, ` +
      "run in Python by tinygrad_mnist";
    const digits = info.test_digits;
    randomButton.disabled = !digits.available;
    document.getElementById("random-note").textContent = digits.available
      ? `${digits.count} MNIST test digits to pick from.`
      : `Random test digit is off: ${digits.reason}`;
    schedulePredict(); // the empty pad: shows the layout and the model's guess for nothing
  } catch (err) {
    showError(err);
  }
}
start();
