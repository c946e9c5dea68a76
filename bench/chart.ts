// A grouped horizontal bar chart of throughput ratios against node:http, as
// hand-written SVG: one group per scenario, one bar per server, a line at 1x.

export interface Bar {
  group: string;
  series: string;
  value: number;
}

const COLORS = ["#2f6fde", "#e07b24", "#3a9d5d", "#b04fc4", "#c9384a", "#1b9aaa", "#8c6d31", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79"];
const LABEL_W = 150, PLOT_W = 470, RIGHT = 60, BAR_H = 14, GAP = 3, GROUP_GAP = 14, AXIS_H = 28;
const LEGEND_Y = 26, LEGEND_LINE = 16;
/** Rough width of 11px sans-serif text, enough to lay out the legend. */
const textWidth = (text: string) => text.length * 6.2;

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function ratioChart(title: string, bars: readonly Bar[]): string {
  const groups = [...new Set(bars.map((b) => b.group))];
  const series = [...new Set(bars.map((b) => b.series))];
  const max = Math.max(1.5, Math.ceil(Math.max(...bars.map((b) => b.value)) * 2) / 2);
  const x = (v: number) => LABEL_W + (v / max) * PLOT_W;
  const width = LABEL_W + PLOT_W + RIGHT;
  // The legend flows left to right from the plot's left edge, wrapping as needed.
  const legend: string[] = [];
  let lx = LABEL_W, ly = LEGEND_Y;
  series.forEach((name, i) => {
    const w = 14 + textWidth(name) + 16;
    if (lx + w > width && lx > LABEL_W) {
      lx = LABEL_W;
      ly += LEGEND_LINE;
    }
    legend.push(`<rect x="${lx}" y="${ly}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    legend.push(`<text x="${lx + 14}" y="${ly + 9}">${escape(name)}</text>`);
    lx += w;
  });
  const top = ly + LEGEND_LINE + 8;
  const groupHeight = series.length * (BAR_H + GAP) - GAP;
  const height = top + groups.length * (groupHeight + GROUP_GAP) + AXIS_H;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escape(title)}</text>`,
  ];
  out.push(...legend);
  const step = max <= 3 ? 0.5 : 1;
  for (let tick = 0; tick <= max + 1e-9; tick += step) {
    const tx = x(tick).toFixed(1);
    const axisY = height - AXIS_H + 4;
    out.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${axisY}" stroke="${tick === 1 ? "#000" : "#ddd"}"${tick === 1 ? ' stroke-dasharray="4 3"' : ""}/>`);
    out.push(`<text x="${tx}" y="${axisY + 12}" text-anchor="middle" fill="#555">${tick.toFixed(1)}×</text>`);
  }
  groups.forEach((group, g) => {
    const gy = top + g * (groupHeight + GROUP_GAP);
    out.push(`<text x="${LABEL_W - 8}" y="${gy + groupHeight / 2 + 4}" text-anchor="end">${escape(group)}</text>`);
    series.forEach((name, s) => {
      const bar = bars.find((b) => b.group === group && b.series === name);
      if (bar === undefined) return;
      const by = gy + s * (BAR_H + GAP);
      const bw = Math.max(1, x(bar.value) - LABEL_W).toFixed(1);
      out.push(`<rect x="${LABEL_W}" y="${by}" width="${bw}" height="${BAR_H}" fill="${COLORS[s % COLORS.length]}"/>`);
      out.push(`<text x="${(x(bar.value) + 4).toFixed(1)}" y="${by + BAR_H - 3}">${bar.value.toFixed(2)}×</text>`);
    });
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
