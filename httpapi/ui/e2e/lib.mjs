// Checks shared by the browser tests: functions evaluated in the page
// (page.evaluate) that return the problems they find.

// audit returns the page's accessibility problems: controls without a
// label, and text below WCAG AA contrast (4.5:1, 3:1 for large text)
// against its composited background. It also reports text showing a
// JavaScript null, undefined or NaN: a rendering slip.
export function audit() {
  const issues = [];
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (!el.checkVisibility()) continue;
    const name = [...(el.labels ?? [])].map((l) => l.textContent).join(' ').trim()
      || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' ? el.textContent.trim() : '');
    if (!name) issues.push(`unlabelled ${el.tagName.toLowerCase()}#${el.id}`);
  }
  const parse = (c) => {
    const m = c.match(/^rgba?\((.+)\)$/);
    if (!m) throw new Error(`unexpected colour ${c}`);
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p[3] ?? 1];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] === 1) break;
    }
    return layers.reverse().reduce((bg, layer) => over(layer, bg), [255, 255, 255, 1]);
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (/\b(null|undefined|NaN)\b/.test(n.textContent) && !el.closest('pre')) {
      issues.push(`stray value in "${n.textContent.trim().slice(0, 40)}"`);
    }
    if (!el.checkVisibility({ visibilityProperty: true }) || el.closest('.visually-hidden')) continue;
    const cs = getComputedStyle(el);
    const bg = background(el);
    const fg = over(parse(cs.color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(cs.fontSize);
    const need = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700) ? 3 : 4.5;
    if (ratio < need) {
      issues.push(`contrast ${ratio.toFixed(2)} < ${need}: "${n.textContent.trim().slice(0, 40)}" (${cs.color} on ${bg})`);
    }
  }
  return issues;
}

// overflow returns what sticks out of the viewport horizontally.
export function overflow() {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  return [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5)
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}.${el.className}: right edge ${el.getBoundingClientRect().right}px > ${width}px`);
}
