"""The HTML report's stylesheet, inlined into every page (the page loads nothing, so
system fonts only: any language shows without a web font)."""

CSS = """
:root { color-scheme: light; --blue: #0877bd; --orange: #f59322; --ink: #222; --muted: #666;
        --line: #ddd; --pass: #1a7f37; --fail: #c62828; --skip: #9a6700; --err: #8250df; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1160px; padding: 24px; color: var(--ink); background: #fff;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK TC",
       "Microsoft JhengHei", "PingFang TC", sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-top: 12px; border-top: 2px solid var(--line); }
.sub, .muted, figcaption, .note { color: var(--muted); }
.score { font-size: 30px; font-weight: 700; margin: 8px 0 0; }
.score small { font-size: 15px; font-weight: 400; color: var(--muted); margin-left: 8px; }
.box { border-left: 4px solid var(--fail); background: #fff5f5; padding: 8px 12px; margin: 12px 0; }
.pending { border-left-color: var(--skip); background: #fff8e5; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px;
         border-bottom: 1px solid var(--line); }
th { font-size: 13px; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.status { white-space: nowrap; font-weight: 600; }
.passed { color: var(--pass); } .failed { color: var(--fail); }
.not_run { color: var(--skip); } .error { color: var(--err); }
.tag { display: inline-block; font-size: 12px; padding: 0 6px; border-radius: 8px;
       background: #eee; color: var(--muted); margin-left: 6px; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
dl { margin: 4px 0 0; display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; }
dt { color: var(--muted); }
dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere;
     font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
dd.hint { font-family: inherit; font-size: 14px; }
.badge { font-weight: 600; }
.yes { color: var(--pass); } .no { color: var(--fail); } .unknown { color: var(--muted); }
figure { margin: 14px 0; }
figure p.note { margin: 4px 0 0; font-size: 14px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
.plots { display: flex; flex-wrap: wrap; gap: 0 24px; align-items: flex-start; }
.plots .curves { flex: 0 1 652px; } .plots .boundary { flex: 0 1 422px; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, 212px); gap: 10px 8px; }
.panel { margin: 0; } .panel figcaption { color: var(--ink); font-weight: 600; font-size: 14px; }
.panel p.note { font-size: 12px; line-height: 1.3; }
.legend { list-style: none; padding: 0; margin: 6px 0 0; display: flex; flex-wrap: wrap;
          gap: 4px 16px; font-size: 14px; }
.swatch { display: inline-block; width: 22px; height: 4px; vertical-align: middle;
          margin-right: 6px; border-radius: 2px; }
.swatch.dashed { height: 0; border-top: 3px dashed currentColor; border-radius: 0; }
footer { margin-top: 40px; font-size: 12px; color: var(--muted); }
"""
