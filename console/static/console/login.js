/* Logging in and out: the login form, the wait after too many attempts, the logout button. */
import { api, reason } from "./api.js";
import { $, show } from "./dom.js";
import { t } from "./labels.js";

let retryTimer = null;

export function showLogin(notice) {
  show($("loading"), false);
  show($("app"), false);
  show($("login"), true);
  const note = $("login-notice");
  note.textContent = notice || "";
  show(note, !!notice);
  const user = $("login-username");
  (user.value ? $("login-password") : user).focus();
}

function loginFailed(text) {
  const error = $("login-error");
  error.textContent = text;
  show(error, true);
}

function tooManyAttempts(res) {
  let left = parseInt(res.headers.get("Retry-After"), 10);
  clearInterval(retryTimer);
  if (!(left > 0)) { loginFailed(reason(res, t("login.too_many"))); return; }
  const submit = $("login-submit");
  function render() {
    if (left <= 0) { clearInterval(retryTimer); submit.disabled = false; show($("login-error"), false); return; }
    loginFailed(t("login.try_again_in", { seconds: left }));
    left--;
  }
  submit.disabled = true;
  render();
  retryTimer = setInterval(render, 1000);
}

// start(operator): logged in; stop(): leave the app before the session goes.
export function initLogin({ start, stop }) {
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const username = $("login-username").value.trim(), password = $("login-password").value;
    if (!username || !password) { loginFailed(t("login.enter_both")); return; }
    const submit = $("login-submit");
    submit.disabled = true;
    show($("login-error"), false);
    show($("login-notice"), false);
    api("POST", "/login", { username: username, password: password }).then((res) => {
      submit.disabled = false;
      $("login-password").value = "";
      if (res.ok && res.data.operator) { start(res.data.operator); return; }
      $("login-password").focus();
      if (res.status === 429) tooManyAttempts(res);
      else if (res.status === 401) loginFailed(t("login.wrong"));
      else loginFailed(reason(res, t("login.failed")));
    });
  });
  $("logout").addEventListener("click", () => {
    stop(); // first, so that the server closing the live socket is not taken for an expiry
    api("POST", "/logout").then(() => { showLogin(t("login.logged_out")); });
  });
}
