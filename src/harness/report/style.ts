// The report's stylesheet, inlined into the page so it opens from disk with no other file.
export const STYLE = `
:root { --fg: #1d2230; --muted: #5d6475; --line: #dde1e8; --bg: #fff; --panel: #f6f7f9; --accent: #1f5fbf; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1320px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 22px 0 8px; }
p, li { color: var(--fg); }
.muted { color: var(--muted); }
.setting { background: #fff8e1; border: 1px solid #f0d98a; border-radius: 6px; padding: 8px 12px; margin: 12px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 12px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.results th, table.results td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
table.results th:first-child, table.results td:first-child { text-align: left; }
table.results thead th { background: var(--panel); font-weight: 600; }
table.results thead tr.group th { border-bottom: 0; text-align: center; }
table.results td.best { font-weight: 700; }
table.results tbody tr:hover { background: #f3f6fb; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
svg.roc { background: #fff; border: 1px solid var(--line); border-radius: 6px; }
svg.roc .title { font-size: 13px; font-weight: 600; fill: var(--fg); }
svg.roc .grid { stroke: #eef0f4; stroke-width: 1; }
svg.roc .frame { fill: none; stroke: #9aa1ad; stroke-width: 1; }
svg.roc .chance { stroke: #9aa1ad; stroke-dasharray: 4 4; stroke-width: 1; }
svg.roc .tick { font-size: 10px; fill: var(--muted); }
svg.roc .axis { font-size: 11px; fill: var(--muted); }
svg.roc .legend { font-size: 11px; fill: var(--fg); }
.examples { overflow-x: auto; margin-bottom: 8px; }
.examples table td, .examples table th { padding: 2px 3px; text-align: center; vertical-align: middle; }
.examples table th.row { text-align: right; font-weight: 500; color: var(--muted); padding-right: 8px; white-space: nowrap; }
.examples img { display: block; image-rendering: pixelated; border-radius: 3px; }
.examples .cap { font-size: 11px; color: var(--muted); line-height: 1.25; }
.examples .cap b { color: var(--fg); font-weight: 600; }
.tag { display: inline-block; padding: 0 5px; border-radius: 3px; font-size: 10px; font-weight: 600; }
.tag.abn { background: #fde2e1; color: #a3231c; }
.tag.nor { background: #e1f3e4; color: #1e6b2e; }
.scale { display: flex; align-items: center; gap: 6px; font-size: 11px; color: var(--muted); margin: 4px 0 14px; }
.scale .bar { width: 160px; height: 10px; border-radius: 2px; background: linear-gradient(90deg, #00007f, #0000ff, #007fff, #00ffff, #7fff7f, #ffff00, #ff7f00, #ff0000, #7f0000); }
table.profile { font-size: 12.5px; margin-bottom: 6px; }
table.profile th, table.profile td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: right; }
table.profile th:first-child, table.profile td:first-child { text-align: left; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table.profile thead th { background: var(--panel); }
table.profile td.barcell { width: 140px; text-align: left; }
table.profile .pbar { height: 8px; background: var(--accent); border-radius: 2px; opacity: 0.75; }
.profiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 8px 36px; align-items: start; }
details > summary { cursor: pointer; color: var(--accent); margin: 6px 0; }
footer { margin-top: 40px; font-size: 12px; color: var(--muted); }
`;
