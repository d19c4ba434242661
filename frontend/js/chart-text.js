// Keeps the pictures' words readable at any width (issue 14: ~4 px on a phone). The charts are
// SVG drawn 960 units wide (`view::WIDTH`) and scaled to their column, and their text scales
// with them. This sets `--k` (SVG units per CSS pixel) on every chart's box, and the pages' CSS
// makes no text smaller than 11 CSS px with it. Plain JS beside the UI module, so the module
// does not grow for it; loaded by the lab's and the lesson's pages.

const SCENE_WIDTH = 960;
const BOXES = '.svg, .strip';
const seen = new WeakSet();

const sizes = new ResizeObserver((entries) => {
  for (const e of entries) {
    const w = e.contentRect.width;
    if (w > 0) e.target.style.setProperty('--k', (SCENE_WIDTH / w).toFixed(3));
  }
});

// A picture's box appears when its first report does (and again on every page the lesson
// builds), so new boxes are looked for whenever the page changes.
function watch() {
  for (const el of document.querySelectorAll(BOXES)) {
    if (!seen.has(el)) {
      seen.add(el);
      sizes.observe(el);
    }
  }
}
new MutationObserver(watch).observe(document.documentElement, { childList: true, subtree: true });
watch();
