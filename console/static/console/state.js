/* What the page knows of the login and the open conversation, shared by the modules. */

export const state = {
  me: null,       // the operator logged in: {id, username, display_name, role}
  current: null   // the open conversation (conversation.js, openConversation)
};

export function isAdmin() { return !!(state.me && state.me.role === "admin"); }

export function heldByMe(c) {
  return !!(c && state.me && c.status === "claimed" && c.operator && c.operator.key === "console:" + state.me.id);
}
