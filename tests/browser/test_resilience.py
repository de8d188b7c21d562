"""Issue 12, the browser side: a network drop, a sleeping page or a key change never loses a
message silently. Short drops resume the same seat (every missed message, in order, once); a
drop past the grace window says so and rejoins; texts written offline wait as pending bubbles
and go out on return; a text refused as stale is sealed again by itself; a pasted link and the
admin's PIN bring a reloaded or removed tab back without a reload."""

import re
import secrets
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SERVER_ENV
from tests.browser.person import Room, shared_safety_code, shot

pytestmark = pytest.mark.browser

AWAY = "reconnecting..."
OFFLINE = "Offline - your messages will be sent when you're back"
AWAY_TOO_LONG = "You were away too long: messages sent while you were away are gone."
DROP_SECONDS = 10
FREEZE_SECONDS = 20
GAP = re.compile(r"didn't reach you")


def token(label):
    """A message text no other test uses."""
    return f"{label} {secrets.token_hex(4)}"


def texts_from(person, sender):
    """The texts of `sender`'s bubbles on `person`'s screen, top to bottom."""
    return person.message("").filter(has_text=sender).locator(".msg__text").all_text_contents()


def own_texts(person):
    """The texts of `person`'s own bubbles, top to bottom."""
    return person.page.get_by_test_id("message-own").locator(".msg__text").all_text_contents()


def entry(person, name):
    """`name`'s entry in `person`'s people list."""
    return person.people().filter(has_text=name)


def expect_no_gap(*persons):
    """Nobody was told that messages went missing."""
    for person in persons:
        expect(person.system_line("didn't reach you")).to_have_count(0)
        assert not GAP.search(person.log.text_content())


def open_people(person):
    """On a phone the people list folds away behind the header's button: open it."""
    toggle = person.page.locator('[data-part="people-toggle"]')
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def close_people(person):
    """Folds the phone's people list away again."""
    toggle = person.page.locator('[data-part="people-toggle"]')
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "true":
        toggle.click()


@pytest.mark.parametrize("layout", ["desktop", "phone"])
def test_short_drop_misses_nothing_either_way(people, app_server, layout):
    """Ben loses his network for 10 s while Ana writes and while he writes: both get everything, in order, once."""
    phone = layout == "phone"
    room = Room.from_api(app_server)
    ana, ben = people("Ana", phone=phone), people("Ben", phone=phone)
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    shared_safety_code([ana, ben])
    before = token("before the tunnel")
    ana.send(before)
    ben.expect_message(before, "Ana")
    ben_id = ben.member_id()

    dropped_at = time.monotonic()
    ben.context.set_offline(True)
    # Ben's page knows at once and lets him write; Ana sees him greyed, not gone.
    expect(ben.page.get_by_test_id("composer-status")).to_have_text(OFFLINE)
    expect(ben.composer).to_be_editable()
    expect(ben.page.get_by_test_id("connection-banner")).to_have_text("Connection lost - reconnecting...")
    expect(entry(ana, "Ben")).to_contain_text(AWAY)
    expect(entry(ana, "Ben")).to_have_class(re.compile(r"\bperson--away\b"))
    from_ana = [token(f"while Ben is away {i}") for i in range(3)]
    from_ben = [token(f"written offline {i}") for i in range(3)]
    for text in from_ana:
        ana.send(text)
    for text in from_ben:
        ben.write(text)
        expect(ben.own(text)).to_have_attribute("data-state", "pending")
    expect(ben.page.locator('.msg[data-state="pending"]')).to_have_count(len(from_ben))
    shot(ben.page, f"resilience-offline-composer-{layout}")
    open_people(ana)
    shot(ana.page, f"resilience-reconnecting-{layout}")
    close_people(ana)
    time.sleep(max(0.0, DROP_SECONDS - (time.monotonic() - dropped_at)))

    ben.context.set_offline(False)
    expect(ben.page.get_by_test_id("connection-banner")).to_have_text("You're back")
    for text in from_ben:
        expect(ben.own(text)).to_have_attribute("data-state", "sent")
    for text in from_ana:
        ben.expect_message(text, "Ana")
    for text in from_ben:
        ana.expect_message(text, "Ben")
    expect(entry(ana, "Ben")).not_to_contain_text(AWAY)
    expect(ben.page.get_by_test_id("connection-banner")).to_be_hidden()  # "You're back" only for a moment
    assert texts_from(ben, "Ana") == [before, *from_ana]
    assert texts_from(ana, "Ben") == from_ben
    assert own_texts(ben) == from_ben
    # The same seat, not a new member: one join, one resume, and nobody was told anything went missing.
    assert ben.member_id() == ben_id and len(ben.events("sent", "join")) == 1
    assert len(ben.events("sent", "resume")) == 1
    expect(ana.system_line("Ben joined")).to_have_count(1)
    expect(ana.system_line("lost connection")).to_have_count(0)
    expect_no_gap(ana, ben)
    expect(ben.page.get_by_test_id("send-failed")).to_have_count(0)

    after = token("after the tunnel")
    ben.send(after)
    ana.expect_message(after, "Ben")


