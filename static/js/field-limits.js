// Live character count under fields with a limit: "12/200", in red past the limit.
// Progressive enhancement: without JavaScript the hint says the limit and the server
// refuses a longer text with a message; nothing is ever cut short in the browser.
(function () {
  "use strict";

  function length(text) {
    return Array.from(text).length; // characters as the server counts them, not UTF-16 units
  }

  function attach(counter) {
    var field = document.getElementById(counter.getAttribute("data-count-for"));
    if (!field) return;
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    if (!limit) return;
    function update() {
      var used = length(field.value);
      counter.textContent = used + "/" + limit;
      counter.classList.toggle("text-danger", used > limit);
      counter.classList.toggle("fw-semibold", used > limit);
    }
    field.addEventListener("input", update);
    update();
  }

  function start() {
    document.querySelectorAll("[data-count-for]").forEach(attach);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
