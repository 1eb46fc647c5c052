/**
 * The management page's one stylesheet, kept in a module so that `deno compile` embeds it
 * with the code and the binary needs no files beside it.
 *
 * @module
 */

/** Colours of sources in the calendar and its legend, by source index (cycled). */
export const SOURCE_COLOURS = [
  "#2563eb",
  "#db2777",
  "#059669",
  "#d97706",
  "#7c3aed",
  "#0891b2",
  "#dc2626",
  "#65a30d",
  "#4b5563",
  "#c026d3",
] as const;

/** The stylesheet served at `/static/style.css`. */
export const STYLESHEET = `
:root { --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; --ok: #047857;
  --bad: #b91c1c; --warn: #b45309; --accent: #1d4ed8; font-family: system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); font-size: 15px; line-height: 1.4; }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem;
  background: #111827; color: #fff; }
header a { color: #fff; text-decoration: none; }
header .brand { font-weight: 700; }
header nav { display: flex; gap: 1rem; flex: 1; }
header form { margin: 0; }
main { max-width: 1400px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.4rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.1rem; margin: .6rem 0 .5rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .5rem 1rem 1rem;
  margin-bottom: 1rem; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
tr.source td:first-child { padding-left: 2rem; }
.muted { color: var(--muted); }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); }
.error { color: var(--bad); white-space: pre-wrap; }
details.warnings { color: var(--fg); white-space: normal; font-size: .85rem; }
details.warnings summary { cursor: pointer; }
details.warnings ul.reasons { display: flex; gap: 1rem; flex-wrap: wrap; list-style: none;
  padding: 0; margin: .3rem 0; }
details.warnings ol.samples { margin: .3rem 0; padding-left: 1.2rem; }
details.warnings ol.samples .muted { margin: 0 .3rem; }
.notice { background: #ecfdf5; border: 1px solid #a7f3d0; padding: .6rem 1rem; border-radius: 6px; }
.alert { background: #fef2f2; border: 1px solid #fecaca; padding: .6rem 1rem; border-radius: 6px; }
.totals { display: flex; gap: 2rem; font-size: 1.05rem; }
.totals b { font-size: 1.4rem; display: block; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; }
a.button, button { display: inline-block; padding: .3rem .7rem; border-radius: 6px;
  border: 1px solid #d1d5db; background: #fff; color: var(--fg); font: inherit; font-size: .85rem;
  text-decoration: none; cursor: pointer; }
button.primary, a.button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
input[type=text], input[type=password] { padding: .35rem .5rem; border: 1px solid #d1d5db;
  border-radius: 6px; font: inherit; }
form.inline { display: inline-flex; gap: .5rem; align-items: center; margin: .5rem 0 0; }
.narrow { max-width: 34rem; margin: 3rem auto; }
code.secret { display: block; padding: .6rem; background: #f3f4f6; border-radius: 6px;
  word-break: break-all; user-select: all; }
.cal-head { display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; }
.cal-head h2 { margin: .5rem 0; flex: 1; }
.legend { display: flex; gap: 1rem; flex-wrap: wrap; margin: .5rem 0; font-size: .85rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 3px; margin-right: .3rem;
  vertical-align: -1px; }
.week { display: grid; grid-template-columns: 3rem repeat(7, 1fr); }
.week .dayname { text-align: center; font-weight: 600; padding: .3rem; border-bottom: 1px solid var(--line); }
.week .dayname.today { color: var(--accent); }
.week .allday { border-bottom: 1px solid var(--line); border-left: 1px solid var(--line); min-height: 1.6rem;
  padding: 2px; }
.week .hours { position: relative; height: 960px; }
.week .hour { position: absolute; left: 0; right: 0; border-top: 1px solid var(--line);
  font-size: .7rem; color: var(--muted); }
.week .col { position: relative; height: 960px; border-left: 1px solid var(--line);
  background: repeating-linear-gradient(#fff 0 39px, var(--line) 39px 40px); }
.event { position: absolute; overflow: hidden; border-radius: 4px; padding: 1px 4px; font-size: .75rem;
  color: #fff; border-left: 4px solid rgba(0,0,0,.25); }
.event.tentative { opacity: .65; }
.chip { display: block; border-radius: 4px; padding: 1px 4px; margin: 1px 0; font-size: .75rem; color: #fff;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.month { display: grid; grid-template-columns: repeat(7, 1fr); border-left: 1px solid var(--line);
  border-top: 1px solid var(--line); }
.month .dayname { font-weight: 600; padding: .3rem; border-right: 1px solid var(--line);
  border-bottom: 1px solid var(--line); }
.month .cell { min-height: 6.5rem; padding: 2px 3px; border-right: 1px solid var(--line);
  border-bottom: 1px solid var(--line); }
.month .cell.out { background: #f3f4f6; color: var(--muted); }
.month .cell.today .num { color: #fff; background: var(--accent); border-radius: 999px; padding: 0 .4rem; }
.month .num { font-size: .8rem; }
.activity h3 { font-size: .95rem; margin: .8rem 0 .3rem; }
tr.failed td { background: #fef2f2; }
tr.quiet td { font-size: .85rem; }
`;
