/* "Are you sure?" before an order action, saying what will happen: a modal <dialog> (focus
 * kept inside, Escape cancels), resolved true only by the confirm button. */
import { el } from "./dom.js";
import { t } from "./labels.js";

let open = null; // the dialog on screen, one at a time

// title and consequence are text; confirmLabel names the action ("Cancel order").
export function confirmAction(title, consequence, confirmLabel) {
  if (open) open.close("cancel");
  return new Promise((resolve) => {
    const yes = el("button", { type: "button", class: "primary danger", testid: "confirm-yes", text: confirmLabel });
    const no = el("button", { type: "button", testid: "confirm-no", text: t("confirm.keep") });
    const dialog = el("dialog", { class: "confirm", testid: "confirm", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" }, [
      el("h2", { id: "confirm-title", text: title }),
      el("p", { id: "confirm-text", testid: "confirm-text", text: consequence }),
      el("div", { class: "confirm-buttons" }, [no, yes])
    ]);
    yes.addEventListener("click", () => dialog.close("yes"));
    no.addEventListener("click", () => dialog.close("cancel"));
    dialog.addEventListener("close", () => {
      open = null;
      dialog.remove();
      resolve(dialog.returnValue === "yes");
    });
    document.body.appendChild(dialog);
    open = dialog;
    dialog.showModal();
    no.focus(); // the safe choice is the one Enter presses
  });
}
