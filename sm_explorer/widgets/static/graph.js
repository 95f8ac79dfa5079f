// sm_explorer graph view: an SVG laid out by graphviz, with pan, zoom and clicks.
// Python owns the state: a click sets `selected` to the node's DOT id ("n12").

function render({ model, el }) {
  const frame = document.createElement("div");
  frame.className = "smx-graph";
  const stage = document.createElement("div");
  stage.className = "smx-stage";
  frame.appendChild(stage);
  el.appendChild(frame);

  let scale = 1, x = 0, y = 0;
  const apply = () => { stage.style.transform = `translate(${x}px, ${y}px) scale(${scale})`; };

  function mark() {
    const selected = model.get("selected");
    stage.querySelectorAll("g.node").forEach((g) => {
      g.classList.toggle("smx-selected", g.id === selected);
    });
  }

  function draw() {
    stage.innerHTML = model.get("svg");
    const svg = stage.querySelector("svg");
    if (svg) { svg.removeAttribute("width"); svg.removeAttribute("height"); svg.style.width = "100%"; }
    scale = 1; x = 0; y = 0; apply();
    stage.querySelectorAll("g.node").forEach((g) => {
      g.addEventListener("click", (event) => {
        event.stopPropagation();
        model.set("selected", g.id);
        model.save_changes();
      });
    });
    mark();
  }

  frame.addEventListener("wheel", (event) => {
    event.preventDefault();
    const factor = event.deltaY < 0 ? 1.15 : 1 / 1.15;
    const box = frame.getBoundingClientRect();
    const px = event.clientX - box.left, py = event.clientY - box.top;
    x = px - (px - x) * factor; y = py - (py - y) * factor; scale *= factor;
    apply();
  }, { passive: false });

  let drag = null;
  frame.addEventListener("mousedown", (event) => { drag = { sx: event.clientX - x, sy: event.clientY - y }; });
  window.addEventListener("mousemove", (event) => {
    if (!drag) return;
    x = event.clientX - drag.sx; y = event.clientY - drag.sy; apply();
  });
  window.addEventListener("mouseup", () => { drag = null; });

  model.on("change:svg", draw);
  model.on("change:selected", mark);
  draw();
}

export default { render };
