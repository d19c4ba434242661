// Two fingers pinching a timeline zoom it (issue 14: on a phone a pinch did nothing). Browsers
// already deliver a trackpad's pinch as a wheel event with ctrl held, which the picture
// (picture.rs) zooms by around the pointer; this turns a touch screen's pinch into the same
// events, so the UI module has one zoom path and does not grow for a second one.
//
// The chart's CSS (`touch-action: pan-y`) leaves vertical one-finger moves to the browser (they
// scroll the page) and gives sideways drags and pinches to the page. While two fingers are down
// and until both are lifted, their pointer moves are kept from the picture, so its one-finger
// drag does not pan the window under the pinch.
//
// Loaded by the lab's and the lesson's pages.

const CHART = '.chart';
const fingers = new Map(); // pointerId -> {x, y}
let chart = null; // the chart being pinched
let spread = 0; // the fingers' last distance apart, px

const distance = () => {
  const [a, b] = [...fingers.values()];
  return Math.hypot(a.x - b.x, a.y - b.y);
};

addEventListener('pointerdown', (e) => {
  if (e.pointerType !== 'touch') return;
  const c = e.target.closest && e.target.closest(CHART);
  if (!c || (chart && c !== chart)) return;
  fingers.set(e.pointerId, { x: e.clientX, y: e.clientY });
  if (fingers.size === 2) {
    chart = c;
    spread = distance();
  }
}, true);

addEventListener('pointermove', (e) => {
  const f = fingers.get(e.pointerId);
  if (!f) return;
  f.x = e.clientX;
  f.y = e.clientY;
  if (!chart) return;
  e.stopPropagation();
  if (fingers.size < 2) return;
  const now = distance();
  if (now < 1 || spread < 1) return;
  const [a, b] = [...fingers.values()];
  // picture.rs zooms by 2^(-deltaY / 100) for a ctrl wheel: fingers twice as far apart, twice
  // the zoom.
  chart.dispatchEvent(new WheelEvent('wheel', {
    deltaY: -100 * Math.log2(now / spread),
    ctrlKey: true,
    clientX: (a.x + b.x) / 2,
    clientY: (a.y + b.y) / 2,
    bubbles: true,
    cancelable: true,
  }));
  spread = now;
}, true);

// Lifts reach the picture: they end its drag.
const lift = (e) => {
  if (fingers.delete(e.pointerId) && fingers.size === 0) chart = null;
};
addEventListener('pointerup', lift, true);
addEventListener('pointercancel', lift, true);
