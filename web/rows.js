// One table row per result. Every server string (paths are names users chose on the share) goes
// in through textContent, value or an attribute, never as markup.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function top1(result) {
  return result.status === "ok" && Array.isArray(result.predictions) && result.predictions.length
      ? result.predictions[0] : null;
}

// The predicted (top-1) label of `result`, or "" when it has none (an error, raw output).
export function predictedLabel(result) {
  const p = top1(result);
  return p ? String(p.label) : "";
}

// "confirmed", "corrected" or "" (no feedback yet).
export function feedbackState(result) {
  if (!result.feedback) return "";
  return result.feedback.label === predictedLabel(result) ? "confirmed" : "corrected";
}

// A row for result `id`; `actions.confirm(id)`, `actions.correct(id, label)`, `actions.select(id)`.
export function createRow(id, actions) {
  const tr = el("tr");
  tr.dataset.id = String(id);
  const row = { tr, id, key: "", thumbKey: "" };

  row.thumbCell = el("td", "thumb-cell");
  row.idCell = el("td", "num");
  row.pathCell = el("td", "path");
  row.labelCell = el("td", "label");
  row.scoreCell = el("td", "num");
  row.statusCell = el("td", "status");
  row.versionCell = el("td", "version");
  row.feedbackCell = el("td", "feedback");
  const review = el("td", "review");

  row.confirm = el("button", "confirm", "Confirm");
  row.confirm.type = "button";
  row.confirm.addEventListener("click", (e) => {
    e.stopPropagation();
    actions.select(id);
    actions.confirm(id);
  });
  row.picker = el("select", "picker");
  row.picker.addEventListener("click", (e) => e.stopPropagation());
  row.picker.addEventListener("change", () => {
    const label = row.picker.value;
    row.picker.value = "";
    if (label) {
      actions.select(id);
      actions.correct(id, label);
    }
  });
  review.append(row.confirm, row.picker);

  tr.append(row.thumbCell, row.idCell, row.pathCell, row.labelCell, row.scoreCell, row.statusCell,
            row.versionCell, row.feedbackCell, review);
  tr.addEventListener("click", () => actions.select(id));
  return row;
}

// Bring `row` up to date with `result`; view: {labels, superseded, selected, pending}.
export function fillRow(row, result, view) {
  const fb = result.feedback;
  const key = JSON.stringify([view.labels, view.superseded, view.selected, view.pending,
                              fb ? fb.history_count : 0, fb ? fb.label : ""]);
  if (row.key === key) return;
  const first = row.key === "";
  row.key = key;
  const prediction = top1(result);
  const path = String(result.path);

  if (first) {
    row.idCell.textContent = String(result.id);
    row.pathCell.textContent = path;
    row.pathCell.title = path;
    if (prediction) {
      row.labelCell.textContent = String(prediction.label);
      row.scoreCell.textContent = Number(prediction.score).toFixed(3);
    } else {
      row.labelCell.textContent = result.error ? String(result.error.code) : "—";
      row.scoreCell.textContent = "";
    }
    row.versionCell.textContent = result.model ? String(result.model.version) : "";
    setThumbPlaceholder(row, "…");
  }
  row.statusCell.textContent = String(result.status) + (view.superseded ? " (superseded)" : "");
  row.tr.classList.toggle("superseded", view.superseded);
  row.tr.classList.toggle("error", result.status !== "ok");
  row.tr.classList.toggle("selected", view.selected);
  // aria-current, not aria-selected: this is a table, not a grid with its own focus handling.
  if (view.selected) row.tr.setAttribute("aria-current", "true");
  else row.tr.removeAttribute("aria-current");

  const state = feedbackState(result);
  row.tr.dataset.feedback = state || "none";
  row.feedbackCell.replaceChildren();
  if (fb) {
    const mark = el("span", `mark ${state}`, state === "confirmed" ? "✓ confirmed" : `✎ ${fb.label}`);
    const who = el("span", "who", ` by ${fb.user}`);
    row.feedbackCell.append(mark, who);
    row.feedbackCell.title = `${fb.history_count} feedback, latest ${fb.created_at}`;
  } else {
    row.feedbackCell.textContent = "—";
    row.feedbackCell.title = "";
  }

  row.tr.classList.toggle("saving", view.pending);
  const usable = Boolean(prediction) && !view.superseded;
  const why = !prediction ? "no predicted label to review"
            : view.superseded ? "the file has a newer result" : "";
  row.confirm.disabled = !usable;
  row.confirm.title = why;
  row.confirm.setAttribute("aria-label", prediction ? `Confirm ${prediction.label} for ${path}`
                                                    : `Confirm ${path}`);
  row.picker.disabled = !usable || view.labels.length === 0;
  row.picker.title = why;
  row.picker.setAttribute("aria-label", `Correct the label of ${path}`);
  const options = [new Option("Correct…", "")];
  view.labels.forEach((label, i) => {
    options.push(new Option(i < 9 ? `${i + 1} ${label}` : label, label));
  });
  row.picker.replaceChildren(...options);
  row.picker.value = "";
}

// Show `url` (a blob: URL) as the row's thumbnail, or `text` in its place.
export function setThumb(row, url, alt) {
  const img = el("img", "thumb");
  img.alt = alt;
  img.src = url;
  row.thumbCell.replaceChildren(img);
}

export function setThumbPlaceholder(row, text) {
  row.thumbCell.replaceChildren(el("span", "no-thumb", text));
}
