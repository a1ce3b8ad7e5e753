"""Canned replies over the real server: defaults in every language, kept by admins."""

from __future__ import annotations

from tests.console.conftest import LogIn


async def test_canned_replies_come_in_each_language_and_admins_keep_them(
    log_in: LogIn,
) -> None:
    admin, anna = await log_in(), await log_in("anna")
    polish = (await anna.get("/console/api/canned?language=pl")).json()["replies"]
    assert [r["title"] for r in polish] == ["Powitanie", "Chwileczkę", "Coś jeszcze?"]
    added = await admin.post("/console/api/canned", json={
        "language": "pl", "title": "Kurier", "text": "Kurier będzie jutro."})
    assert added.status_code == 201
    reply = added.json()["reply"]
    assert reply["title"] == "Kurier" and reply["language"] == "pl"
    polish = (await anna.get("/console/api/canned?language=pl")).json()["replies"]
    assert polish[-1] == reply
    english = (await anna.get("/console/api/canned?language=en")).json()["replies"]
    assert len(english) == 3
    assert (await admin.delete(f"/console/api/canned/{reply['id']}")).status_code == 204
    assert (await admin.delete(f"/console/api/canned/{reply['id']}")).status_code == 404
    polish = (await anna.get("/console/api/canned?language=pl")).json()["replies"]
    assert reply not in polish
    bad = await admin.post("/console/api/canned", json={"language": "de", "title": "x",
                                                        "text": "y"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("language: ")
