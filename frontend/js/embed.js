// Embedded in a course page (`?embed=…` inside an iframe): tell the host page how tall we are,
// whenever that changes. Shared by the lab page and the lesson page.
const q = new URLSearchParams(location.search);
if (q.has('embed') && window.parent !== window) {
  let last = 0;
  const report = () => {
    const h = Math.ceil(document.documentElement.scrollHeight);
    if (h !== last) { last = h; window.parent.postMessage({ type: 'gil-lab:height', height: h }, '*'); }
  };
  new ResizeObserver(report).observe(document.body);
  addEventListener('load', report);
}
