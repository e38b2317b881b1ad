// The autograd explorer's page script. It lays the graph out with Graphviz (the bundled
// @viz-js/viz) and reveals, step by step, the numbers that tinygrad_mnist recorded from its own
// backward pass (the JSON in #graph-data). It only picks and formats those numbers: it never
// multiplies, adds or differentiates anything, so it cannot disagree with the engine.
"use strict";

(async function main() {
  const $ = (id) => document.getElementById(id);
  const progress = $("progress");
  let data, svg;
  try {
    data = JSON.parse($("graph-data").textContent);
    const viz = await Viz.instance();
    svg = viz.renderSVGElement(data.dot);
  } catch (err) {
    progress.textContent = "could not draw the graph: " + err;
    throw err;
  }
  const nodes = data.nodes;
  const edges = data.edges;
  const steps = data.steps;
  const pane = $("graph");
  pane.appendChild(svg);
  $("intro-start").textContent = data.start;

  // Every element of the drawing that has an id, found once (a lookup per node would walk
  // the whole drawing each time: minutes for a big graph).
  const byId = new Map();
  for (const e of svg.querySelectorAll("[id]")) byId.set(e.id, e);

  // Numbers are shown with 4 significant digits (the exact ones are in data-values).
  function fmt(v) {
    const x = Number(v);
    if (!Number.isFinite(x)) return String(x);
    if (x === 0) return "0";
    return String(Number.parseFloat(x.toPrecision(4)));
  }
  function list(values, count) {
    const shown = values.slice(0, count).map(fmt).join(", ");
    return "[" + shown + (values.length > count ? ", …" : "") + "]";
  }
  function indexText(node, k) {  // flat index -> "[i, j]" in the node's shape
    const shape = node.shape;
    if (shape.length === 0 || node.data.length === 1) return "";
    const idx = [];
    let rest = k;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx.unshift(rest % shape[d]);
      rest = Math.floor(rest / shape[d]);
    }
    return "[" + idx.join(", ") + "]";
  }
  // A name with operators in it (a Value labelled "x1*w1") is bracketed: ∂L/∂(x1*w1).
  const plain = (name) => /^[A-Za-z0-9_#.()]+$/.test(name) ? name : "(" + name + ")";
  const factor = (v) => (Number(v) < 0 ? "(" + fmt(v) + ")" : fmt(v));  // 0.5·(−0.5)
  function d(node) { return "∂L/∂" + plain(node.name); }
  const opName = (node) => node.op.split("\n")[0];
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Every gradient is hidden until its step: Python drew "grad ?" and grey cells with no
  // number in their tooltips; the text, the colours and the tooltips are filled in here.
  const XLINK = "http://www.w3.org/1999/xlink";
  const nodeG = (id) => byId.get("n" + id);
  function setTip(g, text) {  // Graphviz puts a cell's TOOLTIP on the <a> inside its <g>
    if (!g) return;
    for (const a of g.querySelectorAll("a")) {
      a.setAttributeNS(XLINK, "xlink:title", text);
      a.setAttribute("title", text);
    }
    for (const t of g.querySelectorAll("title")) t.textContent = text;
  }
  // Graphviz placed "grad ?" by its start; the longer text that replaces it is centred on
  // the same point instead, so that it stays inside the room Python kept for it.
  function centre(t) {
    if (t.dataset.centred) return;
    const b = t.getBBox();
    t.setAttribute("x", String(b.x + b.width / 2));
    t.setAttribute("text-anchor", "middle");
    t.dataset.centred = "1";
  }
  function paintGrad(node, shown) {
    const textG = byId.get("a_n" + node.id + "_grad");
    if (textG) {
      const t = textG.querySelector("text");
      if (t) { centre(t); t.textContent = shown ? node.gradText : "grad ?"; }
      setTip(textG, shown ? "∂L/∂" + node.name + ": " + node.gradText.slice(5)
        : "the gradient: shown when backward reaches this node");
    }
    for (const [k, color] of node.gradCells || []) {
      const cell = byId.get("a_n" + node.id + "_g_" + k);
      if (!cell) continue;
      for (const p of cell.querySelectorAll("polygon")) p.setAttribute("fill", shown ? color : "#d9d9d9");
      setTip(cell, "g[" + k + "] = " + (shown ? fmt(node.grad[k]) : "?"));
    }
  }

  // ------------------------------------------------------------------ zoom and panning
  // The drawing's own size (Graphviz writes points; a CSS pixel is 3/4 of a point).
  const box = svg.viewBox.baseVal;
  const natural = { w: box.width * 4 / 3, h: box.height * 4 / 3 };
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  const READING = 0.75;  // the smallest zoom chosen by itself: 10 pt labels stay readable
  let scale = 1;
  let fitted = false;
  function fitScale() {
    const w = pane.clientWidth - 80, h = pane.clientHeight - 80;  // the margins and padding
    return Math.max(0.02, Math.min(w / natural.w, h / natural.h));
  }
  function setScale(s) {
    scale = Math.max(0.02, Math.min(3, s));
    svg.style.width = natural.w * scale + "px";
    svg.style.height = natural.h * scale + "px";
    pane.dataset.scale = scale.toFixed(3);
  }
  function readingScale() { return Math.min(1, Math.max(READING, fitScale())); }
  // Scroll the pane so that the current node, the nodes its gradient comes from and the
  // edges between them (`primary`: what this step uses) are in view, away from the pane's
  // edges, zooming out (never below the fit) when they are too big; then, as far as it
  // goes, the edges coming into the node from its inputs too (`around`).
  const MARGIN = 24;
  function spanOf(elements) {
    const p = pane.getBoundingClientRect();
    let l = Infinity, t = Infinity, r = -Infinity, b = -Infinity;
    for (const e of elements) {
      const q = e.getBoundingClientRect();
      l = Math.min(l, q.left); t = Math.min(t, q.top); r = Math.max(r, q.right); b = Math.max(b, q.bottom);
    }
    const x = pane.scrollLeft - p.left, y = pane.scrollTop - p.top;
    return { l: l + x, t: t + y, r: r + x, b: b + y };
  }
  function clampTo(want, lo, hi, view) {  // keep [lo, hi] inside [want, want + view]
    if (hi - lo + 2 * MARGIN > view) return lo - MARGIN;
    return Math.min(Math.max(want, hi + MARGIN - view), lo - MARGIN);
  }
  function follow(primary, around) {
    if (!primary.length) return;
    let P = spanOf(primary);
    const W = pane.clientWidth, H = pane.clientHeight;
    if (!fitted && (P.r - P.l + 2 * MARGIN > W || P.b - P.t + 2 * MARGIN > H)) {
      const s = Math.max(fitScale(), scale * Math.min((W - 2 * MARGIN) / (P.r - P.l),
        (H - 2 * MARGIN) / (P.b - P.t)));
      if (s < scale) { setScale(s); P = spanOf(primary); }
    }
    const A = spanOf(primary.concat(around));
    let C = P;
    if (P.r - P.l + 2 * MARGIN > W || P.b - P.t + 2 * MARGIN > H) C = spanOf(primary.slice(0, 1));
    const x = clampTo((A.l + A.r - W) / 2, C.l, C.r, W);
    const y = clampTo((A.t + A.b - H) / 2, C.t, C.b, H);
    pane.scrollTo({ left: Math.max(0, x), top: Math.max(0, y) });
  }
  $("zoom-in").addEventListener("click", () => { fitted = false; setScale(scale * 1.25); });
  $("zoom-out").addEventListener("click", () => { fitted = false; setScale(scale / 1.25); });
  $("fit").addEventListener("click", () => {
    fitted = !fitted;
    setScale(fitted ? fitScale() : readingScale());
    if (!fitted) render();
  });

  // ------------------------------------------------------------------ the steps
  let done = 0;  // steps taken
  const selected = {};  // node id -> chosen element (flat index); 0 by default

  function clearMarks() {
    for (const cls of ["current", "source-of-grad", "carrying", "cell-selected"]) {
      for (const e of svg.querySelectorAll("." + cls)) e.classList.remove(cls);
    }
  }

  function softmaxLines(e, node, out, k) {
    // dx[k] = y[k] (G[k] − s), s = Σ G[j] y[j]   |   dx[k] = G[k] − e^y[k] · s, s = Σ G[j]
    const row = e.rows[k];
    const idx = indexText(node, k);
    const y = plain(out.name);
    const more = row.terms.length < row.total ? " + …" : "";
    const lines = [];
    if (e.kind === "softmax") {
      const terms = row.terms.map((p) => factor(p[0]) + "·" + factor(p[1])).join(" + ");
      lines.push("Σ ∂L/∂" + y + " ⊙ " + y + " = " + terms + more + " = " + fmt(row.sum));
      lines.push(d(node) + idx + " = " + y + idx + " · (∂L/∂" + y + idx + " − Σ) = " +
        factor(row.y) + " · (" + factor(row.g) + " − " + factor(row.sum) + ") = " +
        fmt(e.contribution[k]));
    } else {
      const terms = row.terms.map((p) => factor(p[0])).join(" + ");
      lines.push("Σ ∂L/∂" + y + " = " + terms + more + " = " + fmt(row.sum));
      lines.push(d(node) + idx + " = ∂L/∂" + y + idx + " − e^" + y + idx + " · Σ = " +
        factor(row.g) + " − " + factor(row.expY) + " · " + factor(row.sum) + " = " +
        fmt(e.contribution[k]));
    }
    return lines.join("\n");
  }

  function chainLines(step, node, k) {
    const lines = [];
    const idx = indexText(node, k);
    if (step.edges.length === 0) {
      const note = node.name === "loss"
        ? "backward starts here: the loss's gradient with respect to itself"
        : "backward starts here, at " + node.name + ": L below stands for " + node.name +
          ", and its gradient with respect to itself is 1";
      lines.push([d(node) + " = 1", note]);
      return lines;
    }
    const parts = [];
    for (const ei of step.edges) {
      const e = edges[ei];
      const out = nodes[e.consumer];
      const upstream = out.grad;  // the gradient arriving along this edge
      const kk = upstream.length === 1 ? 0 : k;
      const up = d(out) + indexText(out, kk);
      const lhs = step.edges.length > 1 ? "via " + out.name + ": " : "";
      let text;
      if (e.kind === "elementwise") {
        text = d(node) + idx + " = " + up + " · " + e.factor + " = " +
          factor(upstream[kk]) + " · " + factor(e.local[k]) + " = " + fmt(e.contribution[k]);
      } else if (e.kind === "matmul" && e.terms && k < e.terms.length) {
        const terms = e.terms[k].map((p) => factor(p[0]) + "·" + factor(p[1])).join(" + ");
        const more = e.terms[k].length < e.termsTotal ? " + …" : "";
        text = d(node) + idx + " = (" + e.formula + ")" + idx + " = " + terms + more +
          " = " + fmt(e.contribution[k]);
      } else if ((e.kind === "softmax" || e.kind === "log_softmax") && e.rows && k < e.rows.length) {
        text = d(node) + " = " + e.formula + "\n" + softmaxLines(e, node, out, k);
      } else {
        text = d(node) + " = " + e.formula + "\n  with " + d(out) + " = " +
          list(upstream, 4) + "\n" + d(node) + idx + " = " + fmt(e.contribution[k]);
      }
      parts.push(fmt(e.contribution[k]));
      lines.push([lhs + text, ""]);
    }
    if (step.edges.length > 1) {
      lines.push([d(node) + idx + " = " + parts.join(" + ") + " = " + fmt(node.grad[k]),
        "a value used " + step.edges.length + " times adds up the gradient from each use"]);
    }
    return lines;
  }

  function leafText(node) {
    if (data.tier === "scalar") {
      return "a leaf, an input of the graph: backward stops here. If it is a parameter " +
        "(a weight or a bias), an optimizer step uses this gradient; if it is data (an " +
        "input such as x1), the gradient is computed but nothing uses it.";
    }
    return "a leaf that requires grad (a parameter, such as a weight): backward stops " +
      "here, and an optimizer step uses this gradient.";
  }
  function nameNote(node) {
    const m = /^(.+)#(\d+)$/.exec(node.name);
    if (!m) return "";
    if (m[1] === "leaf") {
      return node.name + ": an input that no variable of your code holds, so it is named " +
        "\"leaf\" and its node number (" + m[2] + "); pass names= to explore() to name it.";
    }
    return node.name + ": a result that no variable of your code holds, so it is named " +
      "after the op that made it (" + m[1] + ") and its node number in the graph (" + m[2] + ").";
  }

  function render() {
    clearMarks();
    progress.textContent = "step " + done + " of " + steps.length;
    $("step").disabled = done >= steps.length;
    $("run-all").disabled = done >= steps.length;
    if (done === 0) {
      $("intro").hidden = false;
      $("step-info").hidden = true;
      return;
    }
    const step = steps[done - 1];
    const node = nodes[step.node];
    const k = selected[node.id] || 0;
    $("intro").hidden = true;
    $("step-info").hidden = false;
    const g = nodeG(node.id);
    g.classList.add("current");
    const inView = [g];
    for (const ei of step.edges) {
      const e = edges[ei];
      const from = nodeG(e.consumer);
      from.classList.add("source-of-grad");
      inView.push(from);
      const edgeG = byId.get("e" + e.parent + "_" + e.consumer + "_" + e.index);
      if (edgeG) { edgeG.classList.add("carrying"); inView.push(edgeG); }
    }
    for (const which of ["d", "g"]) {
      const cell = byId.get("a_n" + node.id + "_" + which + "_" + k);
      if (cell) cell.classList.add("cell-selected");
    }
    const into = node.parents.map((p, i) => byId.get("e" + p + "_" + node.id + "_" + i)).filter(Boolean);
    if (!fitted) follow(inView, into);

    $("step-count").textContent = "Step " + done + " of " + steps.length + ":";
    $("step-node").textContent = node.name;
    const made = $("step-made-by");
    if (node.op) {
      const inputs = node.parents.map((p) => nodes[p].name).join(", ");
      made.textContent = "made by " + node.op.replace("\n", " ") + " from " + inputs;
    } else {
      made.textContent = leafText(node);
    }
    const note = nameNote(node);
    $("step-name-note").hidden = !note;
    $("step-name-note").textContent = note;
    $("step-grad-name").textContent = d(node);
    const gradEl = $("step-grad");
    gradEl.textContent = node.grad.length === 1 ? fmt(node.grad[0]) : list(node.grad, 9);
    gradEl.dataset.values = JSON.stringify(node.grad);
    gradEl.dataset.node = node.name;

    const choice = $("element-choice");
    const select = $("element");
    choice.hidden = node.grad.length === 1;
    select.replaceChildren();
    for (let i = 0; i < Math.min(node.grad.length, 64); i++) {
      const o = el("option", "", indexText(node, i) || "0");
      o.value = String(i);
      o.selected = i === k;
      select.appendChild(o);
    }

    const chain = $("chain");
    chain.replaceChildren();
    for (const [text, note] of chainLines(step, node, k)) {
      const p = el("p", "chain-line", text);
      if (note) { p.appendChild(document.createElement("br")); p.appendChild(el("span", "from", note)); }
      chain.appendChild(p);
    }
    chain.dataset.element = String(k);

    // The local derivatives used at this step are those of the ops that USE this node (the
    // gradient flows back through them); the op that made it comes in at its inputs' steps.
    const users = [...new Set(step.edges.map((ei) => opName(nodes[edges[ei].consumer])))];
    $("local-heading").textContent = step.edges.length === 0
      ? "Local derivatives"
      : "Local derivative of " + (users.length === 1 ? users[0] + ", the op" : "each op") +
        " that uses " + node.name;
    const local = $("local");
    local.replaceChildren();
    for (const ei of step.edges) {
      const e = edges[ei];
      const out = nodes[e.consumer];
      const item = el("div", "local-item");
      const what = e.kind === "elementwise" ? "∂" + plain(out.name) + "/∂" + plain(node.name) : d(node);
      item.appendChild(el("div", "", opName(out) + " (makes " + out.name + " from " + node.name +
        "): " + what + " = " + e.formula));
      if (e.source) {
        const src = el("div", "source");
        src.appendChild(document.createTextNode("defined at "));
        const where = el("code", "source-file", e.source.file + ":" + e.source.line);
        src.appendChild(where);
        src.appendChild(document.createTextNode(" (" + e.source.function + "): "));
        src.appendChild(el("code", "source-code", e.source.code));
        item.appendChild(src);
      }
      local.appendChild(item);
    }
    if (step.edges.length === 0) local.appendChild(el("div", "local-item", "none: backward starts here"));
    const localNote = $("local-note");
    localNote.hidden = !node.op;
    if (node.op) {
      const inputs = node.parents.filter((p) => nodes[p].requiresGrad).map((p) => nodes[p].name);
      localNote.textContent = opName(node) + ", which made " + node.name + ", has its own " +
        "local derivative: it comes in later, at the step" + (inputs.length > 1 ? "s" : "") +
        (inputs.length ? " for " + inputs.join(", ") : "") + ".";
    }
  }

  function stepOnce() {
    if (done >= steps.length) return;
    const node = nodes[steps[done].node];
    paintGrad(node, true);
    nodeG(node.id).classList.add("done");
    done += 1;
  }
  function reset() {
    done = 0;
    for (const node of nodes) {
      paintGrad(node, false);
      nodeG(node.id).classList.remove("done");
    }
  }

  $("step").addEventListener("click", () => { stepOnce(); render(); });
  $("run-all").addEventListener("click", () => { while (done < steps.length) stepOnce(); render(); });
  $("reset").addEventListener("click", () => { reset(); render(); });
  document.addEventListener("keydown", (ev) => {  // a presenter's remote sends these
    if (ev.target.tagName === "SELECT" || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === "ArrowRight" || ev.key === "PageDown") {
      ev.preventDefault();
      stepOnce();
      render();
    }
  });
  $("element").addEventListener("change", (ev) => {
    if (done === 0) return;
    selected[steps[done - 1].node] = Number(ev.target.value);
    render();
  });
  svg.addEventListener("click", (ev) => {  // a heat-map cell of the current node
    const cell = ev.target.closest('g[id^="a_n"]');
    if (!cell || done === 0) return;
    const m = /^a_n(\d+)_[dg]_(\d+)$/.exec(cell.id);
    if (!m || Number(m[1]) !== steps[done - 1].node) return;
    ev.preventDefault();
    selected[Number(m[1])] = Number(m[2]);
    render();
  });

  // The first view: the reading size, scrolled to where backward starts (the loss); a
  // narrow screen starts with the legend folded.
  if (window.matchMedia("(max-width: 760px)").matches) $("legend").open = false;
  setScale(readingScale());
  reset();
  render();
  if (steps.length) follow([nodeG(steps[0].node)], []);
  document.body.dataset.ready = "true";
})();
