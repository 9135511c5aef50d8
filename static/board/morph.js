// Patch the page's live nodes to match a freshly drawn tree instead of replacing them, so a
// redraw (one per live event) leaves focus, an open <details> and what someone is typing
// alone, and a screen reader is not thrown back to the top of the page.
//
// Nodes are the same thing when their tag and key agree; the key is `data-key`, else the id.
// Matched nodes keep their event listeners (the new tree's are dropped with it), so every
// element with a listener must have a key of its own, and its listener must read the state
// it acts on when it runs, not when it was drawn. An element marked `data-morph-keep` keeps
// its children as they are (someone else manages them).

function keyOf(node) {
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  return node.getAttribute("data-key") || node.id || null;
}

function syncAttributes(from, to) {
  for (const { name } of [...from.attributes]) {
    // A <details> stays as the person left it (open or closed).
    if (name === "open" && from.tagName === "DETAILS") continue;
    if (!to.hasAttribute(name)) from.removeAttribute(name);
  }
  for (const { name, value } of [...to.attributes]) {
    if (name === "open" && from.tagName === "DETAILS") continue;
    // (Setting `value` changes an input only until someone has typed into it, as HTML wants.)
    if (from.getAttribute(name) !== value) from.setAttribute(name, value);
  }
}

/** Make `from` (in the page) look like `to` (detached, same tag), keeping matching nodes. */
export function morph(from, to) {
  syncAttributes(from, to);
  if (from.hasAttribute("data-morph-keep")) return;
  const old = [...from.childNodes];
  const keyed = new Map();
  for (const node of old) {
    const key = keyOf(node);
    if (key) keyed.set(key, node);
  }
  const unkeyed = old.filter((node) => !keyOf(node));
  const wanted = [...to.childNodes];
  const pairs = [];
  const kept = new Set();
  for (const next of wanted) {
    const key = keyOf(next);
    let match = null;
    if (key) {
      const candidate = keyed.get(key);
      if (candidate && candidate.nodeName === next.nodeName && !kept.has(candidate)) match = candidate;
    } else {
      // Unkeyed nodes pair up in order with the next old node of the same kind.
      while (unkeyed.length && !match) {
        const candidate = unkeyed.shift();
        if (candidate.nodeName === next.nodeName) match = candidate;
      }
    }
    if (match) kept.add(match);
    pairs.push([match, next]);
  }
  for (const node of old) if (!kept.has(node)) node.remove();
  let cursor = from.firstChild;
  for (const [match, next] of pairs) {
    let node = next;
    if (match) {
      node = match;
      if (node.nodeType === Node.ELEMENT_NODE) morph(node, next);
      else if (node.nodeValue !== next.nodeValue) node.nodeValue = next.nodeValue;
    }
    if (node === cursor) cursor = cursor.nextSibling;
    else from.insertBefore(node, cursor); // only what is out of place moves
  }
}
