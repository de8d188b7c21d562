// The Node socket.io 4 relay: the stack darkwire.io and hack.chat run on, as a yardstick.
//
// Run by the harness as `node bench/node/relay.js` (PORT, HOST from the environment),
// after `npm ci` in bench/node/ (socket.io pinned in package-lock.json). It speaks the
// harness's protocol exactly as the bare Flask-SocketIO relay (bench/baseline.py) does:
// `join` enters a room, `message` re-emits to the room but the sender, both ack like
// ours; POST /api/rooms starts one plain timer loop per room on our tick schedule that
// emits `countdown` and, at zero, `destroyed` and disconnects the room; GET /r/ROOM is
// 200 while the room lives, 404 after. No schemas, no key epochs, no limits.
"use strict";

const crypto = require("node:crypto");
const http = require("node:http");
const { Server } = require("socket.io");

// The same settings as app.py / bench/baseline.py: frame cap, ping, WebSocket only.
const MAX_FRAME_BYTES = 16 * 1024;
const PING_MS = 20000;

const expiryByRoom = new Map(); // room -> expires_at (seconds)
const roomBySid = new Map(); // socket id -> room

function ms(seconds) {
  return Math.floor(seconds * 1000);
}

function now() {
  return Date.now() / 1000;
}

// The tick schedule of burnchat/countdown.py: 10 s, 1 s in the last minute, 0 at the end.
function nextWait(remaining) {
  if (remaining > 60) return Math.min(10, remaining - 60);
  return Math.max(0, Math.min(1, remaining));
}

function runTimer(io, room) {
  const remaining = expiryByRoom.get(room) - now();
  if (remaining <= 0) {
    burn(io, room);
    return;
  }
  io.to(room).emit("countdown", { expires_at: ms(expiryByRoom.get(room)), now: ms(now()) });
  setTimeout(runTimer, nextWait(remaining) * 1000, io, room);
}

function burn(io, room) {
  expiryByRoom.delete(room);
  io.to(room).emit("destroyed", { reason: "expired" });
  io.in(room).disconnectSockets(true);
}

function readJson(request, done) {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    try {
      done(JSON.parse(Buffer.concat(chunks).toString() || "{}"));
    } catch (error) {
      done(null);
    }
  });
}

function answer(response, status, body, type = "text/plain") {
  response.writeHead(status, { "Content-Type": type });
  response.end(body);
}

function routes(io) {
  return (request, response) => {
    const path = request.url.split("?")[0];
    if (request.method === "GET" && path === "/") return answer(response, 200, "node socket.io relay\n");
    if (request.method === "POST" && path === "/api/rooms") {
      return readJson(request, (body) => {
        if (!body || !Number.isFinite(Number(body.ttl_seconds))) return answer(response, 400, "bad\n");
        const room = crypto.randomBytes(16).toString("base64url");
        expiryByRoom.set(room, now() + Math.trunc(Number(body.ttl_seconds)));
        runTimer(io, room);
        answer(response, 201, JSON.stringify({ room }), "application/json");
      });
    }
    if (request.method === "GET" && path.startsWith("/r/")) {
      const live = expiryByRoom.has(path.slice(3));
      return answer(response, live ? 200 : 404, live ? "live\n" : "gone\n");
    }
    // socket.io answers its own path before this listener; anything else is unknown.
    if (!path.startsWith("/socket.io/")) answer(response, 404, "not found\n");
  };
}

function main() {
  const server = http.createServer();
  const io = new Server(server, {
    transports: ["websocket"],
    maxHttpBufferSize: MAX_FRAME_BYTES,
    pingInterval: PING_MS,
    pingTimeout: PING_MS,
    serveClient: false,
    cors: undefined,
  });
  server.on("request", routes(io));
  io.on("connection", (socket) => {
    socket.on("join", (data, ack) => {
      const room = data && data.room;
      if (!expiryByRoom.has(room)) {
        if (typeof ack === "function") ack({ ok: false, code: "no_room", error: "no such room" });
        return;
      }
      socket.join(room);
      roomBySid.set(socket.id, room);
      if (typeof ack === "function") {
        ack({ ok: true, epoch: 1, expires_at: ms(expiryByRoom.get(room)), now: ms(now()) });
      }
    });
    socket.on("message", (data, ack) => {
      const room = roomBySid.get(socket.id);
      if (room === undefined) {
        if (typeof ack === "function") ack({ ok: false, code: "not_member", error: "join first" });
        return;
      }
      socket.to(room).emit("message", data);
      if (typeof ack === "function") ack({ ok: true });
    });
    socket.on("disconnect", () => roomBySid.delete(socket.id));
  });
  const port = Number(process.env.PORT || 5000);
  server.listen({ port, host: process.env.HOST || "127.0.0.1", backlog: 1024 }, () => {
    process.stderr.write(`node socket.io relay listening on port ${port}\n`);
  });
}

main();
