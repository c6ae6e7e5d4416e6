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
      throw new Error("the server did not answer (" + err.message + "): is kmseg serve still running?");
    }
    const type = response.headers.get("content-type") || "";
    const body = type.includes("json") ? await response.json().catch(() => null) : null;
    if (!response.ok) {
      throw new Error(body && body.error ? body.error : "HTTP " + response.status + " " + response.statusText);
    }
    return body;
  }

  // ---- progress: the stages of the work, as they happen -------------------------------------
  // Each piece of work (an upload, a new setting, a view) is made of parts, known when it
  // starts: the requests' (their stages read from the server's progress record while they
  // run) and the page's own (drawing the picture). The bar gives each part an equal share,
  // and within a part the stages done, the running one by its fraction where it is known.

  const POLL_MS = 200;
  const progress = { flow: 0, sections: [] };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function beginStages(keys) {
    progress.flow += 1;
    progress.sections = keys.map((key) => ({ key, stages: [], over: false }));
    drawStages();
  }

  // `over`: that part is finished (its stages as last read, or none: nothing to do).
  function setStages(flow, key, stages, over) {
    const section = progress.sections.find((s) => s.key === key);
    if (flow !== progress.flow || !section) return;  // a piece of work since replaced
    section.stages = stages;
    if (over) section.over = true;
    drawStages();
  }

  function sectionShare(section) {
    if (section.over) return 1;
    const work = section.stages.filter((s) => !s.waiting && s.state !== "skipped");
    const part = (s) => (s.state === "running" ? s.fraction || 0 : s.state === "pending" ? 0 : 1);
    const done = work.reduce((n, s) => n + part(s), 0);
    return work.length ? done / work.length : 0;
  }

  function drawStages() {
    const list = $("stages");
    list.innerHTML = "";
    for (const s of progress.sections.flatMap((section) => section.stages)) {
      if (s.state === "skipped") continue;
      const li = document.createElement("li");
      li.className = s.state;
      li.dataset.stage = s.name;
      const part = s.state === "running" && s.fraction != null ? ` ${Math.round(100 * s.fraction)}%` : "";
      const time = s.seconds == null ? "" : ` ${s.seconds < 10 ? s.seconds.toFixed(2) : s.seconds.toFixed(1)} s`;
      li.textContent = s.name + part + time;
      list.append(li);
    }
    const n = progress.sections.length;
    const share = n ? progress.sections.reduce((sum, section) => sum + sectionShare(section), 0) / n : 0;
    $("progress-bar").style.width = `${(100 * share).toFixed(1)}%`;
    $("progress").setAttribute("aria-valuenow", Math.round(100 * share));
  }

  function recordStages(record) {
    const waiting = record.state === "waiting"
      ? [{ name: `waiting for ${record.waiting_for}`, state: "running", seconds: null, fraction: null, waiting: true }]
      : [];
    return [...waiting, ...record.stages];
  }

  // The stages as they stand when the request answered: none runs any more.
  function ended(stages, ok) {
    return stages.filter((s) => !s.waiting).map((s) => {
      if (s.state === "running") return { ...s, state: ok ? "done" : "failed" };
      return s.state === "pending" ? { ...s, state: "skipped" } : s;
    });
  }

  // `request(job)` with a progress record, read every POLL_MS while it runs. Progress is a
  // side channel: without a record, the request runs all the same.
  async function withJob(key, request) {
    const flow = progress.flow;
    let job = null;
    try {
      job = (await api("/api/jobs", { method: "POST" })).id;
    } catch (err) {
      job = null;
    }
    let over = false;
    let last = [];
    const read = () => api(`/api/jobs/${job}`).then((record) => recordStages(record));
    const poll = async () => {
      while (!over) {
        await sleep(POLL_MS);
        if (over) break;
        try {
          const stages = await read();
          if (!over) setStages(flow, key, (last = stages));
        } catch (err) { /* the request's own answer tells what went wrong */ }
      }
    };
    if (job) poll();
    let ok = false;
    try {
      const answer = await request(job);
      ok = true;
      return answer;
    } finally {
      over = true;
      setStages(flow, key, ended(last, ok), true);
      if (job) read().then((stages) => setStages(flow, key, ended(stages, ok), true)).catch(() => {});
    }
  }

  // ---- choosing an image -------------------------------------------------------------------

  async function open(request, text) {
    showError("");
    beginStages(["upload", "segment", "drawing"]);
    busy("upload", true, text);
    try {
      setImage(await withJob("upload", request));
    } catch (err) {
      showError(err.message);
      $("status-text").textContent = state.id ? "The previous image is still loaded." : "Choose an image to start.";
    } finally {
      busy("upload", false);
    }
  }

  const withQuery = (url, job) => (job ? `${url}${url.includes("?") ? "&" : "?"}job=${job}` : url);

  function uploadFile(file) {
    if (!file) return;
    if (state.limits && file.size > state.limits.max_bytes) {
      showError(`${file.name}: ${mib(file.size)}, more than this page accepts ` +
                `(${mib(state.limits.max_bytes)}); use a smaller file, or start the page with ` +
                `kmseg serve --max-upload-mb ${Math.ceil(file.size / 1048576)}`);
      return;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    open((job) => api(withQuery("/api/images", job), { method: "POST", body: form }), `Reading ${file.name}…`);
  }

  function setImage(info) {
    Object.assign(state, { id: info.id, info, result: null, elbow: null, highlight: null });
    $("image-info").textContent =
      `${info.name}: ${info.width}×${info.height}, ${info.n_colors.toLocaleString()} distinct colours`;
    $("settings").disabled = false;
    document.body.dataset.image = "loaded";
    $("left").src = `/api/images/${info.id}/view/original`;
    $("right").removeAttribute("src");  // the previous image's view, or nothing yet
    busy("image", false);
    $("elbow").innerHTML = "";
    $("elbow-text").textContent = "";
    refresh(true).then(loadElbow);
  }

  // ---- settings -> segmentation ------------------------------------------------------------

  // Connected segments are found in CIELAB whatever the colour space: the control is off then.
  const colourSpace = () => ($("spatial").checked ? "" : $("space").value);

  function syncSpace() {
    $("space").disabled = $("spatial").checked;
    $("space-note").hidden = !$("spatial").checked;
  }

  function settings() {
    return {
      id: state.id,
      k: $("auto").checked ? "auto" : Number($("k").value),
      color_space: colourSpace() || null,
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

  // `keep`: part of the work already shown (an upload), not a new piece of work.
  async function refresh(keep) {
    if (!state.id) return;
    if (running) { again = true; return; }
    running = true;
    if (keep !== true) beginStages(["segment", "drawing"]);
    const asked = settings();
    busy("segment", true, asked.spatial ? "Finding connected segments…" : "Clustering the colours…");
    try {
      const result = await withJob("segment", (job) => api("/api/segment", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ ...asked, job }),
      }));
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
    updateViews(true);
    drawElbow();
  }

  // ---- views ---------------------------------------------------------------------------------

  const captions = {
    original: "original", segmented: "segmented", boundaries: "boundaries", labels: "label map",
  };

  const drawing = { flow: 0, start: 0 };

  function drawn(outcome) {
    const seconds = (performance.now() - drawing.start) / 1000;
    setStages(drawing.flow, "drawing", [{ name: "drawing", state: outcome, seconds, fraction: null }], true);
  }

  // `keep`: part of the work already shown (a new setting), not a new piece of work.
  function updateViews(keep) {
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
      if (keep !== true) beginStages(["drawing"]);
      Object.assign(drawing, { flow: progress.flow, start: performance.now() });
      setStages(drawing.flow, "drawing", [{ name: "drawing", state: "running", seconds: null, fraction: null }]);
      busy("image", true);
      img.src = url;
    } else if (keep === true) {
      setStages(progress.flow, "drawing", [], true);  // the picture shown already
    }
    $("right-caption").textContent = caption;
    for (const b of document.querySelectorAll("#views button")) {
      b.classList.toggle("active", b.dataset.view === state.view);
    }
  }

  $("right").addEventListener("load", () => { drawn("done"); busy("image", false); });
  $("right").addEventListener("error", () => {
    if (!$("right").getAttribute("src")) return;
    drawn("failed");
    busy("image", false);
    $("right").removeAttribute("src");  // no broken-image icon: the message says what happened
    if (state.id) showError("a view could not be drawn; try another setting or upload the image again");
  });
  $("left").addEventListener("error", () => $("left").removeAttribute("src"));

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
    const space = colourSpace();
    busy("elbow", true);
    $("elbow-text").textContent = "Fitting k = 1, 2, … on the colour histogram…";
    try {
      const query = new URLSearchParams({ id });
      if (space) query.set("color_space", space);
      const curve = await api("/api/elbow?" + query);
      if (id === state.id && space === colourSpace()) {
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
  $("sample").addEventListener("click", () => open((job) => api(withQuery("/api/sample", job), { method: "POST" }),
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
  syncSpace();  // a browser may keep the boxes ticked over a reload
  $("spatial").addEventListener("change", () => {
    syncSpace();
    if ($("space").value === "") { refresh(); return; }  // the same colour space either way
    state.elbow = null;
    drawElbow();
    refresh().then(loadElbow);
  });
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
