"""Attachments in the web chat over the real server: upload with the session token, a message
that carries the file, download by the same customer and by an operator only."""

from __future__ import annotations

import asyncio
import io
import json

import httpx
import websockets
from PIL import Image

from tests.attachment_files import GPS_IFD, pdf_with_javascript, photo_with_gps, plain_pdf
from tests.conftest import LiveServer
from tests.e2e.test_webchat import REPLY_TIMEOUT, open_session


async def session(server: LiveServer) -> str:
    response = await open_session(server, language="en")
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


async def upload(client: httpx.AsyncClient, token: str | None, name: str, data: bytes,
                 declared: str = "image/jpeg") -> httpx.Response:
    headers = {"X-Chat-Token": token} if token else {}
    return await client.post("/webchat/attachments", headers=headers,
                             files={"file": (name, data, declared)})


async def test_a_photo_uploaded_and_sent_reaches_its_customer_and_operators_only(
    live_server: LiveServer,
) -> None:
    mine, theirs = await session(live_server), await session(live_server)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        uploaded = await upload(client, mine, "IMG_1.JPG", photo_with_gps())
        assert uploaded.status_code == 201, uploaded.text
        attachment = uploaded.json()["attachment"]
        assert (attachment["name"], attachment["type"], attachment["image"]) == (
            "IMG_1.jpg", "image/jpeg", True)

        async with websockets.connect(f"{live_server.ws_url}/webchat/ws?token={mine}",
                                      origin=live_server.url) as socket:
            await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT)  # the history
            await socket.send(json.dumps({"type": "message", "text": "",
                                          "attachments": [attachment["id"]], "id": "c1"}))
            frames = [json.loads(await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT))
                      for _ in range(2)]
        reply = next(f for f in frames if f["type"] == "message")
        assert "I've got your file" in reply["text"]

        own = await client.get(f"/webchat/attachments/{attachment['id']}",
                               headers={"X-Chat-Token": mine})
        other = await client.get(f"/webchat/attachments/{attachment['id']}",
                                 headers={"X-Chat-Token": theirs})
        nobody = await client.get(f"/webchat/attachments/{attachment['id']}")
        unknown = await client.get("/webchat/attachments/AAAAAAAAAAAAAAAAAAAAAA",
                                   headers={"X-Chat-Token": mine})
        console_anonymous = await client.get(f"/console/api/attachments/{attachment['id']}")
        login = await client.post("/console/api/login",
                                  json={"username": "demo", "password": "demo"})
        assert login.status_code == 200, login.text
        operator = await client.get(f"/console/api/attachments/{attachment['id']}")

    assert own.status_code == 200
    assert own.headers["content-type"] == "image/jpeg"
    assert own.headers["x-content-type-options"] == "nosniff"
    assert own.headers["content-disposition"].startswith("inline")
    assert "sandbox" in own.headers["content-security-policy"]
    assert not Image.open(io.BytesIO(own.content)).getexif().get_ifd(GPS_IFD)  # no position
    assert (other.status_code, nobody.status_code, unknown.status_code) == (404, 401, 404)
    assert console_anonymous.status_code == 401
    assert operator.status_code == 200 and operator.content == own.content


async def test_a_pdf_is_a_download_and_bad_files_are_refused_with_the_reason(
    live_server: LiveServer,
) -> None:
    token = await session(live_server)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        pdf = await upload(client, token, "receipt.pdf", plain_pdf(), "application/pdf")
        assert pdf.status_code == 201, pdf.text
        download = await client.get(f"/webchat/attachments/{pdf.json()['attachment']['id']}",
                                    headers={"X-Chat-Token": token})
        program = await upload(client, token, "photo.jpg", b"MZ\x90\x00" + b"\x00" * 300)
        script = await upload(client, token, "invoice.pdf", pdf_with_javascript(),
                              "application/pdf")
        huge = await upload(client, token, "big.jpg", b"\xff\xd8" + b"\x00" * (11 * 1024 * 1024))
        anonymous = await upload(client, None, "a.pdf", plain_pdf(), "application/pdf")

    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["content-type"] == "application/pdf"
    assert program.status_code == 415
    assert program.json()["detail"] == "I can only take photos (JPEG, PNG, WebP) and PDF files."
    assert script.status_code == 422 and script.json()["reason"] == "active_pdf"
    assert huge.status_code == 413
    assert anonymous.status_code == 401
