package explorer

// pageTemplate renders the page ("page") and its live part ("content"). Every value comes
// from the chain and is escaped by html/template.
const pageTemplate = `{{define "page"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>genquorum explorer</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;font-size:.9em}
th{background:#f3f3f3}
code{font-size:.85em}
.accepted{color:#070}.no-verdict,.refunded{color:#a00}
img.artifact{width:84px;height:84px;image-rendering:pixelated;border:1px solid #ccc}
pre.artifact{max-width:40em;white-space:pre-wrap;margin:0}
</style></head>
<body><h1>genquorum explorer</h1>
<div id="content">{{template "content" .}}</div>
<script>
// Live update: fetch the content every two seconds and swap it in. Artifacts already shown
// are kept (they do not change once a task is settled).
async function refresh() {
  try {
    const r = await fetch("content", {cache: "no-store"});
    if (r.ok) {
      const kept = {};
      document.querySelectorAll("[data-artifact]").forEach(e => { if (e.dataset.loaded) kept[e.dataset.artifact] = e; });
      document.getElementById("content").innerHTML = await r.text();
      document.querySelectorAll("[data-artifact]").forEach(e => {
        const k = kept[e.dataset.artifact]; if (k) e.replaceWith(k);
      });
      loadArtifacts();
    }
  } catch (e) {}
  setTimeout(refresh, 2000);
}
// Text artifacts are fetched and shown as text (textContent: never parsed as HTML).
function loadArtifacts() {
  document.querySelectorAll("pre[data-artifact]:not([data-loaded])").forEach(async e => {
    e.dataset.loaded = "1";
    const r = await fetch("artifact/" + e.dataset.artifact);
    e.textContent = r.ok ? await r.text() : "(not available: " + r.status + ")";
  });
}
loadArtifacts();
setTimeout(refresh, 2000);
</script>
</body></html>{{end}}

{{define "content"}}
<p id="height">height <b>{{.Height}}</b>{{if .Agreement}} · agreement {{.Agreement}}{{end}}</p>
{{range .Errors}}<p class="error">{{.}}</p>{{end}}
<h2>Tasks</h2>
<table id="tasks"><tr><th>task</th><th>kind / model</th><th>prompt</th><th>status</th><th>verdict</th><th>odds</th><th>executors</th><th>artifact</th></tr>
{{range .Tasks}}<tr class="task" data-task="{{.ID}}">
<td><code>{{short .ID}}</code><br>round {{.Round}}</td>
<td>{{.Kind}}<br>{{.Model}}</td>
<td class="prompt">{{.PromptText}}</td>
<td class="status {{.Status}}">{{.Status}}{{if .Reason}}<br>{{.Reason}}{{end}}{{if .Check}}<br><small class="check">{{.Check}}</small>{{end}}</td>
<td class="verdict">{{if .Value}}<code>{{.Value}}</code><br>{{.Support}} of {{len .Executors}} (need {{.Need}}, {{.Rule}}){{else}}-{{end}}</td>
<td class="odds">{{if .Odds}}{{.Odds}}{{else}}-{{end}}{{if .Guess}}<br>a guess passes &le; {{.Guess}}<br><small class="policy">{{.PolicyNote}}</small>{{end}}</td>
<td><table>{{range .Executors}}<tr><td><code>{{short .Node}}</code></td><td class="outcome">{{.Outcome}}</td><td><code>{{.Fingerprint}}</code></td></tr>{{end}}</table></td>
<td>{{if .Value}}{{if eq .Kind "image"}}<img class="artifact" alt="artifact" src="artifact/{{.ID}}">{{else}}<pre class="artifact" data-artifact="{{.ID}}">loading…</pre>{{end}}{{end}}</td>
</tr>{{else}}<tr><td colspan="8">no tasks yet</td></tr>{{end}}
</table>
<h2>Nodes</h2>
<table id="nodes"><tr><th>node</th><th>stake</th><th>record</th><th>profile / class</th><th>engines</th><th>models</th><th>open / capacity</th><th>jailed</th></tr>
{{range .Nodes}}<tr class="node"><td><code>{{short .Key}}</code></td><td>{{.Stake}}</td>
<td>{{printf "%+v" .Record}}</td><td>{{.Hardware}} / {{.Class}}</td>
<td>{{range .Engines}}{{.}} {{end}}</td><td>{{range .Models}}{{.}} {{end}}</td>
<td>{{.Open}} / {{.Capacity}}</td><td class="jailed">{{if .Jailed}}jailed ({{.Missed}} missed){{else}}no{{end}}</td></tr>
{{else}}<tr><td colspan="8">no nodes</td></tr>{{end}}
</table>
<h2>Blocks</h2>
<table id="blocks"><tr><th>height</th><th>txs</th><th>events</th></tr>
{{range .Blocks}}<tr><td>{{.Height}}</td><td>{{.Txs}}</td><td>{{range $k, $v := .Events}}{{$k}}: {{$v}} {{end}}</td></tr>{{end}}
</table>
{{end}}`