def test_drop_past_the_window_says_so_and_rejoins(people, fresh_server):
    """Away longer than BURNCHAT_RESUME_SECONDS: told plainly, a new member, and what Ben wrote still goes out."""
    server = fresh_server({**SERVER_ENV, "BURNCHAT_RESUME_SECONDS": "3"})
    room = Room.from_api(server)
    ana, ben = people("Ana", server=server), people("Ben", server=server)
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    shared_safety_code([ana, ben])
    first_id = ben.member_id()

    ben.context.set_offline(True)
    expect(entry(ana, "Ben")).to_contain_text(AWAY)
    expect(ana.system_line("Ben lost connection")).to_have_count(1, timeout=15_000)  # the window passed
    lost = token("said while Ben was gone")
    ana.send(lost)
    kept = token("written before the window closed")
    ben.write(kept)
    expect(ben.own(kept)).to_have_attribute("data-state", "pending")

    ben.context.set_offline(False)
    expect(ben.system_line(AWAY_TOO_LONG)).to_have_count(1)
    expect(ben.system_line(AWAY_TOO_LONG)).to_have_text(AWAY_TOO_LONG)
    expect(ben.own(kept)).to_have_attribute("data-state", "sent")
    ana.expect_message(kept, "Ben")
    assert ben.member_id() != first_id
    expect(ana.system_line("Ben joined")).to_have_count(2)
    shared_safety_code([ana, ben])
    expect(ana.people()).to_have_count(2)
    assert lost not in ben.dom_text()
    reply = token("welcome back")
    ana.send(reply)
    ben.expect_message(reply, "Ana")
    again = token("new seat works")
    ben.send(again)
    ana.expect_message(again, "Ben")


def test_message_sent_during_a_rekey_goes_out_without_a_second_press(people, app_server):
    """Ben sends under the old key while Cy's join moves the room on: refused stale, sealed again, delivered once."""
    room = Room.from_api(app_server)
    ana, ben = people("Ana"), people("Ben")
    # Ben's incoming frames can be held back, so his page still believes the old key when he presses Send.
    hold = {"on": False, "frames": [], "page": None}

    def route(ws):
        server = ws.connect_to_server()
        hold["page"] = ws

        def from_server(message):
            if hold["on"]:
                hold["frames"].append(message)
            else:
                ws.send(message)
        server.on_message(from_server)

    ben.page.route_web_socket(re.compile(r"/socket\.io/"), route)
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    shared_safety_code([ana, ben])

    hold["on"] = True
    cy = people("Cy")
    cy.join(room.link, "Cy")
    shared_safety_code([ana, cy])  # the server and the others are at the new key; Ben hasn't heard yet
    said = token("pressed once, during the rekey")
    ben.write(said)
    deadline = time.monotonic() + 10
    while not any("stale_epoch" in str(frame) for frame in hold["frames"]) and time.monotonic() < deadline:
        ben.page.wait_for_timeout(100)
    assert any("stale_epoch" in str(frame) for frame in hold["frames"]), "the server never refused it as stale"
    hold["on"] = False
    for frame in hold["frames"]:
        hold["page"].send(frame)

    expect(ben.own(said)).to_have_attribute("data-state", "sent")
    ana.expect_message(said, "Ben")
    cy.expect_message(said, "Ben")
    shared_safety_code([ana, ben, cy])
    expect(ben.page.get_by_test_id("send-failed")).to_have_count(0)
    expect(ben.page.get_by_test_id("composer-status")).not_to_have_text(re.compile("press Send again|try again"))
    expect_no_gap(ana, cy)


def test_frozen_page_resumes_where_it_was(people, app_server):
    """A page frozen like a phone's background tab for 20 s, its socket killed meanwhile (as a phone's
    OS does): on waking it resumes the same seat, misses nothing, and never said `leave`."""
    room = Room.from_api(app_server)
    ana, ben = people("Ana"), people("Ben")
    sockets = []

    def route(ws):
        sockets.append((ws, ws.connect_to_server()))

    ben.page.route_web_socket(re.compile(r"/socket\.io/"), route)
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    shared_safety_code([ana, ben])
    ben_id = ben.member_id()
    cdp = ben.context.new_cdp_session(ben.page)

    frozen_at = time.monotonic()
    cdp.send("Page.setWebLifecycleState", {"state": "frozen"})
    page_side, server_side = sockets[-1]
    server_side.close()
    page_side.close()
    expect(entry(ana, "Ben")).to_contain_text(AWAY)  # the seat is kept, nothing rekeyed
    said = [token(f"while Ben's phone sleeps {i}") for i in range(3)]
    for text in said:
        ana.send(text)
    time.sleep(max(0.0, FREEZE_SECONDS - (time.monotonic() - frozen_at)))
    cdp.send("Page.setWebLifecycleState", {"state": "active"})

    # The woken page reconnects on its own backoff timer, frozen meanwhile: allow it one more
    # period than a live page's 10 s before the first missed message must be there.
    expect(ben.message(said[0])).to_have_count(1, timeout=20_000)
    for text in said:
        ben.expect_message(text, "Ana")
    expect(entry(ana, "Ben")).not_to_contain_text(AWAY)
    assert texts_from(ben, "Ana") == said
    reply = token("good morning")
    ben.send(reply)
    ana.expect_message(reply, "Ben")
    assert len(sockets) >= 2, "the page connects again when it wakes"
    assert ben.member_id() == ben_id and len(ben.events("sent", "join")) == 1
    assert not ben.events("sent", "leave"), "a frozen page must keep its seat"
    expect(ben.system_line(AWAY_TOO_LONG)).to_have_count(0)
    expect(ana.system_line("Ben left")).to_have_count(0)
    expect(ana.system_line("Ben lost connection")).to_have_count(0)
    expect_no_gap(ana, ben)


