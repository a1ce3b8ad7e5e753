"""Photos and PDFs attached to a customer's mail, through the real SMTP listener."""

from __future__ import annotations

import io

from PIL import Image

from composition.bootstrap import Orderbot
from tests.attachment_files import GPS_IFD, photo_with_gps, renamed_program
from tests.channels.test_email import OLIVIA, SHOP, MailClient, bot, settle  # noqa: F401
from tests.doubles.smtp_relay import SmtpRelayDouble, customer_mail


async def test_a_mailed_photo_is_kept_without_its_position_and_shown_to_operators(
    bot: Orderbot, relay: SmtpRelayDouble  # noqa: F811
) -> None:
    olivia = MailClient(bot, relay, OLIVIA)
    mail = customer_mail(OLIVIA, "The lamp arrived broken, photo attached.", to=SHOP)
    mail.add_attachment(photo_with_gps(), maintype="image", subtype="jpeg",
                        filename="lamp.jpg")
    mail.add_attachment(renamed_program(), maintype="application",
                        subtype="octet-stream", filename="lamp2.jpg")  # refused: no photo
    await olivia.send(mail)
    await olivia.next_reply(0)  # the message itself is answered as always

    conversations = [item for item in await bot.desk.queue("all") if item.channel == "email"]
    [conversation] = conversations
    lines = await bot.desk.transcript(conversation.conversation_id)
    [carried] = [line for line in lines if line.attachments]
    assert carried.text.startswith("The lamp arrived broken")
    [photo] = carried.attachments
    assert (photo.name, photo.content_type) == ("lamp.jpg", "image/jpeg")
    files = bot.console.attachments
    assert files is not None
    found = await files.for_operator(photo.id)
    assert found is not None
    assert not Image.open(io.BytesIO(found.path.read_bytes())).getexif().get_ifd(GPS_IFD)


async def test_a_mail_with_only_a_photo_is_acknowledged(
    bot: Orderbot, relay: SmtpRelayDouble  # noqa: F811
) -> None:
    olivia = MailClient(bot, relay, OLIVIA)
    mail = customer_mail(OLIVIA, "", to=SHOP)
    mail.add_attachment(photo_with_gps(), maintype="image", subtype="jpeg", filename="a.jpg")
    await olivia.send(mail)
    answer = await olivia.next_reply(0)
    assert "I've got your file" in answer.text
    await settle(bot)
