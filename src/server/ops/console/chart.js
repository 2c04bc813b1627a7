// The overview's chart: frames per second and events per minute over the last hour, as one small SVG.
const NS = 'http://www.w3.org/2000/svg';
const W = 1200;
const H = 200;
const PAD = { left: 40, right: 40, top: 10, bottom: 22 };

function svg(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

const niceMax = (v) => {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v);
};

/** minutes: [{ at, frames, events }] oldest first (60 of them). */
export function rateChart(minutes) {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'frames per second and events per minute, last hour' });
  const fps = minutes.map((m) => m.frames / 60);
  const epm = minutes.map((m) => m.events);
  const series = [
    { values: fps, max: niceMax(Math.max(...fps)), color: '#2b5cab', side: 'left', unit: '/s' },
    { values: epm, max: niceMax(Math.max(...epm)), color: '#1f8a4c', side: 'right', unit: '/min' },
  ];
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (i / Math.max(1, minutes.length - 1)) * iw;
  for (let g = 0; g <= 4; g++) {
    const y = PAD.top + (g / 4) * ih;
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, stroke: '#e1e4ea' }));
  }
  for (const s of series) {
    const y = (v) => PAD.top + ih - (v / s.max) * ih;
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    root.append(svg('polyline', { points, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round' }));
    const label = svg('text', {
      x: s.side === 'left' ? PAD.left - 6 : W - PAD.right + 6,
      y: PAD.top + 10,
      'text-anchor': s.side === 'left' ? 'end' : 'start',
      'font-size': 11,
      fill: s.color,
    });
    label.textContent = `${s.max}${s.unit}`;
    root.append(label);
  }
  for (const [i, text] of [
    [0, '-60 min'],
    [30, '-30 min'],
    [minutes.length - 1, 'now'],
  ]) {
    const t = svg('text', {
      x: x(i),
      y: H - 6,
      'text-anchor': i === 0 ? 'start' : i === 30 ? 'middle' : 'end',
      'font-size': 11,
      fill: '#6b7385',
    });
    t.textContent = text;
    root.append(t);
  }
  return root;
}
