"""The demo shop: a catalogue, customers in three languages and 40 orders in every status.

Seeded once, on the first start with `[demo] enabled`, so a newcomer can try the bot at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders.billing import set_payment_due_date
from orders.catalogue import CatalogueProduct, put_products
from orders.service import LineView, NewCustomer, NewOrder, OrderService
from orders.states import OrderStatus
from orders.tables import Order, OrderHistory, Voucher
from storage.clock import utcnow

# sku, name, category, price (minor units, EUR), stock, days until restock (out of stock only)
PRODUCTS: list[tuple[str, str, str, int, int, int | None]] = [
    ("KB-100", "Mechanical keyboard", "computers", 8900, 25, None),
    ("KB-110", "Wireless keyboard", "computers", 4900, 40, None),
    ("MS-200", "Wireless mouse", "computers", 2900, 60, None),
    ("MS-210", "Ergonomic mouse", "computers", 5900, 0, 6),
    ("HD-300", "Noise-cancelling headphones", "audio", 19900, 12, None),
    ("HD-310", "In-ear headphones", "audio", 7900, 0, 10),
    ("SP-320", "Bluetooth speaker", "audio", 6900, 18, None),
    ("MN-400", "27\" monitor", "computers", 28900, 7, None),
    ("MN-410", "Monitor arm", "computers", 6900, 0, 14),
    ("CB-500", "USB-C cable 2 m", "accessories", 1200, 200, None),
    ("CB-510", "HDMI cable 1.5 m", "accessories", 1100, 150, None),
    ("CH-520", "USB-C charger 65 W", "accessories", 3900, 35, None),
    ("PB-530", "Power bank 20,000 mAh", "accessories", 4500, 0, 5),
    ("BG-600", "Laptop backpack", "bags", 5900, 22, None),
    ("BG-610", "Laptop sleeve 14\"", "bags", 2500, 30, None),
    ("WC-700", "HD webcam", "computers", 5500, 9, None),
    ("MC-710", "USB microphone", "audio", 8900, 4, None),
    ("LM-800", "Desk lamp", "home", 3900, 16, None),
    ("MG-810", "Coffee mug 'Ship it'", "home", 1500, 80, None),
    ("PL-820", "Desk plant (artificial)", "home", 1900, 0, 21),
    ("SD-900", "SSD 1 TB", "storage", 9900, 14, None),
    ("SD-910", "microSD card 128 GB", "storage", 2200, 50, None),
    ("HB-920", "USB-C hub 7-in-1", "accessories", 4900, 0, 3),
    ("GC-930", "Gift card 50 EUR", "gift_cards", 5000, 999, None),
    ("TB-940", "Graphics tablet", "computers", 12900, 3, None),
]

# The demo products' names in Polish and Russian (English: PRODUCTS).
NAMES: dict[str, tuple[str, str]] = {
    "KB-100": ("Klawiatura mechaniczna", "Механическая клавиатура"),
    "KB-110": ("Klawiatura bezprzewodowa", "Беспроводная клавиатура"),
    "MS-200": ("Mysz bezprzewodowa", "Беспроводная мышь"),
    "MS-210": ("Mysz ergonomiczna", "Эргономичная мышь"),
    "HD-300": ("Słuchawki z redukcją szumów", "Наушники с шумоподавлением"),
    "HD-310": ("Słuchawki douszne", "Наушники-вкладыши"),
    "SP-320": ("Głośnik Bluetooth", "Bluetooth-колонка"),
    "MN-400": ("Monitor 27\"", "Монитор 27\""),
    "MN-410": ("Ramię do monitora", "Кронштейн для монитора"),
    "CB-500": ("Kabel USB-C 2 m", "Кабель USB-C 2 м"),
    "CB-510": ("Kabel HDMI 1,5 m", "Кабель HDMI 1,5 м"),
    "CH-520": ("Ładowarka USB-C 65 W", "Зарядное устройство USB-C 65 Вт"),
    "PB-530": ("Powerbank 20 000 mAh", "Пауэрбанк 20 000 мАч"),
    "BG-600": ("Plecak na laptopa", "Рюкзак для ноутбука"),
    "BG-610": ("Etui na laptopa 14\"", "Чехол для ноутбука 14\""),
    "WC-700": ("Kamera internetowa HD", "HD-веб-камера"),
    "MC-710": ("Mikrofon USB", "USB-микрофон"),
    "LM-800": ("Lampka biurkowa", "Настольная лампа"),
    "MG-810": ("Kubek Ship it", "Кружка Ship it"),
    "PL-820": ("Sztuczna roślina na biurko", "Искусственное растение для стола"),
    "SD-900": ("Dysk SSD 1 TB", "SSD-диск 1 ТБ"),
    "SD-910": ("Karta microSD 128 GB", "Карта microSD 128 ГБ"),
    "HB-920": ("Hub USB-C 7 w 1", "USB-C хаб 7 в 1"),
    "GC-930": ("Karta podarunkowa 50 EUR", "Подарочная карта 50 EUR"),
    "TB-940": ("Tablet graficzny", "Графический планшет"),
}

# Voucher codes to try in the confirmation: code, % off, amount off (minor), minimum total
# (minor), days valid from today (negative: expired), used up by this demo order.
VOUCHERS: list[tuple[str, int, int, int, int | None, str | None]] = [
    ("WELCOME10", 10, 0, 0, 365, None),
    ("SAVE5", 0, 500, 10000, 365, None),
    ("LOYAL-2024", 5, 0, 0, None, None),
    ("SUMMER15", 15, 0, 0, -30, None),
    ("THANKYOU20", 20, 0, 0, 365, "A-1007"),
]

# name, email, language, postcode, city, street
CUSTOMERS: list[tuple[str, str, str, str, str, str]] = [
    ("Emma Thompson", "emma.thompson@example.com", "en", "SW1A 1AA", "London", "10 Downing St"),
    ("James Wilson", "james.wilson@example.com", "en", "M1 1AE", "Manchester", "1 Piccadilly"),
    ("Olivia Brown", "olivia.brown@example.com", "en", "EH1 1YZ", "Edinburgh", "5 High St"),
    ("Noah Davies", "noah.davies@example.com", "en", "CF10 1EP", "Cardiff", "2 Queen St"),
    ("Anna Kowalska", "anna.kowalska@example.com", "pl", "00-950", "Warszawa", "ul. Marszałkowska 1"),
    ("Piotr Nowak", "piotr.nowak@example.com", "pl", "30-001", "Kraków", "ul. Floriańska 12"),
    ("Katarzyna Wiśniewska", "kasia.wisniewska@example.com", "pl", "80-001", "Gdańsk", "ul. Długa 5"),
    ("Tomasz Wójcik", "tomasz.wojcik@example.com", "pl", "50-001", "Wrocław", "ul. Świdnicka 3"),
    ("Иван Петров", "ivan.petrov@example.com", "ru", "101000", "Москва", "ул. Мясницкая, 1"),
    ("Мария Смирнова", "maria.smirnova@example.com", "ru", "190000", "Санкт-Петербург", "Невский пр., 10"),
    ("Алексей Иванов", "alexey.ivanov@example.com", "ru", "620000", "Екатеринбург", "ул. Ленина, 5"),
    ("Ольга Кузнецова", "olga.kuznetsova@example.com", "ru", "630000", "Новосибирск", "Красный пр., 2"),
]

# How many demo orders end in each status, in this order.
STATUS_PLAN: list[tuple[OrderStatus, int]] = [
    (OrderStatus.PENDING_CONFIRMATION, 6),
    (OrderStatus.CONFIRMED, 8),
    (OrderStatus.SHIPPED, 10),
    (OrderStatus.DELIVERED, 8),
    (OrderStatus.CANCELLED, 3),
    (OrderStatus.RETURN_REQUESTED, 3),
    (OrderStatus.RETURNED, 2),
]

PATHS: dict[OrderStatus, list[OrderStatus]] = {
    OrderStatus.PENDING_CONFIRMATION: [],
    OrderStatus.CONFIRMED: [OrderStatus.CONFIRMED],
    OrderStatus.SHIPPED: [OrderStatus.CONFIRMED, OrderStatus.SHIPPED],
    OrderStatus.DELIVERED: [OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED],
    OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
    OrderStatus.RETURN_REQUESTED: [
        OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
        OrderStatus.RETURN_REQUESTED,
    ],
    OrderStatus.RETURNED: [
        OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
        OrderStatus.RETURN_REQUESTED, OrderStatus.RETURNED,
    ],
}

# Unpaid orders with a payment due date (payment reminders, an overdue operator task), each
# for a customer of its own: number, (name, email, language, postcode, city, street),
# days from today until payment is due (negative: overdue).
UNPAID: list[tuple[str, tuple[str, str, str, str, str, str], int]] = [
    ("A-1041", ("Sophie Turner", "sophie.turner@example.com", "en", "LS1 1UR", "Leeds",
                "3 Park Row"), 10),
    ("A-1042", ("Marek Zieliński", "marek.zielinski@example.com", "pl", "61-001", "Poznań",
                "ul. Półwiejska 7"), 2),
    ("A-1043", ("Дмитрий Соколов", "dmitry.sokolov@example.com", "ru", "420000", "Казань",
                "ул. Баумана, 8"), -3),
]

# A delivered order for a Russian customer, to try a return in Russian: number, customer,
# sku and quantity of each line, days since delivery.
DELIVERED_RU = ("A-1044", ("Наталья Морозова", "natalia.morozova@example.com", "ru", "344000",
                           "Ростов-на-Дону", "ул. Большая Садовая, 10"),
                (("KB-110", 1), ("CB-500", 2)), 2)

CARRIERS = [("DPD", "https://tracking.dpd.example/{}"), ("InPost", "https://inpost.example/t/{}"),
            ("DHL", "https://dhl.example/track?id={}")]


@dataclass(frozen=True)
class DemoOrder:
    number: str
    email: str
    postcode: str
    status: str
    customer_name: str
    language: str


async def seed(session: AsyncSession, service: OrderService) -> bool:
    """Seed the demo shop unless orders exist already; True if it seeded."""
    if await service.count_orders(session):
        return False
    today = date.today()
    await put_products(session, [
        CatalogueProduct(
            sku=sku, names={"en": name, "pl": NAMES[sku][0], "ru": NAMES[sku][1]},
            category=category, price_minor=price, currency="EUR", available=stock,
            expected_date=today + timedelta(days=restock_days) if restock_days else None,
            returnable=category != "gift_cards",
        )
        for sku, name, category, price, stock, restock_days in PRODUCTS
    ])
    await _seed_vouchers(session, today)
    statuses = [status for status, count in STATUS_PLAN for _ in range(count)]
    now = utcnow()
    for index, final in enumerate(statuses):
        name, email, language, postcode, city, street = CUSTOMERS[index % len(CUSTOMERS)]
        in_stock = [p for p in PRODUCTS if p[4] >= 10]
        picks = [in_stock[(index * 3 + k) % len(in_stock)] for k in range(1 + index % 3)]
        number = f"A-{1001 + index}"
        await service.create_order(
            session,
            NewOrder(
                number=number,
                customer=NewCustomer(name=name, email=email, language=language),
                lines=tuple(LineView(p[0], p[1], 1 + (index + k) % 2, p[3])
                            for k, p in enumerate(picks)),
                currency="EUR",
                delivery_address={"street": street, "city": city, "postcode": postcode},
                payment_method="card" if index % 4 else "cash_on_delivery",
                payment_status="paid" if final is not OrderStatus.PENDING_CONFIRMATION else "pending",
            ),
            "demo seed",
        )
        for target in PATHS[final]:
            changes: dict[str, Any] = {}
            if target is OrderStatus.SHIPPED:
                carrier, url = CARRIERS[index % len(CARRIERS)]
                tracking = f"{carrier.upper()}{700000 + index * 7919}"
                changes = {"carrier": carrier, "tracking_number": tracking,
                           "tracking_url": url.format(tracking)}
            await service.move(session, number, target, "demo seed", **changes)
        # Spread the orders over the past weeks so history and dates look real.
        created = now - timedelta(days=40 - index, hours=index % 7)
        order_id = (await session.execute(
            update(Order).where(Order.number == number)
            .values(created_at=created, updated_at=created)
            .returning(Order.id)
        )).scalar_one()
        if final in (OrderStatus.DELIVERED, OrderStatus.RETURN_REQUESTED, OrderStatus.RETURNED):
            await session.execute(
                update(Order).where(Order.id == order_id)
                .values(delivered_at=created + timedelta(days=3))
            )
        await session.execute(
            update(OrderHistory).where(OrderHistory.order_id == order_id).values(at=created)
        )
    await _mark_vouchers_used(session)
    await _seed_unpaid_orders(session, service, today)
    await _seed_delivered_ru(session, service)
    return True


async def _seed_delivered_ru(session: AsyncSession, service: OrderService) -> None:
    number, customer, lines, days_ago = DELIVERED_RU
    name, email, language, postcode, city, street = customer
    products = {p[0]: p for p in PRODUCTS}
    await service.create_order(
        session,
        NewOrder(
            number=number,
            customer=NewCustomer(name=name, email=email, language=language),
            lines=tuple(LineView(sku, products[sku][1], quantity, products[sku][3])
                        for sku, quantity in lines),
            currency="EUR",
            delivery_address={"street": street, "city": city, "postcode": postcode},
            payment_method="card",
            payment_status="paid",
        ),
        "demo seed",
    )
    for target in (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        await service.move(session, number, target, "demo seed")
    await session.execute(
        update(Order).where(Order.number == number)
        .values(delivered_at=utcnow() - timedelta(days=days_ago))
    )


async def _seed_unpaid_orders(session: AsyncSession, service: OrderService, today: date) -> None:
    in_stock = [p for p in PRODUCTS if p[4] >= 10]
    for index, (number, customer, due_in_days) in enumerate(UNPAID):
        name, email, language, postcode, city, street = customer
        picks = in_stock[index * 2:index * 2 + 2]
        await service.create_order(
            session,
            NewOrder(
                number=number,
                customer=NewCustomer(name=name, email=email, language=language),
                lines=tuple(LineView(p[0], p[1], 1, p[3]) for p in picks),
                currency="EUR",
                delivery_address={"street": street, "city": city, "postcode": postcode},
                payment_method="bank_transfer",
                payment_status="pending",
            ),
            "demo seed",
        )
        await service.move(session, number, OrderStatus.CONFIRMED, "demo seed")
        await set_payment_due_date(session, number, today + timedelta(days=due_in_days))


async def _seed_vouchers(session: AsyncSession, today: date) -> None:
    for code, percent, amount, minimum, days, _used_by in VOUCHERS:
        session.add(Voucher(
            code=code, percent_off=percent, amount_off_minor=amount, min_total_minor=minimum,
            valid_until=today + timedelta(days=days) if days is not None else None,
            single_use=code != "LOYAL-2024",
        ))
    await session.flush()


async def _mark_vouchers_used(session: AsyncSession) -> None:
    for code, *_rest, used_by in VOUCHERS:
        if used_by is not None:
            order_id = select(Order.id).where(Order.number == used_by).scalar_subquery()
            await session.execute(
                update(Voucher).where(Voucher.code == code)
                .values(used_by_order_id=order_id, used_at=utcnow())
            )


async def demo_orders(session: AsyncSession, service: OrderService) -> list[DemoOrder]:
    """A few demo orders per status, with the proof a newcomer needs to ask about them."""
    shown: list[DemoOrder] = []
    for index in (2, 14, 16, 25, 28, 43, 33, 35, 0, 5, 8, 40, 41, 42):
        order = await service.get_order(session, f"A-{1001 + index}")
        if order is None:
            continue
        shown.append(DemoOrder(
            number=order.number, email=order.customer_email or "",
            postcode=str(order.delivery_address.get("postcode", "")), status=order.status.value,
            customer_name=order.customer_name, language=order.customer_language,
        ))
    return shown
