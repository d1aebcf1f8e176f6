(function () {
  "use strict";
  var body = document.body;
  var text = document.getElementById("filter-text");
  var sev = document.getElementById("filter-severity");
  var outcome = document.getElementById("filter-outcome");
  var count = document.getElementById("filter-count");
  function apply() {
    var q = text.value.toLowerCase();
    var rows = document.querySelectorAll("table.filterable tbody tr");
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var ok = (!q || r.textContent.toLowerCase().indexOf(q) !== -1) &&
        (!sev.value || r.getAttribute("data-severity") === sev.value) &&
        (!outcome.value || !r.hasAttribute("data-outcome") || r.getAttribute("data-outcome") === outcome.value);
      r.hidden = !ok;
      if (ok && r.hasAttribute("data-outcome")) { shown++; }
    }
    count.textContent = String(shown);
  }
  // initial filters from the query string (report.html?q=...&severity=high&outcome=error): values only
  var params = new URLSearchParams(window.location.search);
  if (params.has("q")) { text.value = params.get("q"); }
  if (params.has("severity")) { sev.value = params.get("severity"); }
  if (params.has("outcome")) { outcome.value = params.get("outcome"); }
  text.addEventListener("input", apply);
  sev.addEventListener("change", apply);
  outcome.addEventListener("change", apply);
  apply();
  var blob = document.getElementById("report-data");
  try {
    var data = JSON.parse(blob.textContent);
    body.setAttribute("data-findings", String(data.run.findings));
  } catch (e) {
    body.setAttribute("data-findings", "unreadable");
  }
  body.setAttribute("data-ready", "1");
})();
