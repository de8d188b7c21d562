// One colour per person in the room, for the name in the log and the avatar in the people list
// alike: each member present holds a palette slot of its own while the palette has room, so two
// people never share a colour; a slot is freed when its member leaves. No DOM.

/** Hues spread so that the first few members get the most different ones. */
export const PALETTE = [25, 205, 125, 290, 55, 170, 330, 90, 235, 0, 260, 145];

/** A stable hue for an ID when every slot is taken (may repeat one, there is no other way). */
function hashHue(id) {
  let hash = 0;
  for (const ch of id || "") hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

export class ColourBook {
  #slots = new Map(); // memberId -> palette index

  /** Follows the members present, in join order: the gone free their slot, newcomers take the lowest free one. */
  sync(memberIds) {
    const present = new Set(memberIds);
    for (const id of [...this.#slots.keys()]) if (!present.has(id)) this.#slots.delete(id);
    for (const id of memberIds) this.#take(id);
  }

  /** Gives `id` the lowest free slot unless it holds one (or none is free). */
  #take(id) {
    if (!id || this.#slots.has(id)) return;
    const used = new Set(this.#slots.values());
    const free = PALETTE.findIndex((_, index) => !used.has(index));
    if (free >= 0) this.#slots.set(id, free);
  }

  /** The hue of a member (a member not seen yet takes a slot now). */
  hueOf(id) {
    this.#take(id);
    const slot = this.#slots.get(id);
    return slot === undefined ? hashHue(id) : PALETTE[slot];
  }

  /** Forgets everyone (the room ended). */
  clear() {
    this.#slots.clear();
  }
}
