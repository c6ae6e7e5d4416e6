// The kmseg page: upload once, then every setting asks the server for a segmentation of
// the cached colour histogram. No framework, no build step.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = {
    id: null, info: null, limits: null, result: null, elbow: null,
    view: "segmented", highlight: null, busy: new Set(),
  };

  // ---- status, progress and errors -------------------------------------------------------

  function busy(flag, on, text) {
    if (on) state.busy.add(flag); else state.busy.delete(flag);
    document.body.dataset.state = state.busy.size ? "busy" : "idle";
    $("progress").hidden = state.busy.size === 0;
    if (text !== undefined) $("status-text").textContent = text;
  }

  function showError(message) {
    $("error").textContent = message || "";
    $("error").hidden = !message;
  }

  const mib = (n) => (n / 1048576).toFixed(1) + " MiB";

  async function api(url, options) {
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      throw new Error("the server did not answer (" + err.message + ")");
    }
    const type = response.headers.get("content-type") || "";
    const body = type.includes("json") ? await response.json().catch(() => null) : null;
    if (!response.ok) {
      throw new Error(body && body.error ? body.error : "HTTP " + response.status + " " + response.statusText);
    }
    return body;
  }

  // ---- choosing an image -------------------------------------------------------------------

  async function open(request, text) {
    showError("");
    busy("upload", true, text);
    try {
      setImage(await request());
    } catch (err) {
      showError(err.message);
      $("status-text").textContent = state.id ? "The previous image is still loaded." : "Choose an image to start.";
    } finally {
      busy("upload", false);
    }
  }

  function uploadFile(file) {
    if (!file) return;
    if (state.limits && file.size > state.limits.max_bytes) {
      showError(`${file.name}: ${mib(file.size)} is more than the server's upload limit of ` +
                `${mib(state.limits.max_bytes)}`);
      return;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    open(() => api("/api/images", { method: "POST", body: form }), `Reading ${file.name}…`);
  }

  function setImage(info) {
    Object.assign(state, { id: info.id, info, result: null, elbow: null, highlight: null });
    $("image-info").textContent =
      `${info.name}: ${info.width}×${info.height}, ${info.n_colors.toLocaleString()} distinct colours`;
    $("settings").disabled = false;
    $("left").src = `/api/images/${info.id}/view/original`;
    $("elbow").innerHTML = "";
    $("elbow-text").textContent = "";
    refresh().then(loadElbow);
  }

  // ---- settings -> segmentation ------------------------------------------------------------

  function settings() {
    return {
      id: state.id,
      k: $("auto").checked ? "auto" : Number($("k").value),
      color_space: $("space").value || null,
      spatial: $("spatial").checked,
    };
  }

  let timer = null;
  let running = false;
  let again = false;

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 120);
  }

  async function refresh() {
    if (!state.id) return;
    if (running) { again = true; return; }
    running = true;
    const asked = settings();
    busy("segment", true, asked.spatial ? "Merging superpixels…" : "Clustering the colours…");
    try {
      const result = await api("/api/segment", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(asked),
      });
      if (!again && result.id === state.id) show(result);
    } catch (err) {
      showError(err.message);
    } finally {
      busy("segment", false);
      running = false;
      if (again) { again = false; refresh(); }
    }
  }

  function show(result) {
    showError("");
    state.result = result;
    state.highlight = null;
    if ($("auto").checked) $("k").value = result.k;
    $("k-value").textContent = result.k;
    const how = result.auto ? `auto k=${result.k}` : `k=${result.k}`;
    $("status-text").textContent =
      `${how}, ${result.method} in ${result.working_space.toUpperCase()}: ` +
      `${Math.round(result.seconds * 1000)} ms on the server`;
    $("notes").textContent = [result.auto ? result.auto.reason : "", ...result.notes].filter(Boolean).join(" ");
    drawPalette(result);
    for (const a of document.querySelectorAll("#downloads a")) a.href = result.downloads[a.dataset.file];
    updateViews();
    drawElbow();
  }

  // ---- views ---------------------------------------------------------------------------------

  const captions = {
    original: "original", segmented: "segmented", boundaries: "boundaries", labels: "label map",
  };

  function updateViews() {
    if (!state.id) return;
    const r = state.result;
    let url = `/api/images/${state.id}/view/original`;
    let caption = "original";
    if (r && state.highlight !== null) {
      url = `/api/images/${state.id}/view/highlight?${r.query}&label=${state.highlight}`;
      caption = `colour ${state.highlight + 1}: ${r.colors[state.highlight].hex}`;
    } else if (r && state.view !== "original") {
      url = r.views[state.view];
      caption = `${captions[state.view]}, k=${r.k}`;
    }
    const beside = $("side").checked && (state.view !== "original" || state.highlight !== null);
    $("panes").classList.toggle("single", !beside);
    const img = $("right");
    if (img.getAttribute("src") !== url) {
      busy("image", true);
      img.src = url;
    }
    $("right-caption").textContent = caption;
    for (const b of document.querySelectorAll("#views button")) {
      b.classList.toggle("active", b.dataset.view === state.view);
    }
  }

  $("right").addEventListener("load", () => busy("image", false));
  $("right").addEventListener("error", () => {
    busy("image", false);
    if (state.id) showError("a view could not be drawn; try another setting or upload the image again");
  });

  // ---- palette ---------------------------------------------------------------------------------

  function drawPalette(result) {
    const list = $("palette");
    list.innerHTML = "";
    list.dataset.k = result.colors.length;
    $("palette-k").textContent = `(${result.colors.length} colours)`;
    const top = Math.max(...result.colors.map((c) => c.share));
    result.colors.forEach((c, i) => {
      const li = document.createElement("li");
      li.title = `rgb(${c.rgb.join(", ")}), ${c.count.toLocaleString()} pixels`;
      li.dataset.label = i;
      li.tabIndex = 0;
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.style.background = c.hex;
      const text = document.createElement("span");
      text.innerHTML = `<span class="hex"></span><div class="bar"><div></div></div>`;
      text.querySelector(".hex").textContent = c.hex;
      text.querySelector(".bar div").style.width = `${(100 * c.share) / top}%`;
      const share = document.createElement("span");
      share.className = "share";
      share.textContent = `${(100 * c.share).toFixed(1)}%`;
      li.append(chip, text, share);
      li.addEventListener("click", () => toggleHighlight(i));
      li.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") toggleHighlight(i); });
      list.append(li);
    });
  }

  function toggleHighlight(i) {
    state.highlight = state.highlight === i ? null : i;
    for (const li of $("palette").children) {
      li.classList.toggle("selected", Number(li.dataset.label) === state.highlight);
    }
    updateViews();
  }

  // ---- elbow curve -----------------------------------------------------------------------------

  async function loadElbow() {
    if (!state.id) return;
    const id = state.id;
    const space = $("space").value;
    busy("elbow", true);
    $("elbow-text").textContent = "Fitting k = 1, 2, … on the colour histogram…";
    try {
      const query = new URLSearchParams({ id });
      if (space) query.set("color_space", space);
      const curve = await api("/api/elbow?" + query);
      if (id === state.id && space === $("space").value) {
        state.elbow = curve;
        drawElbow();
      }
    } catch (err) {
      $("elbow-text").textContent = "";
      showError(err.message);
    } finally {
      busy("elbow", false);
    }
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawElbow() {
    const curve = state.elbow;
    const box = $("elbow");
    box.innerHTML = "";
    if (!curve) return;
    const W = 360, H = 210, left = 40, right = 12, top = 12, bottom = 34;
    const ks = curve.k;
    const floor = Math.max(...curve.wcss) * 1e-12 || 1e-300;
    const ys = curve.wcss.map((w) => Math.log10(Math.max(w, floor)));
    const yMin = Math.min(...ys), yMax = Math.max(...ys);
    const x = (k) => left + ((k - ks[0]) / Math.max(1, ks[ks.length - 1] - ks[0])) * (W - left - right);
    const y = (v) => top + (yMax === yMin ? 0.5 : (yMax - v) / (yMax - yMin)) * (H - top - bottom);
    box.append(svg("line", { class: "axis", x1: left, y1: H - bottom, x2: W - right, y2: H - bottom }));
    box.append(svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: H - bottom }));
    ks.forEach((k) => box.append(svg("text", { x: x(k), y: H - bottom + 13, "text-anchor": "middle" }, k)));
    box.append(svg("text", { x: (W + left) / 2, y: H - 4, "text-anchor": "middle" }, "k"));
    box.append(svg("text", { x: 12, y: (H - bottom + top) / 2, "text-anchor": "middle",
                             transform: `rotate(-90 12 ${(H - bottom + top) / 2})` }, "WCSS (log scale)"));
    const shown = state.result && !state.result.spatial ? state.result.k : null;
    if (shown !== null && shown >= ks[0] && shown <= ks[ks.length - 1]) {
      box.append(svg("line", { class: "current", x1: x(shown), y1: top, x2: x(shown), y2: H - bottom }));
    }
    box.append(svg("polyline", { class: "curve", points: ks.map((k, i) => `${x(k)},${y(ys[i])}`).join(" ") }));
    ks.forEach((k, i) => {
      const dot = svg("circle", { class: "point", cx: x(k), cy: y(ys[i]), r: 4 });
      dot.append(svg("title", {}, `k=${k}: WCSS ${curve.wcss[i].toExponential(3)}`));
      dot.addEventListener("click", () => setK(k));
      box.append(dot);
    });
    const i = ks.indexOf(curve.best_k);
    box.append(svg("circle", { class: "knee", cx: x(curve.best_k), cy: y(ys[i]), r: 9 }));
    $("elbow-text").textContent =
      `Chosen k=${curve.best_k}${curve.clear ? "" : " (no clear knee)"}: ${curve.reason}. ` +
      "Click a point to use its k.";
  }

  function setK(k) {
    $("auto").checked = false;
    $("k").disabled = false;
    $("k").value = k;
    $("k-value").textContent = k;
    refresh();
  }

  // ---- wiring ----------------------------------------------------------------------------------

  $("file").addEventListener("change", (e) => { uploadFile(e.target.files[0]); e.target.value = ""; });
  $("sample").addEventListener("click", () => open(() => api("/api/sample", { method: "POST" }),
                                                    "Loading the sample photo…"));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    uploadFile(e.dataTransfer.files[0]);
  });

  $("k").addEventListener("input", () => { $("k-value").textContent = $("k").value; schedule(); });
  $("auto").addEventListener("change", () => { $("k").disabled = $("auto").checked; refresh(); });
  $("space").addEventListener("change", () => { state.elbow = null; drawElbow(); refresh().then(loadElbow); });
  $("spatial").addEventListener("change", refresh);
  $("side").addEventListener("change", updateViews);
  for (const b of document.querySelectorAll("#views button")) {
    b.addEventListener("click", () => {
      state.view = b.dataset.view;
      state.highlight = null;
      for (const li of $("palette").children) li.classList.remove("selected");
      updateViews();
    });
  }

  api("/api/info").then((info) => {
    state.limits = info;
    $("image-info").textContent += ` Up to ${mib(info.max_bytes)} and ${(info.max_pixels / 1e6).toFixed(0)} megapixels.`;
  }).catch((err) => showError(err.message));
})();
