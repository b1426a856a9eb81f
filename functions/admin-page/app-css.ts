// The admin page's stylesheet: system fonts only (no downloads), visible focus everywhere,
// colours with at least 4.5:1 contrast, and a layout that works from a phone to a wide screen.
export const APP_CSS = `:root{--ink:#1b1f24;--muted:#4b5563;--line:#c9ced6;--bg:#f5f6f8;--card:#fff;--accent:#0b57d0;--ok:#0a6b2d;--bad:#a4161a;--warn:#8a4b00;--focus:#ffbf47;color-scheme:light}
*{box-sizing:border-box}
html{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
body{margin:0}
main{max-width:52rem;margin:0 auto;padding:0 1rem 3rem}
main:focus{outline:none}
.top{max-width:52rem;margin:0 auto;padding:1.5rem 1rem .5rem;display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem 1rem}
.top h1{margin:0;font-size:1.6rem;flex:1 1 auto}
.crumb{margin:0;width:100%;color:var(--muted);font-size:.9rem}
.session{color:var(--muted);font-size:.9rem}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem;z-index:2}
.skip:focus{left:1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
h2{font-size:1.25rem;margin:.25rem 0 1rem}
h3{font-size:1.05rem;margin:.5rem 0}
fieldset{border:1px solid var(--line);border-radius:6px;margin:0 0 1rem;padding:.75rem 1rem}
legend{font-weight:600;padding:0 .35rem}
fieldset fieldset{margin-top:1rem}
.field{margin:0 0 .9rem}
.field>label,.row label{display:block;font-weight:600;margin-bottom:.2rem}
.field.check{display:grid;grid-template-columns:auto 1fr;gap:0 .5rem;align-items:start}
.field.check>label{font-weight:400;margin:0}
.field.check .hint,.field.check .error{grid-column:2}
.field.inline{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}
.field.inline label{margin:0}
.row{display:flex;flex-wrap:wrap;gap:0 1.5rem}
.row>.field{flex:1 1 14rem}
.choices{display:flex;flex-wrap:wrap;gap:.35rem 1.5rem}
.choices label{font-weight:400;display:inline-flex;gap:.4rem;align-items:center}
input[type=text],input[type=password],input[type=url],input[type=email],input:not([type]),select{font:inherit;color:inherit;width:100%;max-width:36rem;padding:.4rem .55rem;border:1px solid #6b7280;border-radius:4px;background:#fff}
input.short{max-width:9rem}
.cluster input{width:auto;min-width:14rem}
input[readonly]{background:var(--bg)}
input[type=checkbox],input[type=radio]{width:1.15rem;height:1.15rem;margin:.2rem 0 0;accent-color:var(--accent)}
input[aria-invalid=true],select[aria-invalid=true]{border:2px solid var(--bad)}
button{font:inherit;padding:.45rem 1rem;border:1px solid var(--accent);border-radius:4px;background:#fff;color:var(--accent);cursor:pointer}
button.primary{background:var(--accent);color:#fff}
button.link{border:0;padding:0;background:none;text-decoration:underline}
button:disabled{opacity:.6;cursor:progress}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px;box-shadow:0 0 0 5px var(--ink)}
a{color:var(--accent)}
.hint{margin:.2rem 0 0;color:var(--muted);font-size:.9rem}
.error{margin:.25rem 0 0;color:var(--bad);font-weight:600}
.error::before{content:"⚠ "}
.status{margin:.5rem 0 0;min-height:1.5em}
.status.ok{color:var(--ok)}
.status.bad{color:var(--bad)}
.summary{border:3px solid var(--bad);border-radius:6px;padding:.5rem 1rem;margin:0 0 1rem}
.summary h3{color:var(--bad)}
.summary ul{margin:.25rem 0;padding-left:1.25rem}
.group{border-left:3px solid var(--line);padding-left:1rem;margin-top:.75rem}
.copy{display:flex;gap:.5rem;max-width:36rem}
.copy input{flex:1}
.secret-state{display:inline-block;font-weight:400;font-size:.8rem;padding:0 .4rem;border-radius:9px;background:var(--bg);border:1px solid var(--line);margin-left:.35rem}
.secret-state.set{color:var(--ok);border-color:var(--ok)}
.oauth{border:1px solid var(--line);border-radius:6px;padding:.5rem 1rem;margin-top:1rem}
.oauth .good{color:var(--ok);font-weight:600}
.oauth .needs{color:var(--warn);font-weight:600}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1rem}
.result-ok{color:var(--ok);font-weight:600}
.result-bad{color:var(--bad);font-weight:600}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
details{margin-top:.75rem}
summary{cursor:pointer;font-weight:600}
pre{background:#111827;color:#f3f4f6;padding:.75rem;border-radius:4px;overflow:auto;font-size:.85rem;max-height:24rem}
code{font-size:.9em;background:var(--bg);padding:0 .2em;border-radius:3px}
.heading-row{display:flex;justify-content:space-between;align-items:center;gap:1rem}
.heading-row h2{margin:0}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin-top:.5rem}
th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid var(--line)}
td.outcome-sent{color:var(--ok);font-weight:600}
td.outcome-failed,td.outcome-rejected{color:var(--bad);font-weight:600}
td.outcome-folded{color:var(--muted);font-weight:600}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.problem{color:var(--bad);font-weight:600}
[hidden]{display:none!important}
@media (prefers-reduced-motion:no-preference){html{scroll-behavior:smooth}}
`;
