// Live task updates for the panel: the task list and a task's page follow the server-sent
// events of /ui/events. Everything shown is set as text, never as markup.
"use strict";

const ENDED = ["success", "failure", "canceled"];

function duration(seconds) {
  const whole = Math.floor(seconds);
  if (whole < 60) return seconds.toFixed(1) + " s";
  if (whole < 3600) return Math.floor(whole / 60) + " min " + (whole % 60) + " s";
  return Math.floor(whole / 3600) + " h " + (Math.floor(whole / 60) % 60) + " min";
}

function setField(holder, name, value) {
  const cell = holder.querySelector('[data-field="' + name + '"]');
  if (!cell) return;
  cell.textContent = value === null || value === undefined ? "" : String(value);
  if (name === "state") cell.className = "state state-" + value;
}

// Shows a task in a row of the list or on its page.
function show(holder, task) {
  holder.dataset.completed = task.completionTime || "";
  setField(holder, "state", task.state);
  setField(holder, "description", task.description);
  setField(holder, "output", task.output);
  setField(holder, "attempts", task.attempts);
  if (task.error) {
    setField(holder, "error", task.error.code + " " + task.error.error + ": " + task.error.message);
  }
  tick(holder);
}

function tick(holder) {
  const start = Date.parse(holder.dataset.created);
  const end = holder.dataset.completed ? Date.parse(holder.dataset.completed) : Date.now();
  if (!isNaN(start)) setField(holder, "elapsed", duration(Math.max(0, end - start) / 1000));
}

// A new row for a task the list did not have yet.
function row(task) {
  const tr = document.createElement("tr");
  tr.dataset.task = task.id;
  tr.dataset.created = task.creationTime;
  const link = document.createElement("a");
  link.href = "/ui/tasks/" + encodeURIComponent(task.id);
  link.dataset.field = "name";
  link.textContent = task.name;
  const state = document.createElement("span");
  state.dataset.field = "state";
  const cells = [link, state, "description", "output", "elapsed", "attempts"];
  const labels = ["Task", "State", "Description", "Output", "Elapsed", "Attempts"];
  cells.forEach((content, n) => {
    const td = document.createElement("td");
    td.dataset.label = labels[n];
    if (typeof content === "string") td.dataset.field = content;
    else td.append(content);
    tr.append(td);
  });
  return tr;
}

// Every (re)connection begins with the tasks as they are now, then their changes.
function follow(query, onTask) {
  const source = new EventSource("/ui/events?" + query);
  source.addEventListener("stale", () => location.reload());
  source.addEventListener("task", (event) => onTask(JSON.parse(event.data)));
}

function taskList(table) {
  const filter = table.dataset.filter;
  const body = table.tBodies[0];
  follow("state=" + encodeURIComponent(filter), (task) => {
    let tr = body.querySelector('tr[data-task="' + CSS.escape(task.id) + '"]');
    if (tr && filter && task.state !== filter) {
      tr.remove();
      return;
    }
    if (!tr) {
      if (filter && task.state !== filter) return;
      tr = row(task);
      body.prepend(tr);
      const none = document.getElementById("none");
      if (none) none.remove();
    }
    show(tr, task);
    const live = document.getElementById("live");
    if (live) live.textContent = "Updated " + new Date().toLocaleTimeString();
  });
  setInterval(() => {
    for (const tr of body.rows) if (!tr.dataset.completed) tick(tr);
  }, 1000);
}

function taskPage(holder) {
  follow("task=" + encodeURIComponent(holder.dataset.task), (task) => {
    show(holder, task);
    if (ENDED.includes(task.state)) {
      const cancel = document.getElementById("cancel");
      if (cancel) cancel.remove();
    }
  });
  setInterval(() => {
    if (!holder.dataset.completed) tick(holder);
  }, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("tasks");
  if (table) taskList(table);
  const holder = document.getElementById("task");
  if (holder) taskPage(holder);
});
