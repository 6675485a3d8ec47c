/* Drag and drop on the opportunity board: dropping a card in another column POSTs the
   move (the same endpoint the cards' plain forms use) and reloads for fresh totals;
   a refused move puts the card back and shows the reason. */
(function () {
  "use strict";

  var board = document.getElementById("board");
  var tokenTag = document.querySelector('meta[name="csrf-token"]');
  if (!board || !tokenTag || typeof Sortable === "undefined") {
    return;
  }
  var messageBox = document.getElementById("board-message");

  function showMessage(text, link, linkText) {
    if (!messageBox) {
      window.alert(text);
      return;
    }
    messageBox.textContent = text;
    if (link) {
      // A stage document rule refused the move: link to where the document is uploaded.
      var anchor = document.createElement("a");
      anchor.className = "alert-link ms-1";
      anchor.href = link;
      anchor.textContent = linkText || link;
      messageBox.appendChild(anchor);
    }
    messageBox.classList.remove("d-none");
    messageBox.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }

  function putBack(event) {
    var from = event.from;
    var before = from.children[event.oldIndex] || null;
    from.insertBefore(event.item, before);
  }

  function moveCard(event) {
    if (event.from === event.to) {
      return;
    }
    var body = new FormData();
    body.append("csrf_token", tokenTag.getAttribute("content"));
    body.append("stage_id", event.to.getAttribute("data-stage-id"));
    fetch(event.item.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        if (result.ok && result.data.ok) {
          window.location.reload();
        } else {
          putBack(event);
          showMessage(
            result.data.message || board.getAttribute("data-error"),
            result.data.link,
            result.data.link_text
          );
        }
      })
      .catch(function () {
        putBack(event);
        showMessage(board.getAttribute("data-error"));
      });
  }

  board.querySelectorAll(".board-cards").forEach(function (list) {
    Sortable.create(list, {
      group: "board",
      animation: 150,
      draggable: ".board-card",
      // Let the card's own links and move form work as usual.
      filter: "a, select, button, option, input, label",
      preventOnFilter: false,
      onEnd: moveCard
    });
  });
})();
