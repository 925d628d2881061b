// The pipeline board: drag a card to another column to change its stage.
// Without JavaScript (or without a mouse) each card's select and Move button do the same.
(function () {
  "use strict";
  const board = document.getElementById("board");
  if (!board) return;
  const moveUrl = (id) => board.dataset.moveUrl.replace(/0\/move\/$/, id + "/move/");
  let dragged = null;

  board.querySelectorAll(".card[draggable=true]").forEach((card) => {
    card.addEventListener("dragstart", (event) => {
      dragged = card;
      card.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.id);
    });
    card.addEventListener("dragend", () => {
      card.classList.remove("dragging");
      dragged = null;
    });
  });

  board.querySelectorAll(".board-column").forEach((column) => {
    column.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      column.classList.add("drop-target");
    });
    column.addEventListener("dragleave", () => column.classList.remove("drop-target"));
    column.addEventListener("drop", (event) => {
      event.preventDefault();
      column.classList.remove("drop-target");
      const card = dragged;
      if (!card || card.closest(".board-column") === column) return;
      const form = card.querySelector("form.move");
      const body = new FormData(form);
      body.set("stage", column.dataset.stage);
      fetch(moveUrl(card.dataset.id), {
        method: "POST",
        body: body,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      }).then((response) => {
        if (!response.ok) {
          window.location.reload();
          return;
        }
        column.appendChild(card);
        form.querySelector("select").value = column.dataset.stage;
      }).catch(() => window.location.reload());
    });
  });
})();
