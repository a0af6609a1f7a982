// Matcher builder: rows of (label name, exact value) from the labels alerts really carry.
// Values are kept whole (a venue named "Grand Ballroom, San Diego" is one value): nothing is
// ever split on commas or "=".  window.wso.matchers.builder(fieldset, catalogue, onChange).
(function () {
  "use strict";
  var api = window.wso.api;
  var uid = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function load() { return api("/api/v1/alert-labels/"); }

  // The label value alerts use for a venue: its name if alerts carry names, else its id.
  function venueValue(cat, venue) {
    var seen = (cat.values && cat.values.venue) || [];
    if (seen.indexOf(String(venue.id)) >= 0 && seen.indexOf(venue.name) < 0) return String(venue.id);
    return venue.name;
  }

  function builder(fieldset, cat, onChange) {
    var rows = el("div", { className: "matcher-rows" });
    var add = el("button", { type: "button", className: "btn-secondary add-matcher", text: "+ Add matcher" });
    fieldset.appendChild(rows);
    fieldset.appendChild(add);
    var names = (cat.names || []).slice();
    if (names.indexOf("venue") < 0) names.push("venue");
    names.sort();

    function valueControl(row, name, value) {
      var old = row.querySelector(".m-value");
      var control;
      if (name === "venue") {
        control = el("select", { className: "m-value", "aria-label": "Venue" }, [el("option", { value: "", text: "— pick a venue —" })]);
        (cat.venues || []).forEach(function (v) {
          control.appendChild(el("option", { value: venueValue(cat, v), text: v.name, "data-timezone": v.timezone }));
        });
        if (value && !Array.prototype.some.call(control.options, function (o) { return o.value === value; })) {
          control.appendChild(el("option", { value: value, text: value }));
        }
      } else {
        var list = "m-values-" + (++uid);
        control = el("input", { className: "m-value", list: list, "aria-label": "Value of " + (name || "label"), placeholder: "exact value" });
        var dl = el("datalist", { id: list });
        ((cat.values || {})[name] || []).forEach(function (v) { dl.appendChild(el("option", { value: v })); });
        row.appendChild(dl);
      }
      control.value = value || "";
      control.addEventListener("input", onChange);
      control.addEventListener("change", onChange);
      if (old) row.replaceChild(control, old); else row.insertBefore(control, row.querySelector(".m-remove"));
    }

    function addRow(name, value) {
      var row = el("div", { className: "matcher-row" });
      var select = el("select", { className: "m-name", "aria-label": "Label name" });
      names.forEach(function (n) { select.appendChild(el("option", { value: n, text: n })); });
      select.appendChild(el("option", { value: "__other", text: "other label…" }));
      var custom = el("input", { className: "m-custom", placeholder: "label name", "aria-label": "Label name", hidden: "" });
      var remove = el("button", { type: "button", className: "btn-secondary m-remove", "aria-label": "Remove matcher", text: "✕" });
      row.appendChild(select); row.appendChild(custom); row.appendChild(el("span", { className: "eq", text: "=" }));
      row.appendChild(remove);
      if (name && names.indexOf(name) < 0) { select.value = "__other"; custom.hidden = false; custom.value = name; }
      else select.value = name || "alertname";
      valueControl(row, select.value === "__other" ? "" : select.value, value);
      select.addEventListener("change", function () {
        custom.hidden = select.value !== "__other";
        valueControl(row, select.value === "__other" ? "" : select.value, "");
        onChange();
      });
      custom.addEventListener("input", onChange);
      remove.addEventListener("click", function () { row.remove(); onChange(); });
      rows.appendChild(row);
      return row;
    }
    add.addEventListener("click", function () { addRow("venue", ""); onChange(); });

    return {
      addRow: addRow,
      get: function () {
        var out = {};
        rows.querySelectorAll(".matcher-row").forEach(function (row) {
          var sel = row.querySelector(".m-name").value;
          var name = sel === "__other" ? row.querySelector(".m-custom").value.trim() : sel;
          var value = row.querySelector(".m-value").value;
          if (name && value !== "") out[name] = value;
        });
        return out;
      },
      set: function (obj) {
        rows.innerHTML = "";
        Object.keys(obj || {}).forEach(function (k) { addRow(k, obj[k]); });
      },
      clear: function () { rows.innerHTML = ""; },
    };
  }

  window.wso.matchers = { load: load, builder: builder, el: el, venueValue: venueValue };
})();
