// The autograd explorer's page script. It lays the graph out with Graphviz (the bundled
// @viz-js/viz) and reveals, step by step, the numbers that tinygrad_mnist recorded from its own
// backward pass (the JSON in #graph-data). It only picks and formats those numbers: it never
// multiplies, adds or differentiates anything, so it cannot disagree with the engine.
"use strict";

(async function main() {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const nodes = data.nodes;
  const edges = data.edges;
  const steps = data.steps;
  const $ = (id) => document.getElementById(id);
  const progress = $("progress");

  let svg;
  try {
    const viz = await Viz.instance();
    svg = viz.renderSVGElement(data.dot);
  } catch (err) {
    progress.textContent = "could not draw the graph: " + err;
    throw err;
  }
  $("graph").appendChild(svg);

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
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Hide every gradient until its step: the text and the heat-map colours that Python drew.
  const nodeG = (id) => svg.querySelector("#n" + id);
  const gradText = (id) => svg.querySelector("#a_n" + id + "_grad text");
  const gradCells = (id) => svg.querySelectorAll('[id^="a_n' + id + '_g_"] polygon');
  const shownGrad = {};
  for (const node of nodes) {
    const t = gradText(node.id);
    if (t) { shownGrad[node.id] = t.textContent; }
    for (const p of gradCells(node.id)) p.dataset.fill = p.getAttribute("fill");
  }
  function hideGrad(id) {
    const t = gradText(id);
    if (t) t.textContent = "grad ?";
    for (const p of gradCells(id)) p.setAttribute("fill", "#d9d9d9");
  }
  function showGrad(id) {
    const t = gradText(id);
    if (t) t.textContent = shownGrad[id];
    for (const p of gradCells(id)) p.setAttribute("fill", p.dataset.fill);
  }

  let done = 0;  // steps taken
  const selected = {};  // node id -> chosen element (flat index); 0 by default

  function clearMarks() {
    for (const cls of ["current", "source-of-grad", "carrying", "cell-selected"]) {
      for (const e of svg.querySelectorAll("." + cls)) e.classList.remove(cls);
    }
  }

  function chainLines(step, node, k) {
    const lines = [];
    const idx = indexText(node, k);
    if (step.edges.length === 0) {
      lines.push([d(node) + " = 1", "backward starts here: the loss's gradient with respect to itself"]);
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
        text = d(node) + idx + " = " + up + " · " + e.formula + " = " +
          factor(upstream[kk]) + " · " + factor(e.local[k]) + " = " + fmt(e.contribution[k]);
      } else if (e.kind === "matmul" && e.terms && k < e.terms.length) {
        const terms = e.terms[k].map((p) => factor(p[0]) + "·" + factor(p[1])).join(" + ");
        const more = e.terms[k].length < e.termsTotal ? " + …" : "";
        text = d(node) + idx + " = (" + e.formula + ")" + idx + " = " + terms + more +
          " = " + fmt(e.contribution[k]);
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
    g.scrollIntoView({ block: "nearest", inline: "nearest" });
    for (const ei of step.edges) {
      const e = edges[ei];
      nodeG(e.consumer).classList.add("source-of-grad");
      const edgeG = svg.querySelector("#e" + e.parent + "_" + e.consumer + "_" + e.index);
      if (edgeG) edgeG.classList.add("carrying");
    }
    for (const which of ["d", "g"]) {
      const cell = svg.querySelector("#a_n" + node.id + "_" + which + "_" + k);
      if (cell) cell.classList.add("cell-selected");
    }

    $("step-count").textContent = "Step " + done + " of " + steps.length + ":";
    $("step-node").textContent = node.name;
    const made = $("step-made-by");
    if (node.op) {
      const inputs = node.parents.map((p) => nodes[p].name).join(", ");
      made.textContent = "made by " + node.op.replace("\n", " ") + " from " + inputs;
    } else {
      made.textContent = "a leaf: backward stops here (a parameter's gradient is what an optimizer step uses)";
    }
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

    const local = $("local");
    local.replaceChildren();
    for (const ei of step.edges) {
      const e = edges[ei];
      const out = nodes[e.consumer];
      const item = el("div", "local-item");
      const what = e.kind === "elementwise" ? "∂" + plain(out.name) + "/∂" + plain(node.name) : d(node);
      item.appendChild(el("div", "", out.op.split("\n")[0] + ": " + what + " = " + e.formula));
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
    if (step.edges.length === 0) local.appendChild(el("div", "local-item", "none: this is the loss"));
  }

  function stepOnce() {
    if (done >= steps.length) return;
    showGrad(steps[done].node);
    nodeG(steps[done].node).classList.add("done");
    done += 1;
  }
  function reset() {
    done = 0;
    for (const node of nodes) {
      hideGrad(node.id);
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

  reset();
  render();
  document.body.dataset.ready = "true";
})();
