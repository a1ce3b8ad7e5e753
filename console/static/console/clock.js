/* Waiting, claim and task times tick here, once a second, from what the server said: nodes
 * carry data-since / data-age-since (ms since the epoch, by this browser's clock). */
import { fmtAge, fmtDuration } from "./format.js";

const everySecond = [];

export function onTick(render) { everySecond.push(render); }

export function tick() {
  const now = Date.now();
  document.querySelectorAll("[data-since]").forEach((n) => {
    n.textContent = fmtDuration((now - Number(n.getAttribute("data-since"))) / 1000);
  });
  document.querySelectorAll("[data-age-since]").forEach((n) => {
    n.textContent = fmtAge((now - Number(n.getAttribute("data-age-since"))) / 1000);
  });
  everySecond.forEach((render) => render());
}

export function startClock() { setInterval(tick, 1000); }
