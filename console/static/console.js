// Steward console: optional enhancements. Every page works without this
// script; it adds live queue counts, copy buttons and confirmations.
(function () {
  "use strict";

  // Copy buttons: shown only when the script runs.
  document.querySelectorAll("button.copy[data-copy]").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var input = document.getElementById(btn.getAttribute("data-copy"));
      if (!input) return;
      input.select();
      var done = function () { btn.textContent = "Copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });

  // Buttons that change something irreversible ask first.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (!window.confirm(el.getAttribute("data-confirm"))) ev.preventDefault();
    });
  });

  // Live queue counts.
  var live = document.querySelector("[data-live]");
  if (!live) return;
  var note = live.querySelector(".live-note");
  if (note) note.hidden = false;
  var age = function (s) {
    if (s === null || s === undefined) return "—";
    s = Math.round(s);
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    if (s < 172800) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " days";
  };
  var fill = function (root, attr, st) {
    var set = function (key, value) {
      var el = root.querySelector("[" + attr + '="' + key + '"]');
      if (el && el.textContent !== String(value)) el.textContent = String(value);
    };
    set("queued", st.queued);
    set("in_progress", st.in_progress);
    set("retry", st.retry);
    set("dead", st.dead);
    set("oldest", age(st.oldest_queued_age_seconds));
  };
  var tick = function () {
    if (document.hidden) return;
    fetch(live.getAttribute("data-live"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (data) {
        if (!data) return;
        fill(live, "data-total", data.total);
        (data.actions || []).forEach(function (a) {
          var row = document.querySelector('tr[data-action="' + a.id + '"]');
          if (row) fill(row, "data-field", a.stats);
        });
      })
      .catch(function () {});
  };
  setInterval(tick, 3000);
})();
