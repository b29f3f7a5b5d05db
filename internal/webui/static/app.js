// Sunproof web UI: live refresh of the fleet page and the verify page's
// drop zone. Everything else is rendered on the server.
"use strict";

function fmtKW(w) { return (w / 1000).toFixed(2) + " kW"; }
function fmtKWh(wh) { return (wh / 1000).toFixed(2) + " kWh"; }

// postForVerdict sends a document to the server's verifier and shows the
// HTML verdict it returns.
async function postForVerdict(body, name, target) {
  target.setAttribute("aria-busy", "true");
  target.innerHTML = '<p class="muted">Verifying…</p>';
  try {
    const resp = await fetch("/verify?fragment=1", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-File-Name": name || "" },
      body: body,
    });
    target.innerHTML = await resp.text();
  } catch (err) {
    target.innerHTML = '<section class="verdict bad" data-testid="verdict" data-valid="false"><h2>✘ Could not reach the verifier</h2><p class="msg"></p></section>';
    target.querySelector(".msg").textContent = String(err);
  } finally {
    target.removeAttribute("aria-busy");
  }
}

function setupVerify() {
  const form = document.getElementById("verify-form");
  const result = document.getElementById("verify-result");
  if (form && result) {
    const input = form.querySelector('input[type="file"]');
    const drop = document.getElementById("drop");
    const paste = form.querySelector("textarea");
    const send = async (file) => {
      if (file) {
        await postForVerdict(await file.text(), file.name, result);
      } else if (paste && paste.value.trim() !== "") {
        await postForVerdict(paste.value, "pasted text", result);
      }
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      send(input.files[0]);
    });
    input.addEventListener("change", () => send(input.files[0]));
    ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (ev) => {
      ev.preventDefault();
      drop.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
    drop.addEventListener("drop", (ev) => {
      ev.preventDefault();
      const f = ev.dataTransfer && ev.dataTransfer.files[0];
      if (f) send(f);
    });
  }
  document.querySelectorAll("button[data-verify-url]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const target = document.getElementById("verify-result");
      const resp = await fetch(btn.dataset.verifyUrl, { credentials: "same-origin" });
      if (!resp.ok) {
        target.textContent = "Could not load the report: " + resp.status;
        return;
      }
      await postForVerdict(await resp.text(), btn.dataset.verifyUrl.split("/").pop() + ".json", target);
    });
  });
}

// setupLive refreshes the fleet chart and numbers every data-refresh seconds.
function setupLive() {
  const secs = Number(document.body.dataset.refresh || 0);
  if (!secs) return;
  const tick = async () => {
    for (const el of document.querySelectorAll("[data-live-src]")) {
      const resp = await fetch(el.dataset.liveSrc, { credentials: "same-origin" });
      if (resp.ok) el.innerHTML = await resp.text();
    }
    const resp = await fetch("/v1/fleet", { credentials: "same-origin" });
    if (!resp.ok) return;
    const f = await resp.json();
    for (const el of document.querySelectorAll("[data-field]")) {
      const v = f[el.dataset.field];
      if (v === undefined || v === null) continue;
      el.dataset.value = String(v);
      if (el.dataset.field === "ac_power_w") el.textContent = fmtKW(v);
      else if (el.dataset.field === "energy_24h_wh") el.textContent = fmtKWh(v);
      else el.textContent = String(v);
    }
  };
  setInterval(() => { tick().catch(() => {}); }, secs * 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  setupVerify();
  setupLive();
});
