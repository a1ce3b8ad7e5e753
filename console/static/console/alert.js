/* Telling an operator who looks elsewhere that someone waits: the tab's title and a beep. */
import { t } from "./labels.js";

let audio = null;

export function updateTitle(waiting) {
  const title = t("page.title");
  document.title = waiting ? "(" + waiting + ") " + title : title;
}

// Browsers start audio only after a user gesture.
function unlockAudio() {
  try {
    if (!audio) { const Ctx = window.AudioContext || window.webkitAudioContext; if (Ctx) audio = new Ctx(); }
    if (audio && audio.state === "suspended") audio.resume();
  } catch (e) { audio = null; }
}

export function listenForFirstGesture() {
  document.addEventListener("pointerdown", unlockAudio, true);
  document.addEventListener("keydown", unlockAudio, true);
}

export function beep() {
  unlockAudio();
  if (!audio) return;
  try {
    const osc = audio.createOscillator(), gain = audio.createGain(), at = audio.currentTime;
    osc.type = "sine";
    osc.frequency.setValueAtTime(880, at);
    osc.frequency.setValueAtTime(1175, at + 0.12);
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.15, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.3);
    osc.connect(gain); gain.connect(audio.destination);
    osc.start(at); osc.stop(at + 0.32);
  } catch (e) { /* no sound then */ }
}
