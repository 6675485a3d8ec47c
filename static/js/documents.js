// Drag and drop onto an upload form (progressive enhancement: the file input works without it).
// Dropped files go into the form's file input; the user still presses Upload.
(function () {
  "use strict";
  if (window.crmDocumentsReady) { return; }
  window.crmDocumentsReady = true;
  function enhance(form) {
    var input = form.querySelector("input[type=file]");
    if (!input || typeof DataTransfer === "undefined") { return; }
    var hint = document.createElement("div");
    hint.className = "document-drop-hint small text-muted mt-1";
    hint.textContent = form.dataset.dropText || "";
    input.insertAdjacentElement("afterend", hint);
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (event) {
        event.preventDefault();
        form.classList.add("border-primary", "bg-light");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function () {
        form.classList.remove("border-primary", "bg-light");
      });
    });
    form.addEventListener("drop", function (event) {
      event.preventDefault();
      var dropped = event.dataTransfer && event.dataTransfer.files;
      if (!dropped || !dropped.length) { return; }
      var files = new DataTransfer();
      var count = input.multiple ? dropped.length : 1;
      for (var i = 0; i < count; i++) { files.items.add(dropped[i]); }
      input.files = files.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
  function ready() {
    document.querySelectorAll("form.document-upload").forEach(enhance);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