def test_closing_the_page_leaves_at_once(people, app_server):
    """A real navigation away says `leave`: the others see "left" now, not "reconnecting..." for a minute."""
    room = Room.from_api(app_server)
    ana, ben = people("Ana"), people("Ben")
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    shared_safety_code([ana, ben])
    said = token("on Ben's screen")
    ana.send(said)
    ben.expect_message(said, "Ana")

    ben.page.close(run_before_unload=True)  # the tab is closed (a page kept in the back/forward cache would keep its seat)
    expect(ana.system_line("Ben left")).to_have_count(1, timeout=5_000)
    assert ben.unload_prompts, "closing a conversation on screen must ask first"
    expect(ana.people()).to_have_count(1)
    expect(ana.system_line("Ben lost connection")).to_have_count(0)
    expect(ana.people().filter(has_text=AWAY)).to_have_count(0)


def test_pasted_link_after_an_incomplete_one_brings_the_join_form(people, app_server):
    """"This link is incomplete", then the whole link pasted into the same tab: the join form, the secret gone again."""
    room = Room.from_api(app_server)
    ana, ben = people("Ana"), people("Ben")
    ana.join(room.link, "Ana")
    ben.open(room.path)
    expect(ben.page.get_by_test_id("link-error")).to_be_visible()
    ben.page.evaluate("(link) => { location.href = link; }", room.link)
    expect(ben.page.get_by_role("button", name="Join")).to_be_enabled()
    expect(ben.page.get_by_test_id("link-error")).to_be_hidden()
    assert room.secret not in ben.page.url and ben.page.url.endswith(room.path)
    ben.join_as("Ben")
    shared_safety_code([ana, ben])
    hello = token("pasted and in")
    ben.send(hello)
    ana.expect_message(hello, "Ben")


def test_removed_then_pasted_link_and_admin_claim_after_reload(people):
    """Ana reloads (warned first), pastes her link, claims admin back with her PIN and kicks Ben; Ben pastes the link and is back."""
    ana, ben = people("Ana"), people("Ben")
    room = ana.create_room()
    ana.enter_room("Ana")
    ben.join(room.link, "Ben")
    shared_safety_code([ana, ben])
    said = token("on screen before the reload")
    ana.send(said)
    ben.expect_message(said, "Ana")

    claimed = len(ana.events("sent", "admin_auth"))  # the first page's, from "Enter room"
    ana.page.reload()
    assert ana.unload_prompts, "a reload must warn first"
    expect(ben.system_line("Ana left")).to_have_count(1)  # a reload leaves at once
    expect(ana.page.get_by_test_id("link-error")).to_be_visible()
    ana.page.evaluate("(link) => { location.href = link; }", room.link)
    ana.join_as("Ana")
    assert room.secret not in ana.page.url
    expect(ana.page.get_by_test_id("admin-controls")).to_be_hidden()
    ana.page.get_by_role("button", name="I'm the admin").click()
    pin = ana.page.get_by_role("textbox", name="Admin PIN")
    pin.fill("1234")  # not PIN-shaped: refused here, without spending an attempt
    pin.press("Enter")
    expect(ana.page.get_by_test_id("admin-claim-error")).to_contain_text("8 letters and digits")
    assert len(ana.events("sent", "admin_auth")) == claimed
    pin.fill(room.pin.replace("-", "").lower())
    pin.press("Enter")
    expect(ana.page.get_by_role("button", name="Lock room")).to_be_visible()
    expect(ana.page.get_by_test_id("admin-claim")).to_be_hidden()
    assert len(ana.events("sent", "admin_auth")) == claimed + 1

    ana.page.get_by_role("listitem").filter(has_text="Ben").get_by_role("button", name="Kick", exact=True).click()
    expect(ben.page.get_by_test_id("removed-screen")).to_be_visible()
    ben.page.evaluate("(link) => { location.href = link; }", room.link)
    expect(ben.page.get_by_role("button", name="Join")).to_be_enabled()
    expect(ben.page.get_by_test_id("removed-screen")).to_be_hidden()
    assert room.secret not in ben.page.url
    ben.join_as("Ben")
    shared_safety_code([ana, ben])
    back = token("back after the kick")
    ben.send(back)
    ana.expect_message(back, "Ben")
    # The chat after the restart is a fresh one: one people toggle, one composer, one claim form that opens.
    ben.page.get_by_role("button", name="I'm the admin").click()
    expect(ben.page.get_by_role("textbox", name="Admin PIN")).to_be_visible()
