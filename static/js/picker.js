/* Searchable pickers (crm/services/pickers.py). A <select data-picker="URL"> holds only a
   short list of its choices (the first by name and the current one); this turns it into a
   type-ahead over URL, a JSON list in the user's scope:
     GET URL?q=<typed>&limit=20  ->  {"results": [{"id", "label", "detail"}], "more": bool}
   The select stays in the form, hidden, and carries the chosen id: without JavaScript it
   is the picker, and the server checks whatever id arrives. Texts come from the select's
   data-picker-* attributes, in the page's language. */
(function () {
  "use strict";

  var DELAY_MS = 250; // wait for a pause in typing before asking
  var LIMIT = 20;
  var LONGEST = 100; // the server refuses longer terms
  var count = 0;

  function blankOption(select) {
    var first = select.options[0];
    return first && (first.value === "" || first.value === "0") ? first : null;
  }

  function upgrade(select) {
    var number = ++count;
    var url = select.getAttribute("data-picker");
    var blank = blankOption(select);
    var wrapper = document.createElement("div");
    var input = document.createElement("input");
    var list = document.createElement("ul");
    var timer = null;
    var controller = null;
    var asked = 0; // the newest request: older answers are dropped
    var results = [];
    var active = -1;
    var composing = false;

    list.id = "picker-" + number + "-list";
    list.className = "list-group picker-list shadow-sm";
    list.setAttribute("role", "listbox");
    list.hidden = true;

    input.type = "search";
    input.className = "form-control" +
      (select.classList.contains("form-select-sm") ? " form-control-sm" : "") +
      (select.classList.contains("form-select-lg") ? " form-control-lg" : "") +
      (select.classList.contains("is-invalid") ? " is-invalid" : "");
    // The page's <label for=...> names the select: the input takes its id, so the label
    // (and a tap on it) reaches what the user types into.
    input.id = select.id;
    select.id = select.id + "-value";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    input.setAttribute("enterkeyhint", "search");
    if (select.hasAttribute("aria-describedby")) {
      input.setAttribute("aria-describedby", select.getAttribute("aria-describedby"));
    }
    input.placeholder = blank ? blank.text : select.getAttribute("data-picker-hint") || "";
    input.title = select.getAttribute("data-picker-hint") || "";

    wrapper.className = "picker position-relative";
    select.parentNode.insertBefore(wrapper, select);
    wrapper.appendChild(input);
    wrapper.appendChild(list);
    wrapper.appendChild(select);
    select.hidden = true;
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");

    function chosenLabel() {
      var option = select.options[select.selectedIndex];
      return option && option !== blank ? option.text : "";
    }

    function showChosen() {
      input.value = chosenLabel();
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function note(text) {
      var item = document.createElement("li");
      item.className = "list-group-item small text-muted";
      item.setAttribute("aria-disabled", "true");
      item.textContent = text;
      list.appendChild(item);
    }

    function highlight(index) {
      var items = list.querySelectorAll("[role=option]");
      active = index;
      items.forEach(function (item, i) {
        item.classList.toggle("active", i === index);
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(found, more) {
      results = found;
      list.textContent = "";
      found.forEach(function (result, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.className = "list-group-item list-group-item-action";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = result.label;
        if (result.detail) {
          var detail = document.createElement("small");
          detail.className = "text-muted ms-2";
          detail.textContent = result.detail;
          item.appendChild(detail);
        }
        // mousedown, not click: the input keeps the focus, so its blur does not close
        // the list before the choice lands.
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(result);
        });
        list.appendChild(item);
      });
      if (!found.length) {
        note(select.getAttribute("data-picker-none") || "");
      } else if (more) {
        note(select.getAttribute("data-picker-more") || "");
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
    }

    function choose(result) {
      var value = String(result.id);
      var option = Array.prototype.find.call(select.options, function (o) {
        return o.value === value;
      });
      if (!option) {
        option = new Option(result.label, value);
        select.add(option);
      }
      select.value = value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      input.value = result.label;
      close();
    }

    function search(term) {
      var mine = ++asked;
      if (controller) {
        controller.abort();
      }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      var address = url + (url.indexOf("?") < 0 ? "?" : "&") +
        "q=" + encodeURIComponent(term.slice(0, LONGEST)) + "&limit=" + LIMIT;
      fetch(address, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          // A signed-out user is sent to the sign-in page: HTML, not an answer.
          if (!response.ok || type.indexOf("application/json") < 0) {
            throw new Error("picker: " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          if (mine === asked) {
            show(data.results || [], data.more);
          }
        })
        .catch(function (error) {
          if (error.name !== "AbortError" && mine === asked) {
            results = [];
            list.textContent = "";
            note(select.getAttribute("data-picker-failed") || "");
            list.hidden = false;
            input.setAttribute("aria-expanded", "true");
          }
        });
    }

    function searchSoon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        search(input.value.trim());
      }, DELAY_MS);
    }

    input.addEventListener("input", function () {
      if (!composing) {
        searchSoon(); // typing pinyin: wait until the characters are chosen
      }
    });
    input.addEventListener("compositionstart", function () {
      composing = true;
    });
    input.addEventListener("compositionend", function () {
      composing = false;
      searchSoon();
    });
    input.addEventListener("focus", function () {
      input.select(); // typing replaces the shown name; the list opens with the first ones
      search(input.value === chosenLabel() ? "" : input.value.trim());
    });
    input.addEventListener("blur", function () {
      window.clearTimeout(timer);
      close();
      if (!input.value.trim() && blank) {
        select.value = blank.value; // emptied: back to none / everyone
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      showChosen(); // what was typed but not chosen is not a choice
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) {
          search(input.value === chosenLabel() ? "" : input.value.trim());
        } else if (results.length) {
          highlight(Math.min(active + 1, results.length - 1));
        }
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (open && results.length) {
          highlight(Math.max(active - 1, 0));
        }
      } else if (event.key === "Enter" && open && !composing) {
        // Enter picks the highlighted name (or the only one); it never sends the form
        // with a half-typed name.
        if (active >= 0 || results.length === 1) {
          event.preventDefault();
          choose(results[Math.max(active, 0)]);
        } else if (results.length) {
          event.preventDefault();
        }
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
        showChosen();
      }
    });

    showChosen();
  }

  function start() {
    document.querySelectorAll("select[data-picker]").forEach(upgrade);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
