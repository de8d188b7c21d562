// The chat's pure rules (#14): unread counting and notification wording, one colour per person,
// folded join/leave lines and room events, the typing throttle and board.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UnreadCount, badgeText, notificationContent, titleWithCount } from "../../static/js/attention.js";
import { ColourBook, PALETTE } from "../../static/js/colours.js";
import { RoomEventLog, enteredLastMinute, runParts, stateEvents } from "../../static/js/room-events.js";
import { TYPING_EVERY_MS, TYPING_SHOWN_MS, TypingBoard, TypingThrottle, typingParts } from "../../static/js/typing.js";

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

/** Parts as the line would read (names in brackets). */
function read(parts) {
  return parts.map((part) => (typeof part === "string" ? part : `[${part.name}]`)).join("");
}

test("the title and badge carry the count only while away, and coming back clears it", () => {
  const unread = new UnreadCount();
  assert.equal(unread.message(), false); // in front of the person: nothing counts
  unread.setAway(true);
  assert.equal(unread.message(), true);
  unread.message();
  unread.message();
  assert.equal(titleWithCount("Burn Chat", unread.count), "(3) Burn Chat");
  assert.equal(unread.setAway(false), true);
  assert.equal(unread.count, 0);
  assert.equal(titleWithCount("Burn Chat", 0), "Burn Chat");
  assert.equal(titleWithCount("Burn Chat", 120), "(99+) Burn Chat");
  assert.equal(badgeText(4), "4");
  assert.equal(badgeText(12), "9+");
});

test("a notification names nobody and quotes nothing unless the person chose to show text", () => {
  const message = { name: "Ana", text: "the secret plan" };
  assert.deepEqual(notificationContent(message, 1, false), { title: "Burn Chat", body: "New message" });
  assert.deepEqual(notificationContent(message, 4, false), { title: "Burn Chat", body: "4 new messages" });
  assert.deepEqual(notificationContent(message, 1, true), { title: "Ana", body: "the secret plan" });
  assert.deepEqual(notificationContent({ ...message, me: true }, 1, true), { title: "Burn Chat", body: "* Ana the secret plan" });
});

test("two people present never share a colour while the palette has room; a leaver's colour is free again", () => {
  const book = new ColourBook();
  const ids = PALETTE.map((_, i) => `member${i}`);
  book.sync(ids);
  const hues = ids.map((id) => book.hueOf(id));
  assert.equal(new Set(hues).size, PALETTE.length);
  assert.equal(book.hueOf("member3"), hues[3]); // stable
  book.sync(ids.filter((id) => id !== "member3"));
  book.sync([...ids.filter((id) => id !== "member3"), "newcomer"]);
  assert.equal(book.hueOf("newcomer"), hues[3]);
  assert.ok(PALETTE.includes(book.hueOf("one too many"))); // beyond the palette a colour repeats, still from it
});

test("runs of joins and leaves fold into one line", () => {
  assert.equal(read(runParts(["Ana"], "joined")), "[Ana] joined");
  assert.equal(read(runParts(["Ana", "Ben"], "joined")), "[Ana] and [Ben] joined");
  assert.equal(read(runParts(["Ana", "Ben", "Cy"], "left")), "[Ana], [Ben] and [Cy] left");
  assert.equal(read(runParts(["Ana", "Ben", "Cy", "Di"], "joined")), "[Ana], [Ben] and 2 others joined");
  assert.equal(read(runParts(["A", "B", "C", "D", "E", "F", "G"], "joined")), "A, B and 5 others joined".replace("A", "[A]").replace("B", "[B]"));
});

test("lock, unlock and an extension (by how much) are room events; a clock sync is not", () => {
  assert.deepEqual(stateEvents({ locked: false, expiresAt: 0 }, { locked: true, expiresAt: 0 }), [{ kind: "locked" }]);
  assert.deepEqual(stateEvents({ locked: true }, { locked: false }), [{ kind: "unlocked" }]);
  assert.deepEqual(stateEvents({ expiresAt: 1_000_000 }, { expiresAt: 1_000_000 + 300_000 }), [{ kind: "extended", seconds: 300 }]);
  assert.deepEqual(stateEvents({ expiresAt: 1_000_000 }, { expiresAt: 1_000_500 }), []);
  assert.deepEqual(stateEvents({}, { locked: true, expiresAt: 5 }), []); // the first state is no change
  assert.equal(enteredLastMinute(61_000, 59_500), true);
  assert.equal(enteredLastMinute(59_000, 58_000), false);
  assert.equal(enteredLastMinute(null, 30_000), false); // joined in the last minute: the banner says it
});

test("the event log folds a run only while its line is the last one", () => {
  const lines = [];
  const parent = { get lastElementChild() { return lines.at(-1); } };
  const log = {
    addSystem(parts, tone) { const line = { parts, tone, isConnected: true, parentNode: parent }; lines.push(line); return line; },
    rewriteSystem(line, parts) { line.parts = parts; },
  };
  const events = new RoomEventLog(log);
  events.person("Ana", "joined");
  events.person("Ben", "joined");
  assert.equal(lines.length, 1);
  assert.equal(read(lines[0].parts), "[Ana] and [Ben] joined");
  events.person("Ana", "left");
  events.person("Cy", "joined");
  assert.equal(lines.length, 3);
  events.state({ locked: false, expiresAt: 100_000 }, { quiet: true });
  events.state({ locked: true, expiresAt: 100_000 + 1_800_000 });
  assert.deepEqual(lines.slice(3).map((line) => read(line.parts)), [
    "The admin locked the room - nobody new can join", "The admin added 30 minutes"]);
  events.tick(70_000);
  events.tick(60_000);
  events.tick(59_000);
  assert.equal(lines.at(-1).parts[0], "Room burns in 1 minute");
  assert.equal(lines.filter((line) => line.parts[0] === "Room burns in 1 minute").length, 1);
});

test("typing is said at most once per interval while typing, never for an empty box", () => {
  const clock = fakeClock();
  const throttle = new TypingThrottle(clock.now);
  assert.equal(throttle.input(""), false);
  assert.equal(throttle.input("h"), true);
  clock.t += 1000;
  assert.equal(throttle.input("he"), false);
  clock.t += TYPING_EVERY_MS;
  assert.equal(throttle.input("hel"), true);
  throttle.sent();
  assert.equal(throttle.input("n"), true);
});

test("a typing indicator expires, and stops with the message", () => {
  const clock = fakeClock();
  const board = new TypingBoard(clock.now);
  board.typing("a", "Ana");
  board.typing("b", "Ben");
  assert.equal(read(typingParts(board.names())), "[Ana] and [Ben] are typing...");
  assert.equal(board.stopped("b"), true);
  assert.equal(read(typingParts(board.names())), "[Ana] is typing...");
  assert.equal(board.nextExpiry(), TYPING_SHOWN_MS);
  clock.t += TYPING_SHOWN_MS;
  assert.deepEqual(board.names(), []);
  assert.equal(board.nextExpiry(), null);
  assert.equal(read(typingParts(["a", "b", "c"])), "Several people are typing...");
});
